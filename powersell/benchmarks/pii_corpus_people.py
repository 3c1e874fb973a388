"""People in the labelled corpus: names, street addresses, social handles, phone numbers
outside the numbering plan and parcel tracking numbers, and the look-alikes that must stay.

Written from how buyers and sellers write on the marketplaces, not from any detector:
Vietnamese kinship address forms before a name ("giao cho anh Nguyễn Văn An", chat
shorthands "c Lan", "a Tuấn"), the same typed without accents and in lower case; Thai
titles glued to the name or not ("คุณสมชาย", "นาย สมชาย", "น.ส.วรรณา"); English titles and
context ("Attn:", "c/o", "deliver to Mr"). Addresses label the part that finds a household
(house number, lane, street, apartment, building); ward, district, province, postal code
and country are left unlabelled, as the redacted schemas keep the region anyway.

The look-alikes are the hard negatives: shops, brands, places and streets named like people
(Nguyễn Kim, Calvin Klein, An Giang, Phú Quốc), streets with no house number, kinship words
used as pronouns ("anh chị em", "Chị ơi"), Thai words that begin like a title ("คุณภาพ",
"นายหน้า"), hashtags and "@ price" quantities.

Every value generator returns segments (text, role, kind) like powersell.benchmarks.pii_corpus's slots.
"""

from __future__ import annotations

import random
import string
import unicodedata

import phonenumbers

Seg = tuple[str, "str | None", "str | None"]


def _pii(text: str, kind: str) -> Seg:
    return text, "pii", kind


def _keep(text: str, kind: str) -> Seg:
    return text, "keep", kind


def _lit(text: str) -> Seg:
    return text, None, None


def _ascii(s: str) -> str:
    """Vietnamese as typed without accents: "Nguyễn Văn Đạt" -> "Nguyen Van Dat"."""
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


# ---------------------------------------------------------------------------------------- names

VN_FAMILY = ["Nguyễn"] * 8 + ["Trần"] * 3 + ["Lê"] * 3 + [
    "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương",
    "Đinh", "Lâm", "Mai", "Cao", "Tạ", "Hà", "Chu", "Tô", "Lương", "Đoàn", "Vương", "Trịnh", "Quách", "Kiều"]
VN_MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Thanh", "Quốc", "Hoàng", "Thu", "Đức", "Gia", "Bảo", "Hữu", "Kim",
             "Xuân", "Thùy", "Công", "Đình", "Phương", "Khánh", "Tuấn", "Mỹ", "Hải"]
VN_GIVEN = ["An", "Lan", "Tuấn", "Hà", "Anh", "Mai", "Bảo", "Hân", "Linh", "Hùng", "Dũng", "Trang", "Phương", "Nam",
            "Khoa", "Vy", "Thảo", "Long", "Quân", "Nhi", "Hương", "Huyền", "Tâm", "Sơn", "Hiếu", "Duy", "Ngân",
            "Yến", "Loan", "Thủy", "Cường", "Phúc", "Tú", "Giang", "Hạnh", "Nhung", "Đạt", "Trinh", "Quyên", "Khuê",
            "Diệp", "Thư", "Châu", "Uyên", "Lộc", "Tín", "Nguyên", "Kha", "Đan", "Xuyến"]
# Address forms written before a name; the chat shorthands only in lower-case chat.
VN_HONORIFICS = ["anh", "chị", "em", "cô", "chú", "bác", "ông", "bà", "bạn"]
VN_SHORTHANDS = ["a", "c", "e"]

TH_GIVEN_MALE = ["สมชาย", "ณัฐพล", "ปิยะพงษ์", "อนุชา", "ชัยวัฒน์", "กิตติพัฒน์", "วีระ", "ปัณณวัฒน์", "ธีรศักดิ์", "เอกชัย",
                 "ภูมิพัฒน์", "ธนากร", "สมศักดิ์", "ประยุทธ"]
TH_GIVEN_FEMALE = ["สมใจ", "วรรณา", "กมลชนก", "สุดารัตน์", "พิมพ์ชนก", "ธนพร", "ศิริพร", "นภัสสร", "มะลิ", "อรอุมา",
                   "จิราพร", "พรทิพย์", "สุภาวดี", "ณิชา", "รัชนี", "บุญเรือน", "ปวีณา", "วิไลวรรณ"]
TH_FAMILY = ["ใจดี", "รักไทย", "ศรีสุข", "วงศ์ใหญ่", "ทองดี", "แสงทอง", "บุญมา", "สุขสวัสดิ์", "เพชรรัตน์",
             "จันทร์เพ็ญ", "แก้วมณี", "ศรีวงศ์", "พรหมมา", "ชัยมงคล", "สายสุวรรณ", "อินทร์แก้ว", "ปัญญาดี",
             "เรืองศรี", "มีสุข", "ทองคำ"]
TH_TITLES_MALE = ["คุณ"] * 5 + ["นาย"] * 3 + ["ด.ช."]
TH_TITLES_FEMALE = ["คุณ"] * 5 + ["นาง", "นางสาว", "นางสาว", "น.ส.", "น.ส.", "ด.ญ."]

EN_FIRST_MALE = ["John", "David", "Michael", "Kenji", "James", "Daniel", "Thomas", "Ryan", "Lucas", "Arjun", "Wei",
                 "Oliver", "Peter", "Marcus"]
EN_FIRST_FEMALE = ["Emma", "Sarah", "Anna", "Grace", "Olivia", "Sophie", "Chloe", "Hannah", "Mei", "Priya", "Nadia",
                   "Jane", "Laura", "Isabel"]
EN_FIRST = EN_FIRST_MALE + EN_FIRST_FEMALE
EN_LAST = ["Smith", "Miller", "Wilson", "Tan", "Lim", "Brown", "Schmidt", "Sato", "Lee", "Taylor", "Johnson",
           "Walsh", "Nguyen", "Chen", "Wong", "Patel", "Kowalski", "Murphy", "Fischer", "Dubois", "Ong", "Harris",
           "Doe", "Carter", "Reyes", "Novak"]
EN_TITLES_MALE = ["Mr", "Mr.", "Mr", "Dr", "Dr."]
EN_TITLES_FEMALE = ["Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Dr"]
TH_ROMAN = ["Somchai", "Wanna", "Nattapon", "Siriporn", "Anucha", "Thanaporn", "Chaiwat", "Pimchanok", "Kittipat"]
TH_ROMAN_LAST = ["Jaidee", "Srisuk", "Wongyai", "Thongdee", "Saengthong", "Boonma", "Suksawat", "Petcharat"]

# ---------------------------------------------------------------------------------------- places and streets

VN_STREETS = ["Nguyễn Trãi", "Lê Lợi", "Trần Hưng Đạo", "Điện Biên Phủ", "Cách Mạng Tháng 8", "Hai Bà Trưng",
              "Lý Thường Kiệt", "Phan Xích Long", "Nguyễn Văn Linh", "Võ Văn Tần", "Hoàng Quốc Việt", "Lê Văn Sỹ",
              "Nguyễn Thị Minh Khai", "Trường Chinh", "Quang Trung", "Phạm Văn Đồng", "Kim Mã", "Xuân Thủy",
              "Bạch Đằng", "Hùng Vương", "Nguyễn Văn Cừ", "Lạc Long Quân", "Tô Hiến Thành", "Bà Triệu"]
VN_COMPLEXES = ["Vinhomes Central Park", "Times City", "Sunrise City", "The Sun Avenue", "Masteri Thảo Điền",
                "Ecopark", "Royal City", "Đại lộ Bình Dương", "Hoàng Anh Gia Lai", "Linh Đàm", "Ehome 3"]
VN_AREAS = [("Hoàn Kiếm", "Hà Nội"), ("Cầu Giấy", "Hà Nội"), ("Đống Đa", "Hà Nội"), ("Thanh Xuân", "Hà Nội"),
            ("Quận 1", "TP.HCM"), ("Quận 3", "TP. Hồ Chí Minh"), ("Bình Thạnh", "TP.HCM"), ("Gò Vấp", "TP.HCM"),
            ("Quận 7", "TP.HCM"), ("Hải Châu", "Đà Nẵng"), ("Ninh Kiều", "Cần Thơ"), ("Thủ Dầu Một", "Bình Dương"),
            ("Biên Hòa", "Đồng Nai"), ("TP. Nha Trang", "Khánh Hòa")]
VN_WARDS = ["Phường Bến Nghé", "P. 7", "Phường 12", "Phường Dịch Vọng", "P. Thượng Đình", "Phường Hiệp Thành",
            "Phường Tân Phong", "P. Hải Châu 1", "Phường An Khánh", "Phường 15"]
TH_ROADS = ["สุขุมวิท", "พหลโยธิน", "รัชดาภิเษก", "ลาดพร้าว", "เพชรบุรี", "สีลม", "นิมมานเหมินท์", "มิตรภาพ", "เจริญกรุง",
            "แจ้งวัฒนะ", "รามคำแหง", "ศรีนครินทร์"]
TH_CONDOS = ["ลุมพินี วิลล์", "ศุภาลัย ปาร์ค", "เดอะ ไลน์", "ไอดีโอ โมบิ", "แอสปาย", "พลัม คอนโด", "ยู ดีไลท์"]
TH_AREAS = ["แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพฯ 10110", "แขวงลาดยาว เขตจตุจักร กทม. 10900",
            "ต.ช้างเผือก อ.เมือง จ.เชียงใหม่ 50300", "ต.บางพลีใหญ่ อ.บางพลี จ.สมุทรปราการ 10540",
            "ตำบลในเมือง อำเภอเมืองขอนแก่น จังหวัดขอนแก่น 40000", "ต.หาดใหญ่ อ.หาดใหญ่ จ.สงขลา 90110",
            "ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี", "เขตบางรัก กรุงเทพมหานคร", "จ.ชลบุรี 20110"]
EN_STREETS = ["Baker Street", "Orchard Road", "Oxford Street", "High Street", "Nguyen Trai Street", "Le Loi Street",
              "Sukhumvit Road", "Silom Road", "Marina Boulevard", "King's Road", "Nathan Road", "Church Street",
              "Pham Ngu Lao St", "Ton Duc Thang Street"]
EN_AREAS = ["London NW1 6XE", "Singapore 238823", "District 1, Ho Chi Minh City", "Bangkok 10110", "Hanoi",
            "Manchester M1 1AE", "Kowloon, Hong Kong", "Khlong Toei, Bangkok", "Ba Dinh, Hanoi", "Penang 10200"]

# ---------------------------------------------------------------------------------------- look-alikes

VN_STORES = ["Nguyễn Kim", "Điện Máy Xanh", "Thế Giới Di Động", "FPT Shop", "Hoàng Hà Mobile", "Phong Vũ",
             "Trung Nguyên", "Phúc Long", "Kim Đồng", "Bách Hóa Xanh", "Biti's"]
VN_FOODS = ["Bánh Kinh Đô", "bánh Kinh Đô", "Kẹo Hải Hà", "Bánh Hữu Nghị", "mì Hảo Hảo", "nước mắm Nam Ngư"]
VN_PLACES_LOOKALIKE = ["An Giang", "Hòa Bình", "Phú Quốc", "Bình Dương", "Thái Bình", "Quảng Ngãi", "Hội An",
                       "Vĩnh Long", "Long An", "Hà Giang", "Tây Ninh", "Gia Lai"]
VN_PHRASES = ["Tiếng Anh", "tiếng Anh", "anh chị em", "Anh chị em", "các anh chị", "Chị ơi", "Anh ơi", "Em ơi",
              "em gái", "anh trai", "chị gái", "bà ngoại", "ông nội", "cô giáo"]
EN_BRANDS = ["Calvin Klein", "Ralph Lauren", "Johnnie Walker", "Harry Potter", "Tommy Hilfiger", "Michael Kors",
             "Kate Spade", "Marc Jacobs", "Hugo Boss", "Louis Vuitton", "Jack Daniel's", "Estée Lauder",
             "Paul Smith", "Victoria's Secret", "Dr. Martens", "Ben & Jerry's"]
EN_PLACES = ["Central World", "Ho Chi Minh City", "Phu Quoc", "Chiang Mai", "Marina Bay Sands", "Siam Paragon",
             "Hoi An", "Ha Long Bay", "Saint Petersburg", "Victoria Harbour", "San Jose"]
TH_BRANDS = ["เซ็นทรัลเวิลด์", "สยามพารากอน", "ไอคอนสยาม", "ศรีจันทร์", "แม่ประนอม", "มิสทิน", "เทสโก้ โลตัส",
             "ตรามือ", "เถ้าแก่น้อย", "เจ้าสัว"]
TH_PLACES_LOOKALIKE = ["เชียงใหม่", "ภูเก็ต", "พัทยา", "หาดใหญ่", "หัวหิน", "ขอนแก่น", "นครปฐม", "อุดรธานี"]
# Words that begin like a title (คุณ, นาย, นาง) and are not one.
TH_QUALITY_WORDS = ["คุณภาพ", "คุณสมบัติ", "คุณประโยชน์"]          # quality, features, benefits
TH_ROLE_WORDS = ["คุณแม่", "คุณพ่อ", "คุณลูกค้า", "คุณยาย", "คุณครู"]  # mum, dad, dear customer, grandma, teacher

# ---------------------------------------------------------------------------------------- phones and parcels

# Phone-shaped numbers outside the numbering plans: Vietnam's old 11-digit mobile prefixes
# (renumbered in 2018 and still in old notes), unallocated mobile blocks, landline
# subscriber numbers outside the allocated ranges, Thai numbers on unallocated prefixes.
_OOP_VN_OLD = ["0162", "0163", "0164", "0165", "0166", "0167", "0168", "0169", "0120", "0121", "0122", "0126",
               "0128", "0123", "0124", "0125", "0127", "0129", "0186", "0188", "0199"]
_OOP_VN_BLOCKS = ["050", "051", "053", "054", "055", "057", "060", "061", "062", "063", "064", "065", "066", "067",
                  "068", "069", "071", "072", "073", "074", "075", "080", "087", "092", "095"]
_OOP_VN_AREAS = ["028", "024", "0236", "0251", "0274", "0292"]
_OOP_TH = ["070", "071", "072", "079", "078", "010", "011", "012", "015", "016"]

_CARRIERS_VN = ["GHN", "GHTK", "J&T", "J&T Express", "SPX", "Shopee Express", "Viettel Post", "VNPost", "EMS",
                "Ninja Van", "Best Express"]
_CARRIERS_TH = ["Kerry", "Kerry Express", "Flash", "Flash Express", "J&T", "SPX", "ไปรษณีย์ไทย", "EMS", "Ninja Van"]


def s10_check_digit(serial: str) -> int:
    """UPU S10: weights 8 6 4 2 3 5 9 7 over the 8-digit serial, 11 minus the sum mod 11; 10 -> 0, 11 -> 5."""
    total = sum(int(c) * w for c, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7)))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def is_s10(value: str) -> bool:
    return (len(value) == 13 and value[:2].isalpha() and value[11:].isalpha() and value[2:11].isdigit()
            and s10_check_digit(value[2:10]) == int(value[10]))


def outside_numbering_plan(number: str) -> bool:
    """Neither Vietnam's nor Thailand's numbering plan (phonenumbers) takes it; numbers with a
    country code are checked against that country's plan."""
    number = "".join(str(int(c)) if c.isdigit() else c for c in number)  # full-width and Thai digits
    for region in ("VN", "TH"):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                return False
        except phonenumbers.NumberParseException:
            pass
    return True


class PeopleValues:
    """Segments for the new kinds; `r` is the corpus's seeded Random."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def d(self, n: int, first: str = "0123456789") -> str:
        return self.r.choice(first) + "".join(self.r.choice(string.digits) for _ in range(n - 1))

    # ---- names: (honorific or title as a literal, the name labelled NAME)
    def vn_full(self) -> str:
        r = self.r
        fam, giv = r.choice(VN_FAMILY), r.choice(VN_GIVEN)
        x = r.random()
        if x < 0.65:
            return f"{fam} {r.choice(VN_MIDDLE)} {giv}"
        if x < 0.8:
            return f"{fam} {giv}"
        return f"{fam} {r.choice(VN_MIDDLE)} {r.choice(VN_MIDDLE)} {giv}"

    def vn_person(self, form: str = "any") -> list[Seg]:
        """"anh Nguyễn Văn An", "chị Lan", "Trần Thị Mai", "c Hà" (shorthand)."""
        r = self.r
        form = form if form != "any" else r.choice(["hon_full", "hon_given", "hon_given", "full", "short"])
        if form == "full":
            return [_pii(self.vn_full(), "NAME")]
        if form == "short":
            return [_lit(r.choice(VN_SHORTHANDS) + " "), _pii(r.choice(VN_GIVEN), "NAME")]
        hon = r.choice(VN_HONORIFICS)
        name = self.vn_full() if form == "hon_full" else r.choice(VN_GIVEN)
        if form == "hon_given" and r.random() < 0.15:  # "chị Mai Anh": a two-word given name
            name = f"{r.choice(VN_MIDDLE)} {name}"
        return [_lit(hon + " "), _pii(name, "NAME")]

    def th_person(self, titled: bool = True) -> list[Seg]:
        """"คุณสมชาย ใจดี", "นาย สมชาย", "น.ส.วรรณา ศรีสุข": title glued or spaced."""
        r = self.r
        male = r.random() < 0.5
        given = r.choice(TH_GIVEN_MALE if male else TH_GIVEN_FEMALE)
        name = given + (" " + r.choice(TH_FAMILY) if r.random() < 0.6 else "")
        if not titled:
            return [_pii(name, "NAME")]
        title = r.choice(TH_TITLES_MALE if male else TH_TITLES_FEMALE)
        return [_lit(title + r.choice(["", "", " "])), _pii(name, "NAME")]

    def en_person(self, titled: bool | None = None) -> list[Seg]:
        r = self.r
        titled = r.random() < 0.4 if titled is None else titled
        x, male = r.random(), r.random() < 0.5
        if x < 0.15:
            name = f"{r.choice(TH_ROMAN)} {r.choice(TH_ROMAN_LAST)}"
        elif x < 0.3:
            name = _ascii(self.vn_full())  # Vietnamese names as they are typed in English
        else:
            name = f"{r.choice(EN_FIRST_MALE if male else EN_FIRST_FEMALE)} {r.choice(EN_LAST)}"
        if titled:
            if r.random() < 0.3:
                name = name.split()[-1]  # "Mrs. Tan"
            return [_lit(r.choice(EN_TITLES_MALE if male else EN_TITLES_FEMALE) + " "), _pii(name, "NAME")]
        return [_pii(name, "NAME")]

    def en_given(self) -> list[Seg]:
        return [_pii(self.r.choice(EN_FIRST), "NAME")]

    # ---- street addresses: (the household part labelled ADDRESS, the region unlabelled)
    def vn_street_part(self) -> str:
        r = self.r
        n, m, street = r.randint(1, 499), r.randint(1, 99), r.choice(VN_STREETS)
        return self.r.choices([
            f"{n} {street}", f"{n}/{m} {street}", f"{n}/{m}/{r.randint(1, 20)} {street}",
            f"số {r.randint(1, 150)} ngõ {r.randint(2, 300)} {street}", f"Số {r.randint(1, 150)} ngõ {r.randint(2, 300)}",
            f"số {r.randint(1, 80)} ngách {r.randint(2, 90)}/{r.randint(2, 40)} ngõ {r.randint(2, 300)} {street}",
            f"{n}/{m} hẻm {r.randint(2, 400)} {street}", f"hẻm {r.randint(2, 400)} {street}",
            f"K{r.randint(2, 400)}/{m} {street}", f"{n}A {street}", f"{n} đường {street}",
            f"Căn hộ {r.choice('ABCS')}{r.randint(1, 9)}-{r.randint(1000, 39999)}, chung cư {r.choice(VN_COMPLEXES)}",
            f"Tòa {r.choice('ABCDS')}{r.randint(1, 9)} phòng {r.randint(2, 35)}{r.randint(1, 20):02d}",
            f"Phòng {r.randint(2, 35)}{r.randint(1, 20):02d} tòa {r.choice('ABCDS')}{r.randint(1, 9)} "
            f"{r.choice(VN_COMPLEXES)}"],
            [14, 12, 4, 8, 3, 3, 6, 2, 2, 3, 5, 5, 4, 4])[0]

    def vn_address(self, region: float = 0.7) -> list[Seg]:
        r = self.r
        segs = [_pii(self.vn_street_part(), "ADDRESS")]
        if r.random() < region:
            district, city = r.choice(VN_AREAS)
            rest = r.choice([f", {district}", f", {r.choice(VN_WARDS)}, {district}, {city}", f", {district}, {city}",
                             f" {r.choice(VN_WARDS)} {district}", f", {city}"])
            segs.append(_lit(rest))
        return segs

    def th_street_part(self) -> str:
        r = self.r
        n, m = r.randint(1, 399), r.randint(1, 150)
        return r.choices([
            f"{n}/{m} ซอยสุขุมวิท {r.randint(1, 101)}", f"{n}/{m} ถนน{r.choice(TH_ROADS)}", f"{n}/{m} ถ.{r.choice(TH_ROADS)}",
            f"บ้านเลขที่ {n}/{m} ถนน{r.choice(TH_ROADS)}", f"{n} หมู่ {r.randint(1, 15)}", f"{n}/{m} หมู่ {r.randint(1, 15)}",
            f"{n}/{m} ม.{r.randint(1, 15)}", f"{n}/{m} ซ.{r.choice(TH_ROADS)} {r.randint(1, 60)}",
            f"บ้านเลขที่ {n} หมู่ที่ {r.randint(1, 15)}",
            f"คอนโด{r.choice(TH_CONDOS)} ห้อง {r.randint(1, 99)}/{r.randint(1, 999)}",
            f"ห้อง {r.randint(2, 35)}{r.randint(1, 20):02d} ชั้น {r.randint(2, 35)} คอนโด{r.choice(TH_CONDOS)}"],
            [14, 12, 6, 8, 8, 8, 4, 5, 4, 6, 4])[0]

    def th_address(self, region: float = 0.7, postcode: bool = True) -> list[Seg]:
        segs = [_pii(self.th_street_part(), "ADDRESS")]
        if self.r.random() < region:
            area = self.r.choice(TH_AREAS)
            segs.append(_lit(" " + (area if postcode else area.rstrip(" 0123456789"))))
        return segs

    def en_street_part(self) -> str:
        r = self.r
        n, street = r.randint(1, 250), r.choice(EN_STREETS)
        return r.choices([
            f"{n} {street}", f"{n}{r.choice('ABC')} {street}", f"Flat {r.randint(1, 40)}, {n} {street}",
            f"Apt {r.randint(1, 30)}{r.choice('ABCD')}, {n} {street}", f"Unit {r.randint(2, 30):02d}-{r.randint(1, 20):02d}, "
            f"{n} {street}", f"{n}/{r.randint(1, 60)} Soi Sukhumvit {r.randint(1, 101)}",
            f"Room {r.randint(2, 35)}{r.randint(1, 20):02d}, Tower {r.choice('ABC')}{r.randint(1, 5)}, "
            f"{r.choice(['Vinhomes Central Park', 'Times City', 'Lumpini Ville'])}"],
            [30, 8, 10, 10, 6, 6, 5])[0]

    def en_address(self, region: float = 0.7) -> list[Seg]:
        segs = [_pii(self.en_street_part(), "ADDRESS")]
        if self.r.random() < region:
            segs.append(_lit(", " + self.r.choice(EN_AREAS)))
        return segs

    # ---- handles
    def handle_forms(self, h: str, lang: str) -> list[Seg]:
        """A handle as written: "@lan.nguyen", "tiktok @x", "IG: x", "fb x", "fb.com/x"."""
        r = self.r
        form = r.choices(["at", "tiktok", "ig", "fb", "fburl", "insta"], [30, 15, 15, 12, 15, 13])[0]
        if form == "at":
            return [_pii("@" + h, "HANDLE")]
        if form == "tiktok":
            return [_lit(r.choice(["tiktok ", "TikTok ", "tik tok ", "kênh tiktok " if lang == "vi" else "tiktok "])),
                    _pii("@" + h, "HANDLE")]
        if form == "ig":
            return [_lit(r.choice(["IG: ", "ig ", "IG ", "ig: "])), _pii(r.choice(["", "@"]) + h, "HANDLE")]
        if form == "insta":
            return [_lit(r.choice(["insta ", "Instagram: ", "insta: "])), _pii(h, "HANDLE")]
        if form == "fb":
            return [_lit(r.choice(["fb ", "FB: ", "fb: ", "facebook "])), _pii(h, "HANDLE")]
        return [_pii(r.choice(["fb.com/", "facebook.com/", "www.facebook.com/"]) + h, "HANDLE")]

    # ---- phones outside the numbering plan
    def oop_phone(self, lang: str) -> str:
        r = self.r
        while True:
            kind = r.choices(["old", "block", "area", "th"], [30, 25, 25, 20] if lang != "th" else [5, 5, 5, 85])[0]
            if kind == "old":
                prefix = r.choice(_OOP_VN_OLD)
                digits = prefix + self.d(7)
                shown = r.choice([digits, f"{digits[:4]} {digits[4:7]} {digits[7:]}", f"{digits[:4]}.{digits[4:7]}.{digits[7:]}",
                                  f"{digits[:5]} {digits[5:8]} {digits[8:]}"])
            elif kind == "block":
                digits = r.choice(_OOP_VN_BLOCKS) + self.d(7)
                shown = r.choice([digits, f"{digits[:4]} {digits[4:7]} {digits[7:]}", f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"])
            elif kind == "area":
                area = r.choice(_OOP_VN_AREAS)
                sub = self.d(11 - len(area), "0129")
                digits = area + sub
                shown = r.choice([f"({area}) {sub[:4]} {sub[4:]}", f"{area} {sub[:4]} {sub[4:]}", f"{area}.{sub[:4]}.{sub[4:]}",
                                  digits])
            else:
                digits = r.choice(_OOP_TH) + self.d(7)
                shown = r.choice([f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}"])
            if outside_numbering_plan(digits):
                return shown

    # ---- parcel tracking numbers: (carrier as written, number)
    def s10(self, country: str) -> str:
        serial = self.d(8)
        return f"{self.r.choice(['EB', 'EE', 'EL', 'RR', 'RB', 'CP', 'VN', 'EF', 'LP'])}{serial}{s10_check_digit(serial)}{country}"

    def tracking(self, lang: str) -> tuple[str, str]:
        r, d = self.r, self.d
        carriers = _CARRIERS_TH if lang == "th" or (lang == "en" and r.random() < 0.5) else _CARRIERS_VN
        carrier = r.choice(carriers)
        country = "TH" if carriers is _CARRIERS_TH else "VN"
        if carrier in ("VNPost", "EMS", "ไปรษณีย์ไทย"):
            return carrier, self.s10(country)
        if carrier == "GHN":
            return carrier, r.choice(["G", "L", "GA", "LB"]) + "".join(r.choice(string.ascii_uppercase + string.digits)
                                                                          for _ in range(r.choice([6, 7])))
        if carrier == "GHTK":
            return carrier, r.choice([f"S{d(8)}.{r.choice(['SG', 'HN', 'DN', 'MB', 'MN'])}{d(2)}.{r.choice('ABCDE')}{d(2)}.{d(9)}",
                                      f"S{d(8)}.{d(9)}"])
        if carrier.startswith("J&T"):
            return carrier, f"8{d(11)}" if country == "VN" else r.choice([f"8{d(11)}", f"6{d(11)}"])
        if carrier.startswith("Kerry"):
            return carrier, r.choice([f"KERDO{d(10)}", f"KEX{d(10)}", f"SHP{d(10)}"])
        if carrier.startswith("Flash"):
            return carrier, f"TH{d(11)}{r.choice(string.ascii_uppercase)}"
        if carrier in ("SPX", "Shopee Express"):
            return carrier, f"SPXVN0{d(11)}" if country == "VN" else f"SPXTH0{d(10)}"
        if carrier == "Viettel Post":
            return carrier, f"{d(12, '123456789')}"
        if carrier == "Ninja Van":
            return carrier, f"NV{country}{r.choice(['SHOPE', 'LZD', 'TTS'])}{d(10)}"
        return carrier, f"BE{d(11)}"  # Best Express


# ---------------------------------------------------------------------------------------- phrases

# {slot}s: name_* / addr / handle / oop / trk / carrier are filled here, the rest by powersell.benchmarks.pii_corpus.
PEOPLE_PHRASES: dict[str, dict[str, list[str]]] = {
    "vi": {
        "NAME": [
            "Giao cho {vn_hon_full} nhé", "Người nhận: {vn_full} - {phone}", "Người nhận là {vn_hon_given} nha shop",
            "Ship cho {vn_short} giúp e", "Nhờ shipper gọi {vn_hon_given} ra lấy hàng", "Gửi {vn_hon_full}, {phone}",
            "Tên người nhận: {vn_full}", "Em là {vn_full}, đặt đơn {order}", "Quà sinh nhật tặng {vn_hon_given}, gói đẹp giúp em",
            "Nhận hàng: {vn_full}", "Người đặt {vn_full}, người nhận {vn_hon_full}", "Để ở bảo vệ, ghi tên {vn_full}",
            "Đơn của {vn_hon_full} ạ", "Mình tên {vn_any}, đặt 2 cái", "giao cho {vn_short} nhe shop",
            "Chuyển khoản tên {vn_upper} nha", "Hàng gửi {vn_hon_given}, không có nhà thì gửi {vn_hon_given}",
            "{vn_hon_given_cap} ơi, hàng về chưa ạ", "KH {vn_full} hẹn giao sau {time}", "ng nhận {vn_any}",
            "người nhận {vn_hon_full} sđt {phone}", "tên {vn_full}", "Đặt hộ {vn_hon_given}, shop gọi trước nhé"],
        "ADDRESS": [
            "Địa chỉ: {vn_addr}", "Giao tới {vn_addr}", "dc {vn_addr}", "Đ/c: {vn_addr}", "Nhà em ở {vn_addr_street} nha",
            "Giao cho {vn_hon_full} ở {vn_addr}", "giao cho {vn_short} o {vn_addr} nhe shop", "Em đổi địa chỉ sang {vn_addr}",
            "Ship về {vn_addr}, gọi trước khi tới", "Giao giờ hành chính đến {vn_addr}", "{vn_addr}",
            "Địa chỉ nhận hàng {vn_addr}, {vn_full}", "Giao tới {vn_addr} - người nhận {vn_hon_given}"],
        "HANDLE": [
            "Liên hệ {vn_handle} nha", "Follow {vn_handle} để nhận voucher", "Ib {vn_handle} để được tư vấn",
            "Kết bạn {vn_handle} nhé", "Tag mình {vn_handle_at} với shop", "Xem video review ở {vn_handle}",
            "liên hệ {vn_handle} hoặc {vn_handle_at}", "Em là {vn_handle_at} đã inbox shop"],
        "PHONE": [
            "gọi {oop} trước khi giao", "sđt {oop}", "SĐT: {oop}", "Hotline {oop}", "zalo {oop} nha shop",
            "ĐT {oop}", "Gọi số cũ {oop} cũng được", "Liên hệ hotline: {oop}", "sdt nguoi nhan {oop}"],
        "TRACKING_NUMBER": [
            "Mã vận đơn {carrier} {trk}", "MVĐ: {trk}", "Đơn đã gửi {carrier}, mã {trk}", "Tra cứu vận đơn {trk} không thấy",
            "check giúp e mã vận đơn {trk}", "Đơn {order} mã vận đơn {trk}", "Mã vận đơn: {trk} ({carrier})",
            "{carrier} báo giao thất bại đơn {trk}", "tracking {trk}"],
    },
    "th": {
        "NAME": [
            "ผู้รับ {th_person}", "ผู้รับ: {th_person} {phone}", "ส่งให้{th_person} ด้วยนะคะ", "ชื่อ {th_bare}",
            "ชื่อผู้รับ {th_person}", "ฝากถึง{th_person}", "ของขวัญให้{th_person} ห่อให้สวยๆนะคะ",
            "{th_person} เป็นคนรับของแทนค่ะ", "ฝากไว้กับ รปภ. บอกว่าของ{th_person}", "ปักชื่อ {th_person} บนเสื้อ",
            "ชื่อผู้สั่ง {th_person} ผู้รับ {th_person}", "สั่งให้{th_person}ค่ะ", "ส่งถึง{th_person} {phone}"],
        "ADDRESS": [
            "ที่อยู่ {th_addr}", "ส่งที่ {th_addr}", "ที่อยู่จัดส่ง: {th_addr}", "ส่งให้{th_person} {th_addr}",
            "{th_addr}", "ย้ายที่อยู่ใหม่เป็น {th_addr} นะคะ", "ส่ง {th_addr} ค่ะ", "ที่อยู่ {th_addr} โทร {phone}"],
        "HANDLE": [
            "ติดตาม {th_handle} นะคะ", "แท็ก {th_handle_at} ด้วยนะคะ", "ทักมาที่ {th_handle}", "ดูรีวิวที่ {th_handle}",
            "ฝากกดติดตาม {th_handle} ค่ะ"],
        "PHONE": [
            "โทร {oop}", "โทร{oop}ก่อนส่ง", "เบอร์ {oop} ค่ะ", "ติดต่อ {oop}", "เบอร์โทร: {oop}", "call {oop}"],
        "TRACKING_NUMBER": [
            "เลขพัสดุ {carrier} {trk}", "เลขแทรค {trk}", "ส่ง{carrier}แล้วค่ะ เลขพัสดุ {trk}", "Tracking: {trk}",
            "เลขพัสดุ {trk} ({carrier})", "{carrier} {trk} ยังไม่อัปเดตเลยค่ะ", "เช็คเลขพัสดุ {trk} ให้หน่อยค่ะ"],
    },
    "en": {
        "NAME": [
            "Please deliver to {en_titled}", "Recipient: {en_name}", "Gift for {en_given}, please add a card",
            "Attn: {en_name}", "c/o {en_name}", "This is {en_name}, I ordered yesterday", "Receiver: {en_name}",
            "Ship to {en_name}, {en_addr}", "Name: {en_name}", "Contact person: {en_titled}", "Hand it to {en_titled}",
            "Deliver to {en_name} at the front desk", "Hi, this is {en_given} from order {order}",
            "Addressed to {en_titled}, please"],
        "ADDRESS": [
            "Ship to {en_addr}", "Please deliver to {en_titled}, {en_addr}", "Address: {en_addr}",
            "My address is {en_addr}", "Deliver to {en_addr}", "{en_addr}", "New address: {en_addr}",
            "Billing address {en_addr}"],
        "HANDLE": [
            "Follow us on {en_handle}", "DM me on {en_handle}", "Tag {en_handle_at} in your review", "My insta: {en_handle}",
            "Contact {en_handle}", "Find me at {en_handle}"],
        "PHONE": [
            "call {oop} before delivery", "Tel: {oop}", "tel {oop}", "Hotline {oop}", "Call me on {oop}"],
        "TRACKING_NUMBER": [
            "tracking {trk}", "Tracking number: {trk} ({carrier})", "{carrier} tracking {trk}", "Shipped with {carrier}, {trk}",
            "Parcel {trk} is stuck", "AWB {trk}"],
    },
}

# Look-alikes that must survive, in the sentences they come in.
PEOPLE_KEEP_PHRASES: dict[str, list[str]] = {
    "vi": [
        "Em mua bên {vn_store} rồi, giá shop rẻ hơn", "Shop có giao ra {vn_place} không ạ", "Bên {vn_store} hết hàng nên em đặt shop",
        "{vn_food} 500g làm quà Tết", "Shop ở {vn_street_name} phải không ạ", "Sách {vn_phrase} lớp 3 còn không shop",
        "Quà cho {vn_phrase} trong nhà", "{vn_phrase}, còn size {size} không", "Em ở {vn_place}, ship mất mấy ngày",
        "{vn_street_name} đang sửa, shipper đi đường khác nhé", "Bảo hành tại {vn_store} được không shop",
        "Nước hoa {en_brand} chính hãng", "Bộ {en_brand} bản đặc biệt", "Hàng xách tay {en_brand}, giá {price}",
        "Có bán {vn_food} không shop", "Giao hàng toàn quốc, miễn phí nội thành {vn_place}", "Em cảm ơn {vn_phrase} nhiều",
        "Kho hàng gần {vn_store} {vn_street_name}", "Đặt 3 cái {at_price} nha", "Săn sale {hashtag} {hashtag}"],
    "th": [
        "สินค้า{th_quality}ดีมากค่ะ", "ส่งไป{th_place}กี่วันคะ", "เคยซื้อที่{th_brand}แพงกว่านี้", "{th_quality}: กันน้ำ IP68",
        "ของขวัญให้{th_role}ค่ะ", "ร้านอยู่{th_street_name}ใช่ไหมคะ", "{th_role}สั่งก่อนเที่ยงส่งวันนี้",
        "ขายเองไม่ผ่าน{th_broker}", "ชุด{th_angel}สำหรับงานแฟนซี", "ส่งให้{th_role}ที่บ้านค่ะ",
        "น้ำหอม {en_brand} ของแท้", "รับที่{th_brand}ได้ไหมคะ", "ส่งฟรีทั่ว{th_place}", "ตัวแทนจำหน่าย{th_brand}",
        "ผลิตภัณฑ์{th_brand} ของแท้ 100%", "{hashtag} {hashtag} ลดราคา", "ซื้อ 3 ชิ้น {at_price}"],
    "en": [
        "Genuine {en_brand} perfume 100ml", "Cheaper than at {en_place}", "Do you ship to {en_place}?",
        "The shop on {en_street_name} is closed today", "{en_brand} box set, all 7 books", "{en_brand} gift set for Christmas",
        "Pick up at {en_place} is fine", "Same as the {en_brand} one but cheaper", "Deliver to {en_place} branch",
        "Buy 2 {at_price}", "{hashtag} {hashtag} new arrivals"],
}

PEOPLE_KIND_WEIGHTS = {
    "vi": {"NAME": 16, "ADDRESS": 14, "HANDLE": 8, "PHONE": 5, "TRACKING_NUMBER": 8},
    "th": {"NAME": 16, "ADDRESS": 14, "HANDLE": 8, "PHONE": 5, "TRACKING_NUMBER": 9},
    "en": {"NAME": 14, "ADDRESS": 12, "HANDLE": 8, "PHONE": 5, "TRACKING_NUMBER": 8},
}

# Look-alike kinds this module adds (powersell.benchmarks.pii_corpus has its own).
PEOPLE_LOOKALIKES = ("brand", "place", "street_name", "common_phrase", "title_word", "hashtag", "unit_price")


class PeopleSlots:
    """The slots above: each returns a list of segments."""

    def __init__(self, values: PeopleValues, lang: str, line: dict, handle_of):
        self.v, self.lang, self.line, self.handle_of = values, lang, line, handle_of

    def fill(self, name: str) -> list[Seg] | None:
        v, r = self.v, self.v.r
        if name.startswith("vn_hon_given"):
            segs = v.vn_person("hon_given")
            if name.endswith("_cap"):
                segs[0] = _lit(segs[0][0][:1].upper() + segs[0][0][1:])
            return segs
        simple = {
            "vn_hon_full": lambda: v.vn_person("hon_full"), "vn_full": lambda: v.vn_person("full"),
            "vn_short": lambda: v.vn_person("short"), "vn_any": lambda: v.vn_person("any"),
            "th_person": lambda: v.th_person(), "th_bare": lambda: v.th_person(titled=False),
            "en_name": lambda: v.en_person(), "en_titled": lambda: v.en_person(titled=True),
            "en_given": v.en_given,
            "vn_addr": lambda: v.vn_address(), "vn_addr_street": lambda: v.vn_address(region=0.0),
            "th_addr": lambda: v.th_address(), "en_addr": lambda: v.en_address(),
            "vn_handle": lambda: v.handle_forms(self.handle_of("vi"), "vi"),
            "th_handle": lambda: v.handle_forms(self.handle_of("th"), "th"),
            "en_handle": lambda: v.handle_forms(self.handle_of("en"), "en"),
            "vn_handle_at": lambda: [_pii("@" + self.handle_of("vi"), "HANDLE")],
            "th_handle_at": lambda: [_pii("@" + self.handle_of("th"), "HANDLE")],
            "en_handle_at": lambda: [_pii("@" + self.handle_of("en"), "HANDLE")],
            "oop": lambda: [_pii(v.oop_phone(self.lang), "PHONE")],
            "vn_store": lambda: [_keep(r.choice(VN_STORES), "brand")],
            "vn_food": lambda: [_keep(r.choice(VN_FOODS), "brand")],
            "vn_place": lambda: [_keep(r.choice(VN_PLACES_LOOKALIKE), "place")],
            "vn_phrase": lambda: [_keep(r.choice(VN_PHRASES), "common_phrase")],
            "vn_street_name": lambda: [_keep(r.choice(["đường ", "phố ", "Đường "]) + r.choice(VN_STREETS), "street_name")],
            "en_brand": lambda: [_keep(r.choice(EN_BRANDS), "brand")],
            "en_place": lambda: [_keep(r.choice(EN_PLACES), "place")],
            "en_street_name": lambda: [_keep(r.choice(EN_STREETS), "street_name")],
            "th_brand": lambda: [_keep(r.choice(TH_BRANDS + ["Central World"]), "brand")],
            "th_place": lambda: [_keep(r.choice(TH_PLACES_LOOKALIKE), "place")],
            "th_quality": lambda: [_keep(r.choice(TH_QUALITY_WORDS), "title_word")],
            "th_role": lambda: [_keep(r.choice(TH_ROLE_WORDS), "title_word")],
            "th_broker": lambda: [_keep("นายหน้า", "title_word")],
            "th_angel": lambda: [_keep(r.choice(["นางฟ้า", "นางพญา"]), "title_word")],
            "th_street_name": lambda: [_keep(r.choice(["ถนน", "ซอย", "ถ."]) + r.choice(TH_ROADS), "street_name")],
            "hashtag": lambda: [_keep("#" + r.choice(["freeship", "sale1212", "ootd", "review", "hangchinhhang",
                                                      "ของแท้", "unboxing", "xuhuong", "fyp"]), "hashtag")],
            "vn_upper": lambda: [_pii(_ascii(v.vn_full()).upper(), "NAME")],
        }
        if name == "at_price":
            price = r.choice(["150k", "99.000đ", "฿290", "$12", "120k/cái", "59 บาท"])
            return [_keep(f"@ {price}" if r.random() < 0.5 else f"@{price}", "unit_price")]
        if name in ("trk", "carrier"):
            if "tracking" not in self.line:
                self.line["tracking"] = v.tracking(self.lang)
            carrier, number = self.line["tracking"]
            return [_lit(carrier)] if name == "carrier" else [_pii(number, "TRACKING_NUMBER")]
        make = simple.get(name)
        return make() if make else None
