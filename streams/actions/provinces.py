"""Province names of Vietnam and Thailand, and the normalisation that maps how the
marketplaces write them ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh", "HCM", "Tỉnh Bình
Dương", "จังหวัดเชียงใหม่", "กรุงเทพฯ", "Bangkok") to one canonical name per province.

Data, not logic: canonical names (Vietnamese with diacritics, Thai in Thai script), each
with its other spellings. Matching folds case, spaces, punctuation and Vietnamese
diacritics, and tries once more without an administrative prefix or suffix. A name that
is not a province (a city, a district, a street, a typo) has no match: the caller keeps
nothing of it.

Vietnam: the 63 provinces and centrally-run cities as named before the 2025 merger, with
Huế under its current name; every one of the 34 units of 2025 keeps one of these names.
Thailand: the 76 provinces and Bangkok.
"""

from __future__ import annotations

import unicodedata

VN: dict[str, tuple[str, ...]] = {
    "Hà Nội": (), "Hồ Chí Minh": ("HCM", "HCMC", "Sài Gòn", "Saigon", "Ho Chi Minh City"),
    "Hải Phòng": (), "Đà Nẵng": (), "Cần Thơ": (), "Huế": ("Thừa Thiên Huế", "Thừa Thiên - Huế"),
    "An Giang": (), "Bà Rịa - Vũng Tàu": ("BRVT", "Vũng Tàu"), "Bắc Giang": (), "Bắc Kạn": ("Bắc Cạn",),
    "Bạc Liêu": (), "Bắc Ninh": (), "Bến Tre": (), "Bình Định": (), "Bình Dương": (), "Bình Phước": (),
    "Bình Thuận": (), "Cà Mau": (), "Cao Bằng": (), "Đắk Lắk": ("Đắc Lắc", "Daklak"), "Đắk Nông": ("Đắc Nông",),
    "Điện Biên": (), "Đồng Nai": (), "Đồng Tháp": (), "Gia Lai": (), "Hà Giang": (), "Hà Nam": (),
    "Hà Tĩnh": (), "Hải Dương": (), "Hậu Giang": (), "Hòa Bình": (), "Hưng Yên": (), "Khánh Hòa": (),
    "Kiên Giang": (), "Kon Tum": (), "Lai Châu": (), "Lâm Đồng": (), "Lạng Sơn": (), "Lào Cai": (),
    "Long An": (), "Nam Định": (), "Nghệ An": (), "Ninh Bình": (), "Ninh Thuận": (), "Phú Thọ": (),
    "Phú Yên": (), "Quảng Bình": (), "Quảng Nam": (), "Quảng Ngãi": (), "Quảng Ninh": (), "Quảng Trị": (),
    "Sóc Trăng": (), "Sơn La": (), "Tây Ninh": (), "Thái Bình": (), "Thái Nguyên": (), "Thanh Hóa": (),
    "Tiền Giang": (), "Trà Vinh": (), "Tuyên Quang": (), "Vĩnh Long": (), "Vĩnh Phúc": (), "Yên Bái": (),
}

TH: dict[str, tuple[str, ...]] = {
    "กรุงเทพมหานคร": ("Bangkok", "กรุงเทพฯ", "กรุงเทพ", "กทม.", "Krung Thep", "Krung Thep Maha Nakhon", "BKK"),
    "กระบี่": ("Krabi",), "กาญจนบุรี": ("Kanchanaburi",), "กาฬสินธุ์": ("Kalasin",),
    "กำแพงเพชร": ("Kamphaeng Phet",), "ขอนแก่น": ("Khon Kaen",), "จันทบุรี": ("Chanthaburi",),
    "ฉะเชิงเทรา": ("Chachoengsao",), "ชลบุรี": ("Chon Buri",), "ชัยนาท": ("Chai Nat",), "ชัยภูมิ": ("Chaiyaphum",),
    "ชุมพร": ("Chumphon",), "เชียงราย": ("Chiang Rai",), "เชียงใหม่": ("Chiang Mai",), "ตรัง": ("Trang",),
    "ตราด": ("Trat",), "ตาก": ("Tak",), "นครนายก": ("Nakhon Nayok",), "นครปฐม": ("Nakhon Pathom",),
    "นครพนม": ("Nakhon Phanom",), "นครราชสีมา": ("Nakhon Ratchasima", "Korat", "โคราช"),
    "นครศรีธรรมราช": ("Nakhon Si Thammarat",), "นครสวรรค์": ("Nakhon Sawan",), "นนทบุรี": ("Nonthaburi",),
    "นราธิวาส": ("Narathiwat",), "น่าน": ("Nan",), "บึงกาฬ": ("Bueng Kan",), "บุรีรัมย์": ("Buri Ram",),
    "ปทุมธานี": ("Pathum Thani",), "ประจวบคีรีขันธ์": ("Prachuap Khiri Khan",), "ปราจีนบุรี": ("Prachin Buri",),
    "ปัตตานี": ("Pattani",), "พระนครศรีอยุธยา": ("Phra Nakhon Si Ayutthaya", "Ayutthaya", "อยุธยา"),
    "พะเยา": ("Phayao",), "พังงา": ("Phang Nga",), "พัทลุง": ("Phatthalung",), "พิจิตร": ("Phichit",),
    "พิษณุโลก": ("Phitsanulok",), "เพชรบุรี": ("Phetchaburi",), "เพชรบูรณ์": ("Phetchabun",), "แพร่": ("Phrae",),
    "ภูเก็ต": ("Phuket",), "มหาสารคาม": ("Maha Sarakham",), "มุกดาหาร": ("Mukdahan",),
    "แม่ฮ่องสอน": ("Mae Hong Son",), "ยโสธร": ("Yasothon",), "ยะลา": ("Yala",), "ร้อยเอ็ด": ("Roi Et",),
    "ระนอง": ("Ranong",), "ระยอง": ("Rayong",), "ราชบุรี": ("Ratchaburi",), "ลพบุรี": ("Lop Buri",),
    "ลำปาง": ("Lampang",), "ลำพูน": ("Lamphun",), "เลย": ("Loei",), "ศรีสะเกษ": ("Si Sa Ket",),
    "สกลนคร": ("Sakon Nakhon",), "สงขลา": ("Songkhla",), "สตูล": ("Satun",), "สมุทรปราการ": ("Samut Prakan",),
    "สมุทรสงคราม": ("Samut Songkhram",), "สมุทรสาคร": ("Samut Sakhon",), "สระแก้ว": ("Sa Kaeo",),
    "สระบุรี": ("Saraburi",), "สิงห์บุรี": ("Sing Buri",), "สุโขทัย": ("Sukhothai",), "สุพรรณบุรี": ("Suphan Buri",),
    "สุราษฎร์ธานี": ("Surat Thani",), "สุรินทร์": ("Surin",), "หนองคาย": ("Nong Khai",),
    "หนองบัวลำภู": ("Nong Bua Lam Phu",), "อ่างทอง": ("Ang Thong",), "อำนาจเจริญ": ("Amnat Charoen",),
    "อุดรธานี": ("Udon Thani",), "อุตรดิตถ์": ("Uttaradit",), "อุทัยธานี": ("Uthai Thani",),
    "อุบลราชธานี": ("Ubon Ratchathani",),
}

# Administrative words before or after the name, as folded keys.
PREFIXES = ("thanhpho", "tinh", "tp", "changwat", "จังหวัด", "จ")
SUFFIXES = ("province", "city", "municipality")


def fold(text: str) -> str:
    """Case, spaces, punctuation and Vietnamese diacritics removed; Thai vowel and tone marks kept."""
    decomposed = unicodedata.normalize("NFD", text.casefold()).replace("đ", "d")
    kept = (ch for ch in decomposed if not "\u0300" <= ch <= "\u036f")
    return unicodedata.normalize("NFC", "".join(ch for ch in kept if unicodedata.category(ch)[0] in "LMN"))


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for table in (VN, TH):
        for canonical, aliases in table.items():
            for spelling in (canonical, *aliases):
                other = index.setdefault(fold(spelling), canonical)
                if other != canonical:
                    raise ValueError(f"province spellings of {other} and {canonical} fold alike")
    return index


INDEX = _index()


def normalise_province(text: str) -> str | None:
    """The canonical province name, or None if text is not a province."""
    key = fold(text)
    candidates = [key]
    candidates += [key[len(p):] for p in PREFIXES if key.startswith(p)]
    candidates += [c[: -len(s)] for c in list(candidates) for s in SUFFIXES if c.endswith(s)]
    for candidate in candidates:
        if candidate in INDEX:
            return INDEX[candidate]
    return None
