"""People's names in free text (issue 12): Vietnamese with and without accents, Thai with
titles glued or spaced, English after titles and context words; and the shops, brands,
places, streets and phrases that only look like names."""

from __future__ import annotations

import pytest

from streams.detectors import redact_text, scan
from streams.detectors.base import ScanText
from streams.detectors.person_name import PersonNameDetector


def names(text: str) -> list[str]:
    return [text[f.start:f.end] for f in scan(text) if f.kind == "NAME"]


@pytest.mark.parametrize("text, name", [
    # Vietnamese, accents, forms of address, context words
    ("Giao cho anh Nguyễn Văn An ở 12 Lý Thường Kiệt, Hoàn Kiếm nhé", "Nguyễn Văn An"),
    ("Người nhận: Trần Thị Mai, sđt 0912345678", "Trần Thị Mai"),
    ("gửi chị Hương giúp em", "Hương"),
    ("Chị Lan ơi, em đặt 2 cái", "Lan"),
    ("ship cho a Tuấn nhé", "Tuấn"),
    ("e cảm ơn c Lan nhiều", "Lan"),
    ("nhờ shop gửi cho bạn Minh Anh", "Minh Anh"),
    ("giao cho anh Bờm nhé", "Bờm"),  # context decides: in no list
    ("giao cho Nguyễn Văn An", "Nguyễn Văn An"),
    # Vietnamese without accents, lower case and capitals
    ("giao cho chi lan o 45 nguyen trai q1 nhe shop", "lan"),
    ("nguoi nhan: tran thi mai", "tran thi mai"),
    ("nguyen van an dat hang", "nguyen van an"),
    ("Pls refund, name TRAN THI MAI, phone", "TRAN THI MAI"),
    ("Em la Ho Gia Huyen, dat don 240911F9161VQ", "Ho Gia Huyen"),
    ("Chuyển khoản tên BUI TUAN THUY nha", "BUI TUAN THUY"),
    # Thai: titles with and without a space, surnames, context words
    ("ส่งให้คุณสมชาย ใจดี บ้านเลขที่ 99/1 ถนนสุขุมวิท", "สมชาย ใจดี"),
    ("ผู้รับ สมชาย ใจดี", "สมชาย ใจดี"),
    ("ผู้รับ: นางสาวมาลี สุขใจ โทร 0812345678", "มาลี สุขใจ"),
    ("ฝากถึงคุณวิภา ด้วยนะคะ", "วิภา"),
    ("ส่งให้ น.ส.ปราณี รักดี", "ปราณี รักดี"),
    ("ด.ช.ธนา มีสุข", "ธนา มีสุข"),
    ("คุณ สมศักดิ์ ค่ะ", "สมศักดิ์"),
    ("ชื่อ สมหญิง ขอใบเสร็จ", "สมหญิง"),
    ("ชัยวัฒน์ 089-847-2640 277/92 ถนนนิมมานเหมินท์", "ชัยวัฒน์"),
    # English: titles, context words, a name opening an address line, a name before a phone
    ("Please deliver to Mr John Smith, 221B Baker Street", "John Smith"),
    ("Recipient: Jane Doe", "Jane Doe"),
    ("gift for Emily Tran", "Emily Tran"),
    ("this is Jane Doe speaking", "Jane Doe"),
    ("Attn: Mr. Smith", "Smith"),
    ("c/o Peter Parker", "Peter Parker"),
    ("Name: john smith", "john smith"),
    ("deliver to john smith tomorrow", "john smith"),
    ("Khun Somchai please call", "Somchai"),
    ("Sarah Lim, 199 Điện Biên Phủ, Bến Nghé", "Sarah Lim"),
    ("Ship to 187 Nathan Road (John Harris, 0390 23 51 46)", "John Harris"),
    ("Bank account: 864737448 (VPBank), holder Grace Miller", "Grace Miller"),
    # an account holder after the bank's name, a name in brackets after a phone number
    ("STK: 0451000123456 - Vietcombank - TRAN MINH KHOA", "TRAN MINH KHOA"),
    ("stk 19033344455566 - tcb - le thu ha, em cam on", "le thu ha"),
    ("không nghe máy gọi 0903 111 222 (chị Thu Hà)", "Thu Hà"),
    ("goi so phu 0912.345.678 (a hùng)", "hùng"),
    ("Contact +84 903 111 222 (Lam Tuan)", "Lam Tuan"),
    # a family name that is also a common word, after a name label: "ngõ", "đang", "làm"
    ("Chuyển khoản tên NGO MINH THU nha", "NGO MINH THU"),
    ("chu tk lam bao chau", "lam bao chau"),
    ("tên người nhận: đinh văn quý", "đinh văn quý"),
    # an address line's capitals, with the address vouching for the name; a name after a number and a comma
    ("Ship to Olivia Novak, 18 Orchard Road, Singapore 238823", "Olivia Novak"),
    ("Ship to 5 Kim Mã, Ba Đình, Hà Nội (Priya Larsen, 0912 345 678)", "Priya Larsen"),
    ("Địa chỉ: 88 Lê Lợi, Quận 1, Phan Thị Ngọc Hân", "Phan Thị Ngọc Hân"),
    ("Hi, this is Tomasz from order 2411309AB7KQ1", "Tomasz"),
    # Thai: "in the name of", a title after a sentence's particle, a surname glued to the next word
    ("ออกใบกำกับภาษีในนามสมปอง ศรีวงศ์ ด้วยค่ะ", "สมปอง ศรีวงศ์"),
    ("ขอบคุณค่ะนายวีระ ทองสุขเป็นคนรับ", "วีระ ทองสุข"),
    ("ปักชื่อ คุณกมล ใจงามบนหมวก", "กมล ใจงาม"),
    # typed without accents after a sentence with accents: the delivery verb vouches for it
    ("Liên hệ em nhé. giao cho chi tran zubmac o so 426 ngo 52 nguyen trai q1 nhe shop", "tran zubmac"),
])
def test_when_a_person_is_named_then_the_name_is_found(text, name):
    assert name in names(text), scan(text)


@pytest.mark.parametrize("text", [
    # shops, brands and places named like people
    "Mua ở Nguyễn Kim rẻ hơn", "cửa hàng Nguyễn Kim Quận 1", "Điện Máy Xanh có bán", "Thế Giới Di Động chi nhánh Quận 1",
    "Bánh Kinh Đô hộp thiếc", "Gửi hàng về An Giang", "Hòa Bình, Phú Quốc", "Calvin Klein men's jeans",
    "Ralph Lauren polo shirt", "Johnnie Walker Black Label 700ml", "Harry Potter box set", "Central World Bangkok",
    "Dr. Martens boots size 42", "Mr Bean figure", "Nhà sách Phương Nam", "Bà Rịa - Vũng Tàu", "Hai Bà Trưng, Hà Nội",
    "Deliver to Ha Long Bay branch", "Do you ship to Saint Petersburg?", "Pick up at Ho Chi Minh City is fine",
    "ship to Bangkok please", "deliver to 99 Sukhumvit Road", "This is Amazing", "Logitech MX Master 3S",
    # streets without a house number
    "đường Lê Lợi rất đẹp", "khu phố Tây Phạm Ngũ Lão", "Nguyễn Trãi, Quận 5", "Shop o pho To Hien Thanh phai khong a",
    "Kho hang gan Phong Vu Duong Kim Ma",
    # phrases with forms of address
    "Học Tiếng Anh cho bé", "Sách Tiếng Anh Giao Tiếp", "quà cho anh chị em", "đồ chơi cho em bé",
    "quà tặng chị em phụ nữ", "cô ấy thích màu hồng", "anh hùng bàn phím", "em muốn đổi size",
    "a oi shop con hang ko", "giao cho shop nhé", "Áo Sơ Mi Nam Cho Anh Trai", "iPhone 15 Pro Max cho anh em",
    "Em cảm ơn ông nội nhiều", "Em gửi CCCD 001305012345 để làm hợp đồng",
    # typed without accents: selling, cost, can, office supplies
    "ban hang online gia re", "chi phi van chuyen 30k", "co the giao truoc 5h khong", "do van phong pham gia re",
    "Đồ Văn Phòng Phẩm",
    # Thai words that open with a title
    "ขอบคุณมากค่ะ", "คุณภาพดีมาก", "คุณสมบัติ: กันน้ำ", "ส่งให้ด้วยนะคะ", "ชื่อสินค้า เสื้อยืด", "เพื่อคุณแม่",
    "คุณสามารถใช้งานได้ทันที", "ขายเองไม่ผ่านนายหน้า", "ชุดนางฟ้าสำหรับงานแฟนซี",
    # sizes, SKUs, order numbers, prices
    "Áo thun nam cotton size 42", "SKU VN-0408-RED, đơn 240612KJ8H3F7N, giá 150.000đ", "STK MB 0912345678",
    # after a phone or a bank: a carrier, a label, a branch
    "Hotline 0912345678 (Viettel)", "gọi 0912 345 678 (zalo)", "Chi nhánh 0912 345 678 (Bình Dương)",
    "Hotline 0283 456 789 (Khánh Hòa)", "STK 0071000123456 - Vietcombank - Sở Giao Dịch",
    "STK 19033344455566 - Techcombank - Hoàn Kiếm branch", "Hi, this is Samsung from Korea",
    "this is Shopee from Singapore", "STK 0123456789 - Vietcombank - Chi Nhánh Hà Nội",
    "ใบกำกับภาษีในนามบริษัท เอบีซี จำกัด",
])
def test_when_a_text_only_looks_like_a_name_then_no_name_is_found(text):
    assert names(text) == [], scan(text)


def test_when_a_name_is_redacted_then_its_form_of_address_stays():
    assert redact_text("Giao cho anh Nguyễn Văn An nhé")[0] == "Giao cho anh [NAME] nhé"
    assert redact_text("ส่งให้คุณสมชาย ใจดี")[0] == "ส่งให้คุณ[NAME]"


def test_when_the_detector_is_read_then_its_kind_and_placeholder_are_name():
    detector = PersonNameDetector()
    assert detector.kind == "NAME" and detector.placeholder == "[NAME]"
    assert list(detector.find(ScanText(""))) == []
