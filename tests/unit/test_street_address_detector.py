"""Street addresses in free text (R2, postal address): Thai, Vietnamese with and without
accents, English. A house number, a street-level marker and a second marker or a postal
code make an address; the whole address up to its postal code is one finding. Product
texts with numbers next to marker-like words stay as they are, and a phone number next to
an address stays a phone number."""

from __future__ import annotations

import unicodedata
from collections import Counter

import pytest

from streams.detectors import redact_text, scan
from streams.detectors.base import ScanText
from streams.detectors.street_address import StreetAddressDetector


def addresses(text: str) -> list[str]:
    return [text[f.start:f.end] for f in scan(text) if f.kind == "ADDRESS"]


@pytest.mark.parametrize("text, address", [
    # Thai: full words, abbreviations, Bangkok's แขวง/เขต, glued to the words around, Thai digits
    ("ส่งที่ทำงาน 141/14 ถนนสุขุมวิท ตำบลบ้านสวน อำเภอเมืองชลบุรี จังหวัดชลบุรี 20000 ค่ะ",
     "141/14 ถนนสุขุมวิท ตำบลบ้านสวน อำเภอเมืองชลบุรี จังหวัดชลบุรี 20000"),
    ("ที่อยู่ 99/5 หมู่ 3 ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี 11120", "99/5 หมู่ 3 ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี 11120"),
    ("ส่ง 152/56 ซอยสุขุมวิท 6 แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพฯ นะคะ",
     "152/56 ซอยสุขุมวิท 6 แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพฯ"),
    ("บ้านเลขที่ 45 ซ.ลาดพร้าว 71 แขวงลาดพร้าว เขตลาดพร้าว กทม. 10230",
     "บ้านเลขที่ 45 ซ.ลาดพร้าว 71 แขวงลาดพร้าว เขตลาดพร้าว กทม. 10230"),
    ("ที่อยู่12/3ถ.นิมมานเหมินท์ ต.สุเทพ อ.เมืองเชียงใหม่ จ.เชียงใหม่ 50200ค่ะ",
     "12/3ถ.นิมมานเหมินท์ ต.สุเทพ อ.เมืองเชียงใหม่ จ.เชียงใหม่ 50200"),
    ("ส่ง ๑๔๑/๑๔ ถนนสุขุมวิท ตำบลบ้านสวน ๒๐๐๐๐", "๑๔๑/๑๔ ถนนสุขุมวิท ตำบลบ้านสวน ๒๐๐๐๐"),
    ("เลขที่ 7 หมู่ 2 ตำบลหาดใหญ่ อำเภอหาดใหญ่ จังหวัดสงขลา", "เลขที่ 7 หมู่ 2 ตำบลหาดใหญ่ อำเภอหาดใหญ่ จังหวัดสงขลา"),
    ("88 ถนนพหลโยธิน แขวงสามเสนใน กรุงเทพมหานคร", "88 ถนนพหลโยธิน แขวงสามเสนใน กรุงเทพมหานคร"),
    # Vietnamese: with accents, abbreviations, hẻm/ngõ, named streets, without accents, lower case
    ("Số 147 ngõ 114 Hai Bà Trưng, P. Bến Nghé, Q. Quận 1, TP.HCM",
     "Số 147 ngõ 114 Hai Bà Trưng, P. Bến Nghé, Q. Quận 1, TP.HCM"),
    ("Giao 12A Đường Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh 700000 giờ hành chính",
     "12A Đường Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh 700000"),
    ("25/3 Hẻm 12 Phan Xích Long, Phường 7, Quận Phú Nhuận", "25/3 Hẻm 12 Phan Xích Long, Phường 7, Quận Phú Nhuận"),
    ("Ship to 435 Nguyễn Trãi, Hải Châu 1, Hải Châu, Đà Nẵng (John Miller)", "435 Nguyễn Trãi, Hải Châu 1, Hải Châu, Đà Nẵng"),
    ("Giao đến 269 Lý Thường Kiệt, Dịch Vọng, Cầu Giấy, Hà Nội. Người nhận chị Lan",
     "269 Lý Thường Kiệt, Dịch Vọng, Cầu Giấy, Hà Nội"),
    ("so 147 ngo 114 hai ba trung, p. ben nghe, quan 1, tphcm", "so 147 ngo 114 hai ba trung, p. ben nghe, quan 1, tphcm"),
    ("Dia chi: 58 Duong Tran Phu, Phuong 4, Quan 5, TP HCM", "58 Duong Tran Phu, Phuong 4, Quan 5, TP HCM"),
    ("Số 5 Phố Huế, Phường Ngô Thì Nhậm, Quận Hai Bà Trưng, Hà Nội 100000",
     "Số 5 Phố Huế, Phường Ngô Thì Nhậm, Quận Hai Bà Trưng, Hà Nội 100000"),
    ("Nhà 17 Xã Hòa Tiến, Huyện Hòa Vang, Đà Nẵng", "17 Xã Hòa Tiến, Huyện Hòa Vang, Đà Nẵng"),
    ("giao 32 Nguyễn Văn Linh, Phường Tân Phong, Quận 7 trước 5h", "32 Nguyễn Văn Linh, Phường Tân Phong, Quận 7"),
    ("Số nhà 9 ngách 12 ngõ 34 Thái Hà, Đống Đa, Hà Nội", "Số nhà 9 ngách 12 ngõ 34 Thái Hà, Đống Đa, Hà Nội"),
    # English, for Thai and Vietnamese places
    ("Deliver to 99 Sukhumvit Road, Khlong Toei District, Bangkok 10110 please",
     "99 Sukhumvit Road, Khlong Toei District, Bangkok 10110"),
    ("12 Main Street, Ward 3, District 1, Ho Chi Minh City", "12 Main Street, Ward 3, District 1, Ho Chi Minh City"),
    ("45 Sukhumvit Soi 11, Khlong Toei Nuea, Watthana District, Bangkok 10110",
     "45 Sukhumvit Soi 11, Khlong Toei Nuea, Watthana District, Bangkok 10110"),
    ("No. 7 Moo 4, Tambon Nong Prue, Bang Lamung District, Chonburi 20150",
     "No. 7 Moo 4, Tambon Nong Prue, Bang Lamung District, Chonburi 20150"),
    ("House 23/9 Soi 4, Chalong, Mueang Phuket District, Phuket 83130",
     "23/9 Soi 4, Chalong, Mueang Phuket District, Phuket 83130"),
    ("ship to 18 nimman rd, suthep, chiang mai 50200", "18 nimman rd, suthep, chiang mai 50200"),
    ("Office: 210 Le Loi Street, Ben Thanh Ward, District 1", "210 Le Loi Street, Ben Thanh Ward, District 1"),
])
def test_when_a_street_address_is_written_then_it_is_one_finding_up_to_its_postal_code(text, address):
    assert addresses(text) == [address], scan(text)


@pytest.mark.parametrize("text", [
    "Giày sneaker size 41/42, còn hàng",
    "pack of 3 bottles, free shipping to Bangkok",
    "model 2024 road bike, 21 speed",
    "2 road bikes from Bangkok Province",
    "2024 Road Bike, Bangkok Province warehouse",
    "Trà sữa 2 ly ít đường, giao Quận 1, TP.HCM",
    "giao ngày 25/3 đến Phường 7, Quận 3",
    "Áo thun 3 màu, giao nhanh 2h Hà Nội, TP.HCM",
    "Flash sale 11/11 - Freeship Quận 1, Quận 3",
    "Mua 2 tặng 1, chi nhánh Hà Nội và Đà Nẵng",
    "ส่งฟรี 3 ชิ้น ถึงกรุงเทพฯ และเชียงใหม่",
    "ส่งภายใน 1-3 วัน (กทม.) 3-5 วัน (ต่างจังหวัด)",
    "รุ่น 2024 ถนนดำ ขนาด 12 นิ้ว",
    "Only 5 left! Street style hoodie, District collection",
    "Kem chống nắng SPF50+ 50ml, phố cổ Hội An",
    "Canon EOS R50 kit 18-45, bảo hành 12 tháng tại Hà Nội, TP.HCM",
    "Router 192.168.1.1 at 12 Road, version 2.4",
    "150k/chiếc, Quận 1, Quận 3 ship 20k",
    "Phường 7, Quận 3, TP.HCM",  # an area without a house number is not a street address
])
def test_when_a_product_text_has_numbers_near_place_words_then_no_address_is_found(text):
    assert addresses(text) == [], scan(text)


@pytest.mark.parametrize("text, address, phone", [
    ("ที่อยู่ 99/5 หมู่ 3 ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี 11120 โทร 0813047046",
     "99/5 หมู่ 3 ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี 11120", "0813047046"),
    ("ส่ง 141/14 ถนนสุขุมวิท ตำบลบ้านสวน จังหวัดชลบุรี โทร0813047046ค่ะ",
     "141/14 ถนนสุขุมวิท ตำบลบ้านสวน จังหวัดชลบุรี", "0813047046"),
    ("Số 147 ngõ 114 Hai Bà Trưng, P. Bến Nghé, Q.1, TP.HCM, tel 090-271-8900",
     "Số 147 ngõ 114 Hai Bà Trưng, P. Bến Nghé, Q.1, TP.HCM", "090-271-8900"),
    ("12 Main Street, District 1, HCMC 0912 345 678", "12 Main Street, District 1, HCMC", "0912 345 678"),
])
def test_when_a_phone_number_follows_an_address_then_both_are_found(text, address, phone):
    assert [(f.kind, text[f.start:f.end]) for f in scan(text)] == [("ADDRESS", address), ("PHONE", phone)]


def test_when_a_phone_number_runs_into_the_house_number_then_neither_is_lost():
    text = "ศิริพร 053-675-402 41/32 ซอยสุขุมวิท 39 แขวงลาดยาว เขตจตุจักร กรุงเทพฯ 20110"
    findings = [f for f in scan(text) if f.kind != "NAME"]  # ศิริพร, the recipient, is a NAME
    assert [f.kind for f in findings] == ["PHONE", "ADDRESS"]
    assert text[findings[1].end - 5:findings[1].end] == "20110"
    assert findings[0].end <= findings[1].start


def test_when_an_address_is_redacted_then_it_becomes_one_placeholder():
    text = "ส่งที่ทำงาน 141/14 ถนนสุขุมวิท ตำบลบ้านสวน อำเภอเมืองชลบุรี จังหวัดชลบุรี 20000 ค่ะ"
    assert redact_text(text) == ("ส่งที่ทำงาน [ADDRESS] ค่ะ", Counter({"ADDRESS": 1}))


def test_when_vietnamese_is_typed_with_combining_accents_then_the_span_is_in_the_original():
    text = unicodedata.normalize("NFD", "Giao 12 Đường Lê Lợi, Phường Bến Thành, Quận 1 nhé")
    assert addresses(text) == [unicodedata.normalize("NFD", "12 Đường Lê Lợi, Phường Bến Thành, Quận 1")]


def test_when_a_text_has_no_marker_then_the_detector_does_not_run():
    detector = StreetAddressDetector()
    assert not detector.applies(ScanText("Áo thun size 42, giá 150k"))
    assert detector.applies(ScanText("12 Main Street, District 1"))
    assert detector.placeholder == "[ADDRESS]"


@pytest.mark.parametrize("text, address", [
    # issue 12: a house number and a street with no marker word, with or without accents
    ("Giao cho anh Nguyễn Văn An ở 12 Lý Thường Kiệt, Hoàn Kiếm nhé", "12 Lý Thường Kiệt"),
    ("giao cho chi lan o 45 nguyen trai q1 nhe shop", "45 nguyen trai q1"),
    ("Giao tới 474/75 Tô Hiến Thành - người nhận chị Trinh", "474/75 Tô Hiến Thành"),
    ("giao 45/7 Nguyễn Trãi giúp em", "45/7 Nguyễn Trãi"),
    ("nhà em số 8 ngõ 52 nhé", "số 8 ngõ 52"),
    ("giao vào hẻm 34 nhé", "hẻm 34"),
    ("ส่ง 99/1 ซอยสุขุมวิท 21 นะคะ", "99/1 ซอยสุขุมวิท 21"),
    ("ที่อยู่ 123 หมู่ 5 ค่ะ", "123 หมู่ 5"),
    ("ส่งให้คุณสมชาย ใจดี บ้านเลขที่ 99/1 ถนนสุขุมวิท", "บ้านเลขที่ 99/1 ถนนสุขุมวิท"),
    # English, flats, UK postcodes
    ("Please deliver to Mr John Smith, 221B Baker Street", "221B Baker Street"),
    ("ship to 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
    ("my address is 7 baker street, penang 10200", "7 baker street, penang 10200"),
    ("Send to Flat 3, 12 Orchard Road please", "Flat 3, 12 Orchard Road"),
    # apartments and buildings
    ("Giao tới Căn hộ B5-29152, chung cư Đại lộ Bình Dương, Phường Hiệp Thành, Thành phố Thủ Dầu Một, Bình Dương",
     "Căn hộ B5-29152, chung cư Đại lộ Bình Dương, Phường Hiệp Thành, Thành phố Thủ Dầu Một, Bình Dương"),
    ("giao Tòa A2 phòng 1203 nhé", "Tòa A2 phòng 1203"),
    ("Room 1416, Tower B5, Times City, Ba Dinh, Hanoi. Call me", "Room 1416, Tower B5"),
    ("ส่งที่ ห้อง 1413 ชั้น 4 คอนโดแอสปาย ต.หาดใหญ่ อ.หาดใหญ่", "ห้อง 1413 ชั้น 4 คอนโดแอสปาย ต.หาดใหญ่ อ.หาดใหญ่"),
    # the street a lane opens on, lanes in lower case, K-numbers (kiệt), units before the house
    ("Giao tới số 119 ngõ 109 Bà Triệu nhé", "số 119 ngõ 109 Bà Triệu"),
    ("d/c: 324/43 hem 162 nguyen trai, shop goi truoc", "324/43 hem 162 nguyen trai"),
    ("Đ/c: hẻm 256 Xuân Thủy", "hẻm 256 Xuân Thủy"),
    ("Ship to K313/15 Lý Thường Kiệt Phường 15", "K313/15 Lý Thường Kiệt"),
    ("em đổi địa chỉ sang 331/47 lý thường kiệt", "331/47 lý thường kiệt"),
    ("Nhà em ở 243 Cách Mạng Tháng 8 nha", "243 Cách Mạng Tháng 8"),
    ("Dr Sophie Reyes, 214 Marina Boulevard, Singapore 238823", "214 Marina Boulevard"),
    ("Mr Nguyen Diep, Apt 20D, 150 Marina Boulevard", "Apt 20D, 150 Marina Boulevard"),
    ("Address: Room 2201, Tower C3, Vinhomes Central Park", "Room 2201, Tower C3, Vinhomes Central Park"),
    ("Giao den can ho c6-9945, chung cu linh dam. Cam on", "can ho c6-9945, chung cu linh dam"),
    ("ส่งที่คอนโดเดอะ ไลน์ ห้อง 24/372 ต.หาดใหญ่ อ.หาดใหญ่", "คอนโดเดอะ ไลน์ ห้อง 24/372"),
    ("นายประยุทธ ห้อง 2105 ชั้น 5 คอนโดยู ดีไลท์ อ.เมือง จ.เชียงใหม่", "ห้อง 2105 ชั้น 5 คอนโดยู ดีไลท์"),
    ("my address is 179 baker street, hi", "179 baker street"),
    ("please deliver to mrs. Laura Schmidt, 150b silom road, london", "150b silom road"),
    ("em Hà Bảo Uyên | 098-017-4588 | hẻm 394 Trần Hưng Đạo, Phường Bến Nghé", "hẻm 394 Trần Hưng Đạo"),
    ("Shop oi cho em hoi, D/c: 247/60 Nguyen Thi Minh Khai. Em cam on", "247/60 Nguyen Thi Minh Khai"),
    ("c Tuan | Phong 1704 toa B9 Linh Dam, P. Thuong Dinh", "Phong 1704 toa B9 Linh Dam"),
    ("nhà em ở 22 hùng vương nha", "22 hùng vương"),
    # typed without accents or capitals inside a text with both: the lower-case ward marker says so
    ("Liên hệ em nhé. nguoi nhan: nguyen thi lan, 517 le loi, phuong ben nghe, quan 1", "517 le loi"),
])
def test_when_a_short_address_is_written_then_its_house_and_street_are_found(text, address):
    found_ = addresses(text)
    assert any(address in a for a in found_), scan(text)


@pytest.mark.parametrize("text", [
    "đường Lê Lợi rất đẹp",
    "Alo shop Đường Hoàng Quốc Việt đang sửa, shipper đi đường khác nhé",
    "shop ở đường xuân thủy phải không ạ",
    "ร้านอยู่ถนนรัชดาภิเษกใช่ไหมคะ",
    "The shop on Baker Street is closed today",
    "Giao 2 Hộp Bánh Kinh Đô nhé",
    "Mua 3 Áo Thun size L",
    "Only 5 left in stock, Johnnie Walker gift set",
    "Phòng khách rộng 20 m2",
    "Hàng về ngày 08/04, 317 chiếc Logitech MX Master 3S",
    "Size 37 38 39 40 41 42 43 44",
    "Giá 150.000đ, 2 màu Đen Trắng",
    "Ngõ 52 có bán bánh mì không shop",
    "Bảo hành 12 tháng, tặng 2 Điện thoại cũ",
    "ระบบแจ้งว่าเข้าสู่ระบบจาก ถ.เจริญกรุงระบบ 58.186.245.22 เวลา 16.45 น.",
    "we spent 3 days on silom road last year",
    "the shop on nathan road is closed today",
    "phong cách 2024 mới nhất",
])
def test_when_a_street_has_no_house_number_or_a_number_is_no_house_then_no_address_is_found(text):
    assert addresses(text) == [], scan(text)
