"""Word lists for the person-name detector (person_name.py), kept as data.

Vietnamese words are written with their accents; the detector also matches them without
accents ("nguyen van an") in texts typed without any. Lists say what a name is made of
and what only looks like one; context words (person_name.py) decide more than these lists.
"""

from __future__ import annotations

# Vietnamese family names, the most common first.
VI_FAMILY = (
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ", "hồ", "ngô",
    "dương", "lý", "đào", "đoàn", "vương", "trịnh", "đinh", "lâm", "phùng", "mai", "tô", "trương", "hà", "tạ",
    "lưu", "cao", "lương", "chu", "thái", "châu", "quách", "tăng", "lại", "kiều", "mạc", "la", "khúc", "triệu",
    "từ", "hứa", "diệp", "thân", "tôn", "âu", "doãn", "giang", "kim", "lã", "lục", "ninh", "quan", "tiêu", "ông",
    "phí", "lò", "nghiêm", "văn", "khổng", "viên", "trình", "mẫn", "đàm", "lữ", "hầu", "bạch", "đồng", "quang",
)

# Middle names (also given names in their own right).
VI_MIDDLE = (
    "văn", "thị", "hữu", "đức", "minh", "ngọc", "thanh", "quốc", "xuân", "hoàng", "gia", "anh", "bảo", "kim",
    "thu", "hồng", "thành", "công", "đình", "quang", "trọng", "tuấn", "mạnh", "phương", "khánh", "hải", "nhật",
    "thùy", "thúy", "diệu", "mỹ", "như", "bích", "tường", "trung", "việt", "duy", "hoài", "thế", "tiến", "ánh",
    "kiều", "lan", "mai", "phúc", "tấn", "vĩnh", "hà", "cẩm", "tuệ", "hạnh", "thiên", "đăng", "huy", "hoài",
    "quỳnh", "tú", "ngân", "trà", "vân", "yến", "uyên", "thảo", "tâm", "khắc", "chí", "bá", "đăng", "tố", "hương",
)

# Given names.
VI_GIVEN = (
    "an", "anh", "bảo", "bình", "châu", "chi", "cường", "dung", "dũng", "duy", "dương", "đạt", "điệp", "đông",
    "đức", "giang", "hà", "hải", "hân", "hạnh", "hào", "hằng", "hậu", "hiền", "hiếu", "hiệp", "hoa", "hòa", "hoài",
    "hoàng", "hồng", "huệ", "hùng", "hưng", "hương", "hường", "huy", "huyền", "khang", "khánh", "khoa", "khôi",
    "kiên", "kiệt", "lam", "lan", "lâm", "linh", "loan", "lộc", "long", "luân", "ly", "lý", "mai", "mạnh", "minh",
    "my", "mỹ", "nam", "nga", "ngân", "nghĩa", "ngọc", "nguyên", "nguyệt", "nhàn", "nhật", "nhi", "nhung", "như",
    "oanh", "phát", "phong", "phú", "phúc", "phụng", "phương", "phượng", "quang", "quân", "quốc", "quý", "quyên",
    "quỳnh", "sang", "sơn", "sương", "tài", "tâm", "tân", "thái", "thắm", "thắng", "thanh", "thành", "thảo", "thiện",
    "thịnh", "thơ", "thoa", "thu", "thủy", "thùy", "thúy", "thư", "tiên", "tiến", "tín", "toàn", "trâm", "trang",
    "trí", "triết", "trinh", "trọng", "trung", "tú", "tuấn", "tùng", "tuyết", "uyên", "vân", "việt", "vinh", "vĩnh",
    "vũ", "vy", "xuân", "yến", "ánh", "bích", "cúc", "diễm", "diệu", "đào", "giao", "hạ", "hiển", "hòa", "huân",
    "kha", "khải", "khuê", "kim", "lệ", "liên", "liễu", "lợi", "lụa", "mẫn", "nhã", "nhân", "nhu", "phi", "sa",
    "sinh", "tâm", "thạch", "thế", "thông", "thục", "tình", "trà", "trúc", "tuệ", "tường", "vi", "yên", "hưởng",
    "hiên", "quế", "đăng", "duyên", "hợp", "lực", "nhiên", "phước", "tuyền", "khoa", "bằng", "công", "đạo", "hiếu",
)

# Forms of address used before a given name ("anh Tuấn", "chị Lan"), with chat shorthands.
VI_HONORIFICS = ("anh", "chị", "em", "cô", "chú", "bác", "ông", "bà", "bạn", "dì", "cậu", "mợ", "thím", "cháu",
                 "bé", "a", "c", "e")
VI_HONORIFICS_ASCII = ("anh", "chi", "em", "co", "chu", "bac", "ong", "ba", "ban", "a", "c", "e")

# Words that end a name: Vietnamese function words, verbs and nouns that follow a name in
# chat ("giao cho chị Lan ở ...", "anh ơi", "cô ấy"), with and without accents.
VI_STOP = (
    "ơi", "oi", "ấy", "ay", "nhé", "nhe", "nha", "nhá", "nhen", "ạ", "à", "với", "voi", "và", "va", "ở", "o", "tại",
    "tai", "trước", "truoc", "sau", "lúc", "luc", "giúp", "giup", "dùm", "dum", "hộ", "nhà", "số", "so", "sđt",
    "sdt", "đt", "dt", "địa", "dia", "theo", "đến", "den", "tới", "toi", "qua", "khi", "để", "de", "là", "la",
    "của", "cua", "này", "nay", "đó", "thì", "cũng", "cung", "không", "khong", "ko", "k", "được", "duoc", "đc",
    "dc", "rồi", "roi", "mà", "ma", "nữa", "nua", "luôn", "luon", "hàng", "đơn", "don", "shop", "mình", "ạ", "vì",
    "vi", "nên", "nen", "sẽ", "se", "đã", "da", "đang", "dang", "muốn", "muon", "cần", "can", "gọi", "goi", "call",
    "liên", "lien", "lh", "zalo", "hoặc", "hoac", "hay", "bên", "ben", "trong", "ngoài", "ngoai", "chưa", "chua",
    "có", "ship", "giao", "gửi", "gui", "nhận", "nhan", "cho", "từ", "tu", "ra", "vào", "vao", "lên", "len",
    "xuống", "xuong", "đi", "di", "về", "ve", "hết", "het", "ấy", "kia", "đây", "day", "thôi", "thoi", "nhiều",
    "nhieu", "ít", "it", "rất", "rat", "quá", "qua", "lắm", "lam", "hơn", "hon", "nhất", "nhat", "tại", "bị", "bi",
    "yêu", "yeu", "ấ", "em", "chị", "anh", "trai", "gái", "gai", "họ", "rể", "dâu", "cả", "út", "ut", "bé", "be",
    "nhỏ", "lớn", "lon", "ruột", "ruot", "họ", "kết", "ket", "nội", "noi", "ngoại", "ngoai", "giáo", "già", "chủ",
    "xóm", "trẻ", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "hai", "ba", "các", "cac", "những", "nhung", "xã", "phường", "quận", "huyện", "tỉnh", "thành",
    "đường", "duong", "phố", "pho", "ngõ", "hẻm", "hem", "tp", "q", "p", "chị", "nhanh", "gấp", "gap", "trả",
    "tiền", "tien", "cod", "giùm", "gium", "mới", "moi", "ơn", "on", "tên", "ten", "ngày", "ngay", "giờ", "gio",
    "chiều", "chieu", "sáng", "sang", "tối", "toi", "mai", "thứ", "thu", "tuần", "tuan", "tháng", "thang",
    "bảo", "vệ", "lễ", "tân", "tiếp", "tân", "kho", "công", "ty", "văn", "phòng", "người", "nguoi",
)
# Words that may follow a name but are names themselves in a chat typed without accents;
# they end a name only when written in lower case in an accented text (mai, thu, tuan,...).
VI_STOP_ACCENTED_ONLY = ("mai", "thu", "tuan", "lam", "sang", "tan", "bao", "cong", "van", "thanh", "tien", "on",
                         "vi", "la", "da", "ve", "ho", "tu", "can", "hon", "be", "ban", "di", "gia", "phong")

# Two-word phrases of a honorific and a common word, in texts typed without accents:
# "ban hang" (bán hàng, selling), "chi phi" (chi phí, cost), "co the" (có thể, can).
VI_ASCII_PHRASES = (
    "ban hang", "ban an", "ban be", "ban gai", "ban trai", "ban than", "ban tin", "ban le", "ban si", "ban ghe",
    "ban phim", "ban chai", "ban do", "ban la", "ban ui", "chi phi", "chi tiet", "chi nhanh", "chi can", "chi co",
    "chi la", "chi tieu", "chi em", "co the", "co hang", "co ai", "co gi", "co san", "co size", "co mau", "co giao",
    "co gai", "co dau", "co tien", "co hoa", "co mai", "co nam", "co an", "co long", "co ve", "co dinh", "co so",
    "co phan", "co don", "co ship", "co khi", "co le", "co nhieu", "co nen", "co duoc", "co chu", "co chi", "em be",
    "em trai", "em gai", "em yeu", "em ho", "anh chi", "anh em", "anh ay", "anh trai", "anh yeu", "anh sang",
    "anh dao", "anh hung", "anh huong", "anh ho", "anh re", "chu y", "chu de", "chu nhat", "chu so", "chu ky",
    "chu thich", "chu nha", "chu shop", "chu tich", "bac si", "bac ha", "bac ninh", "bac giang", "bac lieu",
    "bac kinh", "ong hut", "ong nuoc", "ong noi", "ong ngoai", "ong ba", "ba ba", "ba lo", "ba con", "ba me",
    "ba noi", "ba ngoai", "ba ria", "ba na", "ba chieu", "ba trieu", "ba dinh", "ba bau", "ba xa", "ba hoa",
    "ba tam", "ba nam", "ba ngay", "ba mau", "ba lan", "ba phong", "ban mai", "co hai", "co tam", "co ba",
    "anh minh", "chi hang", "e can", "e muon", "a oi", "c oi", "e oi",
)

# Things named like people: shops, brands, places and famous streets that must stay.
VI_NOT_NAMES = (
    "nguyễn kim", "điện máy xanh", "thế giới di động", "kinh đô", "an giang", "hòa bình", "phú quốc", "hà nội",
    "hồ chí minh", "bà rịa", "bà nà", "bà đen", "bà chiểu", "bà triệu", "bà trưng", "hai bà trưng", "ông lãnh",
    "cô tô", "bà huyện thanh quan", "ông ích khiêm", "bà điểm", "ông tạ", "lê lợi", "lê lai", "lê duẩn", "lê thánh tôn",
    "lê văn sỹ", "lê văn việt", "lê hồng phong", "lê quý đôn", "lê đại hành", "lê văn lương", "lê trọng tấn",
    "lê đức thọ", "lê quang định", "nguyễn trãi", "nguyễn huệ", "nguyễn du", "nguyễn văn linh", "nguyễn văn cừ",
    "nguyễn thị minh khai", "nguyễn đình chiểu", "nguyễn thái học", "nguyễn chí thanh", "nguyễn văn trỗi",
    "nguyễn oanh", "nguyễn kiệm", "nguyễn tri phương", "nguyễn văn thủ", "nguyễn hữu cảnh", "nguyễn thị thập",
    "nguyễn xiển", "nguyễn duy trinh", "nguyễn ảnh thủ", "nguyễn văn quá", "nguyễn sơn", "nguyễn lương bằng",
    "nguyễn khang", "nguyễn phong sắc", "nguyễn văn huyên", "nguyễn thị định", "nguyễn tất thành", "nguyễn cư trinh",
    "trần hưng đạo", "trần phú", "trần quốc toản", "trần quang khải", "trần duy hưng", "trần não", "trần khát chân",
    "trần nhân tông", "trần xuân soạn", "trần quốc thảo", "trần bình trọng", "trần đại nghĩa", "trần cung",
    "lý thường kiệt", "lý thái tổ", "lý tự trọng", "lý chính thắng", "lý nam đế", "phạm ngũ lão", "phạm văn đồng",
    "phạm hùng", "phạm văn bạch", "phạm thế hiển", "phạm văn chiêu", "phan đình phùng", "phan chu trinh",
    "phan bội châu", "phan xích long", "phan văn trị", "phan đăng lưu", "phan văn hớn", "võ văn tần", "võ văn kiệt",
    "võ thị sáu", "võ nguyên giáp", "võ thị sáu", "hoàng văn thụ", "hoàng diệu", "hoàng hoa thám", "hoàng quốc việt",
    "hoàng sa", "huỳnh tấn phát", "huỳnh thúc kháng", "huỳnh văn bánh", "đinh tiên hoàng", "đinh bộ lĩnh",
    "ngô quyền", "ngô gia tự", "ngô tất tố", "ngô thì nhậm", "hồ tùng mậu", "hồ xuân hương", "hồ văn huê",
    "hồ chí minh", "đặng văn ngữ", "đặng thai mai", "đặng dung", "bùi thị xuân", "bùi viện", "bùi hữu nghĩa",
    "đỗ xuân hợp", "đỗ quang", "tô hiến thành", "tô ngọc vân", "tôn đức thắng", "tôn thất thuyết", "trương định",
    "trương công định", "cao thắng", "cao bá quát", "cao lỗ", "chu văn an", "mạc đĩnh chi", "mạc thị bưởi",
    "lương định của", "đào duy anh", "đào duy từ", "quang trung", "vũ trọng phụng", "vũ tông phan", "hàm nghi",
    "kim mã", "giang văn minh", "mai chí thọ", "mai hắc đế", "thái hà", "dương bá trạc", "lạc long quân",
    "đoàn văn bơ", "lê thị riêng", "nam kỳ khởi nghĩa", "ngô đức kế", "thái văn lung", "trịnh đình trọng",
    "phùng hưng", "phùng khắc khoan", "âu cơ", "đồng khởi", "lê văn thiêm", "hà huy tập", "tạ quang bửu",
    "lâm đồng", "thái bình", "thái nguyên", "hà giang", "hà nam", "hà tĩnh", "cao bằng", "quảng ninh", "hà đông",
    "mai linh", "phương trang", "kim đồng", "hoàng anh gia lai", "trung nguyên", "hồng hà", "thiên long",
    "vĩnh long", "long an", "kiên giang", "tiền giang", "hậu giang", "trà vinh", "bình dương", "bình định",
    "bình thuận", "bình phước", "bình thạnh", "gia lai", "nam định", "ninh bình", "bắc ninh", "bắc giang",
)

# English: personal titles, and the given names a lower-case "deliver to john smith" may hold.
EN_TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mdm", "khun", "k.")
EN_FIRST_NAMES = (
    "james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas", "charles", "daniel",
    "matthew", "anthony", "mark", "paul", "steven", "andrew", "kevin", "brian", "george", "edward", "peter", "jack",
    "harry", "oliver", "henry", "sam", "ben", "tom", "alex", "chris", "mike", "nick", "eric", "jason", "ryan",
    "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen", "lisa",
    "nancy", "emily", "emma", "olivia", "sophia", "anna", "amy", "kate", "laura", "rachel", "jane", "helen", "lucy",
    "grace", "alice", "chloe", "mia", "ella", "sophie", "hannah", "julia", "maria", "nina", "tina", "lily", "rose",
    "somchai", "somsak", "somying", "malee", "siriporn", "kanya", "nattapong", "wanida", "anan", "pim", "ploy",
)

# Brands, characters and places written like an English name, which a title or a context
# word may stand before ("Dr. Martens", "this is Harry Potter").
EN_NOT_NAMES = (
    "calvin klein", "ralph lauren", "johnnie walker", "harry potter", "central world", "tommy hilfiger",
    "louis vuitton", "hugo boss", "ted baker", "michael kors", "kate spade", "tory burch", "marc jacobs",
    "vera wang", "christian dior", "yves saint laurent", "giorgio armani", "dolce gabbana", "estee lauder",
    "paul smith", "jack daniels", "jack daniel's", "jim beam", "hello kitty", "mickey mouse", "minnie mouse",
    "martens", "dr martens", "dr. martens", "mr clean", "mr bean", "dr pepper", "miss dior", "mr. bean",
    "anne klein", "kenneth cole", "vince camuto", "steve madden", "jimmy choo", "charles keith", "charles & keith",
    "victoria secret", "victoria's secret", "peter pan", "spider man", "santa claus", "tom ford", "ray ban",
    "jo malone", "ben jerry", "john lewis", "marks spencer", "dr. pepper", "dr.jart", "dr jart", "dr. jart",
    "central", "siam paragon", "terminal", "emporium", "big c", "lotus", "tesco", "uniqlo", "zara", "nike",
    "adidas", "apple", "samsung", "xiaomi", "oppo", "london", "bangkok", "hanoi", "saigon", "singapore",
    "chiang mai", "phuket", "pattaya", "new york", "paris", "tokyo", "seoul", "sydney", "melbourne", "manchester",
    "mom", "mum", "dad", "mother", "father", "grandma", "grandpa", "my", "the", "our", "your", "front", "office",
    "reception", "customer", "same", "above", "below", "home", "house", "building", "apartment", "flat", "unit",
    "mother's", "father's", "valentine", "christmas", "birthday", "sale", "free", "please", "thanks", "thank",
)
EN_STOP = (
    "please", "pls", "plz", "thanks", "thank", "and", "or", "at", "in", "on", "from", "with", "by", "before",
    "after", "tomorrow", "today", "asap", "tel", "phone", "mobile", "call", "the", "a", "an", "is", "was", "will",
    "street", "road", "avenue", "lane", "st", "rd", "ave", "building", "floor", "room", "apartment", "flat", "unit",
    "district", "ward", "province", "city", "soi", "moo", "address", "if", "when", "not", "no", "yes", "ok",
    "for", "to", "of", "via", "who", "he", "she", "they", "it", "this", "that", "i", "we", "you", "me", "us",
)

# Thai titles, longest first where one begins another.
TH_TITLES = ("นางสาว", "น.ส.", "นส.", "นาง", "นาย", "ด.ช.", "ด.ญ.", "เด็กชาย", "เด็กหญิง", "คุณ", "ดร.")
# What may follow a title without being a name: "คุณภาพ" (quality), "คุณแม่" (mother),
# "นายหน้า" (broker), "นางแบบ" (model), and "คุณ" as "you" before a verb.
TH_NOT_NAME_STARTS = (
    "ภาพ", "สมบัติ", "ค่า", "แม่", "พ่อ", "ลูกค้า", "ผู้", "ยาย", "ปู่", "ย่า", "ครู", "หมอ", "ป้า", "ลุง",
    "น้า", "ธรรม", "ประโยชน์", "หน้า", "จ้าง", "แบบ", "ฟ้า", "พยาบาล", "กำนัล", "ได้", "จะ", "ต้อง", "เป็น", "ชอบ",
    "อยาก", "มี", "มั่นใจ", "ใช้", "รู้สึก", "สวย", "ก็", "ไม่", "ลอง", "ทำ", "คือ", "กำลัง", "เคย", "ยัง",
    "แน่ใจ", "เลือก", "ซื้อ", "สั่ง", "รับ", "ส่ง", "ค่ะ", "คะ", "ครับ", "นะ", "จ้า", "ท่าน", "ๆ", "เอง", "และ",
    "หรือ", "กับ", "ของ", "ที่", "ทุก", "ช่วย", "ลูก", "พี่", "น้อง", "หนู", "เธอ", "เขา", "ผม", "ฉัน", "เรา",
    "สามารถ", "ควร", "อยู่", "เลย", "แล้ว", "ร้าน", "แอด", "หมู่",
)
# Words glued after a Thai name that end it ("คุณสมชายค่ะ", "คุณสมชายที่บ้าน").
TH_NAME_ENDS = ("ค่ะ", "คะ", "ครับ", "คับ", "นะ", "จ้า", "จ้ะ", "ด้วย", "หน่อย", "ที่อยู่", "ที่", "บ้านเลขที่",
                "บ้าน", "เบอร์", "โทร", "ได้", "เลย", "ให้", "และ", "กับ", "ของ", "ส่ง", "รับ", "ตอน", "จ้า",
                "ถนน", "ซอย", "หมู่", "ตำบล", "อำเภอ", "จังหวัด", "แขวง", "เขต", "ค่า", "ขอบคุณ", "เลขที่", "เคย",
                "ซื้อ", "สั่ง", "เป็นคน", "เป็น", "จ่าย", "โอน", "คอนโด", "ห้อง", "ชั้น", "อาคาร",
                # glued after a surname: "ปักชื่อ ... บนเสื้อ" (on the shirt), a question, a code, a
                # product, or the title of the next name
                "บน", "สอบถาม", "รหัส", "ขนาด", "ราคา", "ขาย", "ชุด", "เสื้อ", "รองเท้า", "นางสาว", "นาง",
                "นาย", "น.ส.", "ด.ช.", "ด.ญ.")
# A word after a Thai given name and a space that is not a surname.
TH_NOT_SURNAMES = TH_NAME_ENDS + ("ส่ง", "รับ", "โทร", "เบอร์", "ที่", "บ้าน", "ค่ะ", "ครับ", "นะ", "ด่วน", "ขอ",
                                  "ช่วย", "จ่าย", "โอน", "ผู้", "ชื่อ", "ไลน์", "อีเมล", "คุณ", "นาย", "นาง", "ได้",
                                  "เลข", "ลูกค้า", "เป็น", "อยู่", "ไม่", "จะ", "แล้ว", "หรือ", "และ", "เวลา", "วัน",
                                  "พรุ่งนี้", "วันนี้", "กรุง", "เชียง", "จ.", "อ.", "ต.", "ถ.", "ซ.", "ม.")
TH_NOT_NAMES = ("เซ็นทรัลเวิลด์", "สยามพารากอน", "เซ็นทรัล", "โลตัส", "บิ๊กซี")
