"""The words the simulated world is made of: Vietnamese and Thai people, places, phone
formats, shops and product catalogues. Data only; world.py draws from it with a seeded RNG.

Everything is invented: names are random combinations of common family and given names,
street numbers are drawn at random, phone numbers get random subscriber digits, card
numbers are the card networks' published TEST numbers. Place names (streets, wards,
districts, provinces) and postal codes are real so that addresses look like the real
thing to a PII detector.

Phone templates: mobile formats take the national significant number split in three
groups {a} {b} {c} (VN 3-3-3: 0912 345 678; TH 2-3-4: 081-234-5678); landline formats
take {area} {s1} {s2}. '#' in a template (tracking numbers) is one random digit.
"""

from __future__ import annotations

from typing import NamedTuple


class Category(NamedTuple):
    category_id: str
    name: str
    brands: tuple[str | None, ...]           # None: an unbranded product
    items: tuple[tuple[str, str], ...]       # (title stem, seller SKU stem)
    variants: tuple[tuple[str, str], ...]    # (variant label, SKU suffix)
    price: tuple[int, int]                   # whole VND or THB


class Place(NamedTuple):
    province: str
    city: str
    district: str
    wards: tuple[str, ...]
    streets: tuple[str, ...]
    postal_code: str                         # VN: old 6-digit province code; TH: 5-digit district code


# ---------------------------------------------------------------- people
VN_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
             "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh")
VN_MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Thị Thu", "Hoài", "Mỹ")
VN_MIDDLE_M = ("Văn", "Minh", "Đức", "Hữu", "Quốc", "Gia", "Công", "Thành", "Anh")
VN_GIVEN_F = ("Lan", "Hương", "Linh", "Trang", "Mai", "Thảo", "Vy", "Nhi", "Yến", "Hà",
              "Ngân", "Phương", "Quỳnh", "Uyên", "Hạnh", "Trâm", "Diệp", "Châu")
VN_GIVEN_M = ("Khôi", "Tuấn", "Nam", "Dũng", "Phúc", "Hùng", "Long", "Quân", "Huy", "Bảo",
              "Khang", "Đạt", "Trí", "Sơn", "Thắng", "Vĩnh", "Lộc", "Nghĩa")

# (Thai, romanised) pairs: the romanised form makes usernames and e-mail addresses.
TH_GIVEN_M = (("สมชาย", "somchai"), ("สมศักดิ์", "somsak"), ("วิชัย", "wichai"), ("ประเสริฐ", "prasert"),
              ("ธนพล", "thanaphon"), ("กิตติพงษ์", "kittiphong"), ("ณัฐวุฒิ", "nattawut"), ("อนุชา", "anucha"),
              ("ชัยวัฒน์", "chaiwat"), ("พงศกร", "pongsakorn"), ("วีระพงษ์", "weeraphong"), ("ธีรวัฒน์", "teerawat"))
TH_GIVEN_F = (("สมหญิง", "somying"), ("มาลี", "malee"), ("วันเพ็ญ", "wanpen"), ("ศิริพร", "siriporn"),
              ("กาญจนา", "kanjana"), ("ปิยะนุช", "piyanuch"), ("สุภาวดี", "supawadee"), ("ณัฐธิดา", "natthida"),
              ("พรทิพย์", "pornthip"), ("อรอุมา", "onuma"), ("จิราพร", "jiraporn"), ("ปวีณา", "paweena"))
TH_FAMILY = (("ใจดี", "jaidee"), ("รักไทย", "rakthai"), ("ศรีสุข", "srisuk"), ("วงศ์สวัสดิ์", "wongsawat"),
             ("แสงทอง", "saengthong"), ("บุญมา", "boonma"), ("ทองดี", "thongdee"), ("สุขสวัสดิ์", "suksawat"),
             ("เจริญผล", "charoenphon"), ("มีสุข", "meesuk"), ("ศักดิ์ดี", "sakdee"), ("พึ่งบุญ", "phungboon"),
             ("แก้วมณี", "kaewmanee"), ("อินทรวงศ์", "intharawong"))
TH_TITLES_F = ("", "", "", "คุณ", "นางสาว", "นาง")   # honorifics some buyers type, some do not
TH_TITLES_M = ("", "", "", "คุณ", "นาย")

EMAIL_DOMAINS = {"VN": ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
                 "TH": ("gmail.com", "gmail.com", "hotmail.com", "hotmail.com", "yahoo.com", "outlook.co.th")}

# ---------------------------------------------------------------- places
VN_PLACES = (
    Place("Hà Nội", "Hà Nội", "Quận Ba Đình", ("Phường Kim Mã", "Phường Điện Biên", "Phường Ngọc Hà"),
          ("Kim Mã", "Đội Cấn", "Liễu Giai", "Nguyễn Thái Học"), "100000"),
    Place("Hà Nội", "Hà Nội", "Quận Cầu Giấy", ("Phường Dịch Vọng", "Phường Nghĩa Đô", "Phường Yên Hòa"),
          ("Xuân Thủy", "Trần Duy Hưng", "Cầu Giấy", "Hoàng Quốc Việt"), "100000"),
    Place("Hà Nội", "Hà Nội", "Quận Hoàng Mai", ("Phường Định Công", "Phường Tương Mai", "Phường Đại Kim"),
          ("Giải Phóng", "Tam Trinh", "Trương Định", "Kim Giang"), "100000"),
    Place("Hà Nội", "Hà Nội", "Huyện Gia Lâm", ("Xã Bát Tràng", "Thị trấn Trâu Quỳ", "Xã Đa Tốn"),
          ("Nguyễn Đức Thuận", "Ngô Xuân Quảng", "Cửu Việt"), "100000"),
    Place("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Quận 1", ("Phường Bến Nghé", "Phường Bến Thành", "Phường Đa Kao"),
          ("Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Tự Trọng"), "700000"),
    Place("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Quận 3", ("Phường Võ Thị Sáu", "Phường 9", "Phường 12"),
          ("Nam Kỳ Khởi Nghĩa", "Cách Mạng Tháng Tám", "Võ Văn Tần", "Trần Quốc Thảo"), "700000"),
    Place("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Quận Bình Thạnh", ("Phường 25", "Phường 22", "Phường 15"),
          ("Điện Biên Phủ", "Xô Viết Nghệ Tĩnh", "Nguyễn Hữu Cảnh", "Bạch Đằng"), "700000"),
    Place("Thành phố Hồ Chí Minh", "Thành phố Thủ Đức", "Thành phố Thủ Đức", ("Phường Thảo Điền", "Phường Linh Trung", "Phường Hiệp Phú"),
          ("Xa lộ Hà Nội", "Võ Văn Ngân", "Quốc Hương", "Lê Văn Việt"), "700000"),
    Place("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", "Huyện Củ Chi", ("Xã Tân Thông Hội", "Thị trấn Củ Chi"),
          ("Quốc lộ 22", "Tỉnh lộ 8"), "700000"),
    Place("Đà Nẵng", "Đà Nẵng", "Quận Hải Châu", ("Phường Thạch Thang", "Phường Hòa Cường Bắc", "Phường Phước Ninh"),
          ("Bạch Đằng", "Lê Duẩn", "Nguyễn Văn Linh", "Hùng Vương"), "550000"),
    Place("Đà Nẵng", "Đà Nẵng", "Quận Sơn Trà", ("Phường An Hải Bắc", "Phường Phước Mỹ"),
          ("Võ Nguyên Giáp", "Ngô Quyền", "Hồ Nghinh"), "550000"),
    Place("Hải Phòng", "Hải Phòng", "Quận Lê Chân", ("Phường An Biên", "Phường Cát Dài"),
          ("Tô Hiệu", "Lạch Tray", "Hai Bà Trưng"), "180000"),
    Place("Hải Phòng", "Hải Phòng", "Quận Ngô Quyền", ("Phường Máy Tơ", "Phường Lạch Tray"),
          ("Lạch Tray", "Văn Cao", "Lê Lợi"), "180000"),
    Place("Cần Thơ", "Cần Thơ", "Quận Ninh Kiều", ("Phường Tân An", "Phường Xuân Khánh", "Phường An Hòa"),
          ("30 Tháng 4", "Nguyễn Văn Cừ", "Hòa Bình", "Mậu Thân"), "900000"),
    Place("Bình Dương", "Thủ Dầu Một", "Thành phố Thủ Dầu Một", ("Phường Phú Cường", "Phường Hiệp Thành"),
          ("Đại lộ Bình Dương", "Yersin", "Cách Mạng Tháng Tám"), "820000"),
    Place("Khánh Hòa", "Nha Trang", "Thành phố Nha Trang", ("Phường Lộc Thọ", "Phường Vĩnh Hải"),
          ("Trần Phú", "Nguyễn Thiện Thuật", "Hùng Vương"), "650000"),
)
# How a VN street line starts: house number forms.
VN_HOUSE = ("{n} {street}", "Số {n} {street}", "{n}/{m} {street}", "Số {n} ngõ {m} {street}",
            "Hẻm {m}/{n} {street}", "{n}A {street}", "Tầng {k}, {n} {street}", "Căn hộ B{k}-{m}{n}, chung cư {street}")

TH_PLACES = (
    Place("กรุงเทพมหานคร", "กรุงเทพมหานคร", "เขตบางรัก", ("แขวงสีลม", "แขวงสุริยวงศ์"),
          ("ถนนสีลม", "ถนนสุรวงศ์", "ซอยศาลาแดง"), "10500"),
    Place("กรุงเทพมหานคร", "กรุงเทพมหานคร", "เขตจตุจักร", ("แขวงลาดยาว", "แขวงจอมพล", "แขวงจตุจักร"),
          ("ถนนพหลโยธิน", "ถนนงามวงศ์วาน", "ถนนลาดพร้าว"), "10900"),
    Place("กรุงเทพมหานคร", "กรุงเทพมหานคร", "เขตห้วยขวาง", ("แขวงห้วยขวาง", "แขวงบางกะปิ"),
          ("ถนนรัชดาภิเษก", "ถนนประชาราษฎร์บำเพ็ญ", "ถนนประดิษฐ์มนูธรรม"), "10310"),
    Place("กรุงเทพมหานคร", "กรุงเทพมหานคร", "เขตวัฒนา", ("แขวงคลองตันเหนือ", "แขวงคลองเตยเหนือ"),
          ("ถนนสุขุมวิท", "ซอยสุขุมวิท 39", "ซอยทองหล่อ"), "10110"),
    Place("เชียงใหม่", "เชียงใหม่", "อำเภอเมืองเชียงใหม่", ("ตำบลสุเทพ", "ตำบลช้างคลาน", "ตำบลศรีภูมิ"),
          ("ถนนนิมมานเหมินท์", "ถนนห้วยแก้ว", "ถนนช้างคลาน"), "50200"),
    Place("เชียงใหม่", "สันทราย", "อำเภอสันทราย", ("ตำบลสันทรายน้อย", "ตำบลหนองจ๊อม"),
          ("ถนนเชียงใหม่-แม่โจ้", "ถนนสันทราย-ดอยสะเก็ด"), "50210"),
    Place("ขอนแก่น", "ขอนแก่น", "อำเภอเมืองขอนแก่น", ("ตำบลในเมือง", "ตำบลศิลา"),
          ("ถนนมิตรภาพ", "ถนนศรีจันทร์", "ถนนหน้าเมือง"), "40000"),
    Place("ภูเก็ต", "ภูเก็ต", "อำเภอเมืองภูเก็ต", ("ตำบลตลาดใหญ่", "ตำบลวิชิต"),
          ("ถนนเยาวราช", "ถนนเทพกระษัตรี", "ถนนเจ้าฟ้าตะวันออก"), "83000"),
    Place("ภูเก็ต", "กะทู้", "อำเภอกะทู้", ("ตำบลป่าตอง",), ("ถนนราษฎร์อุทิศ 200 ปี", "ถนนทวีวงศ์"), "83150"),
    Place("ชลบุรี", "พัทยา", "อำเภอบางละมุง", ("ตำบลหนองปรือ", "ตำบลนาเกลือ"),
          ("ถนนพัทยาสาย 2", "ถนนสุขุมวิท", "ถนนเทพประสิทธิ์"), "20150"),
    Place("ชลบุรี", "ชลบุรี", "อำเภอเมืองชลบุรี", ("ตำบลบ้านสวน", "ตำบลบางปลาสร้อย"),
          ("ถนนสุขุมวิท", "ถนนพระยาสัจจา"), "20000"),
    Place("นนทบุรี", "ปากเกร็ด", "อำเภอปากเกร็ด", ("ตำบลบางตลาด", "ตำบลปากเกร็ด"),
          ("ถนนแจ้งวัฒนะ", "ถนนติวานนท์"), "11120"),
)
TH_HOUSE = ("{n}/{m} {street}", "บ้านเลขที่ {n} {street}", "เลขที่ {n}/{m} หมู่ {k} {street}",
            "{n} หมู่ {k} {street}", "คอนโดลุมพินี ห้อง {k}{m} {street}", "{n}/{m} หมู่บ้านพฤกษา {street}")

# ---------------------------------------------------------------- phones
VN_MOBILE_PREFIXES = ("32", "33", "34", "35", "36", "37", "38", "39", "70", "76", "77", "78", "79",
                      "81", "82", "83", "84", "85", "86", "88", "89", "90", "91", "93", "94", "96", "97", "98")
VN_MOBILE_FORMATS = ("0{a} {b} {c}", "0{a}{b}{c}", "0{a}.{b}.{c}", "+84 {a} {b} {c}", "+84{a}{b}{c}",
                     "(+84) {a}-{b}-{c}", "0{a}-{b}-{c}", "84{a}{b}{c}")
VN_LANDLINE_AREAS = (("24", 4, 4), ("28", 4, 4), ("236", 3, 4), ("225", 3, 4), ("292", 3, 4))
VN_LANDLINE_FORMATS = ("84-{area}-{s1}-{s2}", "(0{area}) {s1} {s2}", "0{area} {s1} {s2}", "0{area}.{s1}.{s2}",
                       "+84 {area} {s1} {s2}")
TH_MOBILE_PREFIXES = ("61", "62", "63", "64", "65", "80", "81", "82", "83", "84", "85", "86", "87", "88",
                      "89", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99")
TH_MOBILE_FORMATS = ("0{a}-{b}-{c}", "0{a}{b}{c}", "+66 {a} {b} {c}", "+66{a}{b}{c}", "0{a} {b} {c}",
                     "(+66) {a}-{b}-{c}", "66{a}{b}{c}")
TH_LANDLINE_AREAS = (("2", 3, 4), ("53", 3, 3), ("43", 3, 3), ("76", 3, 3), ("38", 3, 3))
TH_LANDLINE_FORMATS = ("0{area}-{s1}-{s2}", "0{area} {s1} {s2}", "+66 {area} {s1} {s2}", "0{area}{s1}{s2}")
MOBILE_SPLIT = {"VN": (3, 3, 3), "TH": (2, 3, 4)}

# ---------------------------------------------------------------- shops
VN_SHOP_NAMES = ("Gia Dụng {given}", "Tiệm Nhà {given}", "{given} Store", "{given} Shop Official",
                 "Thời Trang {given}", "Kho Sỉ {given}", "{given} Mart", "Bé Yêu {given}")
TH_SHOP_NAMES = ("ร้าน{given}", "{latin} Shop TH", "บ้าน{given}ช้อป", "{latin}.official", "{given} Beauty",
                 "{latin} Gadget")

# ---------------------------------------------------------------- catalogue
SIZE_VARIANTS = (("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL"))
VN_CATEGORIES = (
    Category("100636", "Đồ gia dụng", ("Lock&Lock", "Sunhouse", "Kangaroo", "Elmich", None),
             (("Nồi chiên không dầu 5L", "NCKD-5L"), ("Bình giữ nhiệt inox 304 500ml", "BGN-500"),
              ("Chảo chống dính đáy từ 26cm", "CCD-26"), ("Máy xay sinh tố cầm tay", "MXST"),
              ("Bộ hộp đựng thực phẩm thủy tinh 3 món", "HTP-3"), ("Cây lau nhà xoay 360 độ", "CLN-360"),
              ("Electric kettle 1.7L inox", "AST-17")),
             (("Đen", "BLK"), ("Trắng", "WHT"), ("Xám", "GRY")), (89_000, 2_490_000)),
    Category("100017", "Thời trang nữ", (None, None, "Routine", "Yody", "Canifa"),
             (("Áo thun nữ form rộng cotton", "ATN-FR"), ("Váy hoa nhí dáng dài", "VHN-DD"),
              ("Quần jean ống rộng lưng cao", "QJ-OR"), ("Áo khoác cardigan len mỏng", "AKC-LEN"),
              ("Chân váy tennis xếp ly", "CV-TN"), ("Oversized basic tee unisex", "OBT-UNI")),
             SIZE_VARIANTS, (59_000, 459_000)),
    Category("100013", "Điện thoại & Phụ kiện", ("Anker", "Baseus", "Ugreen", "Xiaomi", None),
             (("Cáp sạc nhanh USB-C 1m", "CAP-C1M"), ("Sạc dự phòng 20000mAh", "SDP-20K"),
              ("Ốp lưng iPhone 15 Pro silicon", "OL-IP15P"), ("Tai nghe bluetooth TWS chống ồn", "TN-TWS"),
              ("Kính cường lực full màn", "KCL-FULL"), ("Wireless charger 15W fast charging", "WLC-15W")),
             (("Đen", "BLK"), ("Trắng", "WHT"), ("Xanh", "BLU")), (39_000, 1_290_000)),
    Category("100010", "Mẹ & Bé", ("Bobby", "Huggies", "Pigeon", "Moony"),
             (("Tã quần size L 68 miếng", "TQ-L68"), ("Bình sữa PPSU 240ml", "BS-240"),
              ("Khăn ướt không mùi 100 tờ", "KU-100"), ("Bộ body cotton cho bé sơ sinh", "BD-SS"),
              ("Sữa tắm gội trẻ em 2in1", "STG-2IN1")),
             (("Gói lẻ", "P1"), ("Combo 3", "P3"), ("Combo 6", "P6")), (45_000, 890_000)),
    Category("100630", "Sắc đẹp", ("Cocoon", "Bioderma", "Innisfree", "La Roche-Posay"),
             (("Sữa rửa mặt dịu nhẹ 150ml", "SRM-150"), ("Kem chống nắng SPF50+ PA++++ 50ml", "KCN-50"),
              ("Nước tẩy trang micellar 400ml", "NTT-400"), ("Serum vitamin C sáng da 30ml", "SVC-30")),
             (("Chính hãng", "STD"), ("Combo 2", "C2")), (79_000, 650_000)),
)
TH_CATEGORIES = (
    Category("200101", "เสื้อผ้าผู้หญิง", (None, None, "Basic Studio", "Lalin Wear"),
             (("เสื้อยืดโอเวอร์ไซซ์ผ้าฝ้าย", "TS-OVS"), ("เดรสลายดอกแขนพอง", "DRS-FL"),
              ("กางเกงยีนส์ขากว้างเอวสูง", "JN-WL"), ("เสื้อเชิ้ตแขนยาวผ้าลินิน", "SH-LN"),
              ("Crop top knit basic", "CT-KN")),
             SIZE_VARIANTS, (99, 790)),
    Category("200202", "ความงาม", ("Mistine", "Srichand", "Cute Press", "Snail White", "Nivea"),
             (("แป้งฝุ่นคุมมัน", "PW-OC"), ("กันแดดเนื้อบางเบา SPF50 PA+++", "SS-50"),
              ("ลิปแมทติดทนนาน", "LIP-MT"), ("เซรั่มหน้าใส 30ml", "SR-30"),
              ("Micellar cleansing water 400ml", "MCW-400")),
             (("ขนาดปกติ", "STD"), ("แพ็คคู่", "X2")), (59, 690)),
    Category("200303", "อุปกรณ์อิเล็กทรอนิกส์", ("Xiaomi", "Anker", "Baseus", "JBL", None),
             (("หูฟังบลูทูธไร้สาย TWS", "EAR-TWS"), ("พาวเวอร์แบงค์ 10000mAh ชาร์จเร็ว", "PB-10K"),
              ("สายชาร์จ Type-C ชาร์จเร็ว 1 เมตร", "CB-C1"), ("ลำโพงบลูทูธกันน้ำ", "SPK-WP"),
              ("Smart watch fitness tracker", "SW-FT")),
             (("สีดำ", "BLK"), ("สีขาว", "WHT"), ("สีน้ำเงิน", "BLU")), (89, 2990)),
    Category("200404", "เครื่องใช้ในครัว", ("Tefal", "Sharp", "Hanabishi", "Otto", None),
             (("หม้อทอดไร้น้ำมัน 4.5 ลิตร", "AF-45"), ("กระติกน้ำเก็บอุณหภูมิ 750ml", "TMB-750"),
              ("ชุดกล่องถนอมอาหาร 5 ชิ้น", "FB-5"), ("ไม้ถูพื้นหมุนได้ 360 องศา", "MOP-360")),
             (("สีดำ", "BLK"), ("สีขาว", "WHT")), (129, 3290)),
    Category("200505", "แม่และเด็ก", ("MamyPoko", "Pigeon", "BabyLove", "D-nee"),
             (("ผ้าอ้อมแบบกางเกง ไซส์ L", "DP-L"), ("ขวดนม PPSU 8 ออนซ์", "BTL-8"),
              ("ทิชชู่เปียกสำหรับเด็ก 80 แผ่น", "WW-80"), ("ชุดบอดี้สูทเด็กแรกเกิด", "BS-NB")),
             (("1 แพ็ค", "P1"), ("3 แพ็ค", "P3")), (69, 1290)),
)
TH_CENTS = ("00", "00", "00", "00", "00", "50", "50", "90", "25")

VN_TITLE_PREFIX = ("", "", "", "[Hàng chính hãng] ", "[FREESHIP] ", "[Mã ELHA22 giảm 5%] ", "[Sẵn hàng] ")
VN_TITLE_SUFFIX = ("", "", " chính hãng", " bảo hành 12 tháng", " giá rẻ", " hàng loại 1", " freeship toàn quốc")
TH_TITLE_PREFIX = ("", "", "", "[ส่งฟรี] ", "[ของแท้ 100%] ", "【พร้อมส่ง】", "[ลดราคา] ")
TH_TITLE_SUFFIX = ("", "", " ของแท้ ประกันศูนย์ไทย", " ส่งไว", " ราคาถูก", " พร้อมส่งจากไทย")

VN_DESCRIPTIONS = (
    "{title}\n\n✔ Thương hiệu: {brand}\n✔ Hàng mới 100%, đóng gói cẩn thận\n✔ Đổi trả trong 7 ngày nếu lỗi do nhà sản xuất",
    "THÔNG TIN SẢN PHẨM\n- Tên: {title}\n- Xuất xứ: Việt Nam\n- Bảo hành: 12 tháng\nShop cam kết hàng giống hình 100%.",
    "{title} - sản phẩm bán chạy nhất tháng. Giao hàng toàn quốc, kiểm tra hàng trước khi thanh toán.",
    "{title}\nProduct of {brand}. Genuine item, shipped within 24h from our HCM warehouse.",
)
TH_DESCRIPTIONS = (
    "{title}\n\n✅ แบรนด์: {brand}\n✅ สินค้าใหม่ 100%\n✅ รับประกันสินค้า 7 วัน",
    "รายละเอียดสินค้า\n- ชื่อสินค้า: {title}\n- ส่งจากกรุงเทพฯ ภายใน 24 ชม.\nขอบคุณที่อุดหนุนค่ะ",
    "{title} ขายดีอันดับ 1 ของร้าน สินค้าพร้อมส่ง เก็บเงินปลายทางได้",
    "{title}\nOriginal {brand} product, ships from Bangkok within 1 day.",
)
# About 1 in 5 descriptions carries one of these (contact details the redaction must catch).
VN_CONTACTS = ("\nLiên hệ Zalo: {phone} để được tư vấn.", "\nHotline/Zalo {phone} (8h-22h)",
               "\nMua sỉ inbox shop hoặc gọi {phone}", "\nEmail hỗ trợ: {email}",
               "\nFanpage: https://www.facebook.com/{handle}", "\nZalo: {phone} - FB: facebook.com/{handle}")
TH_CONTACTS = ("\nสอบถามเพิ่มเติม LINE: @{handle}", "\nโทร {phone} (ทุกวัน 9.00-20.00 น.)",
               "\nสั่งจำนวนมากติดต่อ {phone} หรือ LINE ID: {handle}", "\nติดต่อ {email}",
               "\nเพจ facebook.com/{handle}", "\nLine: {handle} / Tel. {phone}")

VN_BUYER_NOTES = ("Giao giờ hành chính giúp em ạ", "Gọi trước khi giao nhé, sđt {phone}",
                  "Shop gói kỹ giúp mình, hàng dễ vỡ", "Giao tới {address} giúp em, để ở bảo vệ",
                  "Lấy màu khác nếu hết màu đen nha shop", "Nếu không gọi được thì gọi số {phone} của chồng em",
                  "Ship nhanh giúp mình nhé, cảm ơn shop!")
TH_BUYER_NOTES = ("ฝากไว้ที่ป้อมยามได้เลยค่ะ", "โทรก่อนส่งนะคะ {phone}", "ส่งที่ทำงาน {address} ค่ะ",
                  "ห่อกันกระแทกให้ด้วยนะครับ", "ถ้าไม่มีคนรับ โทร {phone} ได้เลย",
                  "รีบใช้ค่ะ ส่งไวๆ นะคะ ขอบคุณค่ะ")

# ---------------------------------------------------------------- payments, network, logistics
# The card networks' published test numbers (Luhn-valid, never real accounts).
TEST_CARDS = (("4111111111111111", "VISA"), ("4012888888881881", "VISA"), ("4242424242424242", "VISA"),
              ("5555555555554444", "MASTERCARD"), ("5105105105105100", "MASTERCARD"),
              ("2223003122003222", "MASTERCARD"), ("3530111333300000", "JCB"), ("3566002020360505", "JCB"),
              ("378282246310005", "AMEX"))
PAYMENT_WEIGHTS = {"VN": (("COD", 50), ("WALLET", 25), ("BANK_TRANSFER", 15), ("CARD", 10)),
                   "TH": (("COD", 30), ("WALLET", 25), ("CARD", 25), ("BANK_TRANSFER", 20))}
# Public IPv4 blocks registered to operators in each country (APNIC).
IP_RANGES = {"VN": ("14.160.0.0/11", "27.64.0.0/12", "42.112.0.0/13", "113.160.0.0/11", "116.96.0.0/12",
                    "171.224.0.0/11"),
             "TH": ("1.46.0.0/15", "49.228.0.0/14", "58.8.0.0/14", "110.164.0.0/14", "171.96.0.0/13",
                    "184.22.0.0/16")}
TRACKING_FORMATS = {"shopee": {"VN": "SPXVN0##########", "TH": "SPXTH0##########"},
                    "lazada": {"VN": "LZDVN#########", "TH": "LZDTH#########"},
                    "tiktok_shop": {"VN": "8##########", "TH": "TH############A"}}
SHIPPING_FEES = {"VN": (0, 15_000, 16_500, 22_000, 30_000), "TH": ("0.00", "35.00", "38.00", "45.00", "50.00")}


class CountryVocab(NamedTuple):
    """One country's vocabulary, so the world draws from `COUNTRIES[country].places` without branching."""
    currency: str
    places: tuple[Place, ...]
    houses: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]
    mobile_formats: tuple[str, ...]
    mobile_split: tuple[int, int, int]
    landline_areas: tuple[tuple[str, int, int], ...]
    landline_formats: tuple[str, ...]
    landline_first_digits: str
    email_domains: tuple[str, ...]
    shop_names: tuple[str, ...]
    categories: tuple[Category, ...]
    title_prefixes: tuple[str, ...]
    title_suffixes: tuple[str, ...]
    descriptions: tuple[str, ...]
    contacts: tuple[str, ...]
    buyer_notes: tuple[str, ...]
    payment_weights: tuple[tuple[str, int], ...]
    ip_ranges: tuple[str, ...]
    shipping_fees: tuple


COUNTRIES = {
    "VN": CountryVocab("VND", VN_PLACES, VN_HOUSE, VN_MOBILE_PREFIXES, VN_MOBILE_FORMATS, MOBILE_SPLIT["VN"],
                       VN_LANDLINE_AREAS, VN_LANDLINE_FORMATS, "36", EMAIL_DOMAINS["VN"], VN_SHOP_NAMES, VN_CATEGORIES,
                       VN_TITLE_PREFIX, VN_TITLE_SUFFIX, VN_DESCRIPTIONS, VN_CONTACTS, VN_BUYER_NOTES,
                       PAYMENT_WEIGHTS["VN"], IP_RANGES["VN"], SHIPPING_FEES["VN"]),
    "TH": CountryVocab("THB", TH_PLACES, TH_HOUSE, TH_MOBILE_PREFIXES, TH_MOBILE_FORMATS, MOBILE_SPLIT["TH"],
                       TH_LANDLINE_AREAS, TH_LANDLINE_FORMATS, "2345678", EMAIL_DOMAINS["TH"], TH_SHOP_NAMES, TH_CATEGORIES,
                       TH_TITLE_PREFIX, TH_TITLE_SUFFIX, TH_DESCRIPTIONS, TH_CONTACTS, TH_BUYER_NOTES,
                       PAYMENT_WEIGHTS["TH"], IP_RANGES["TH"], SHIPPING_FEES["TH"]),
}
