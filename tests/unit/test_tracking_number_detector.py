"""Carrier tracking numbers (issue 12): UPU S10 anywhere when its check digit holds, and after
a tracking word whatever it is; carrier formats (SPX, Flash, Kerry, J&T, GHN, Ninja Van) only
after a tracking word or a carrier's name. Order numbers, SKUs and barcodes stay."""

from __future__ import annotations

import pytest

from streams.detectors import scan
from streams.detectors.tracking_number import s10_check_digit


def tracking(text: str) -> list[str]:
    return [text[f.start:f.end] for f in scan(text) if f.kind == "TRACKING_NUMBER"]


@pytest.mark.parametrize("text, value", [
    ("tracking VN123456789VN", "VN123456789VN"),  # check digit wrong, the word decides
    ("EMS RB585293955TH ยังไม่อัปเดตเลยค่ะ", "RB585293955TH"),
    ("gửi EE274620801TH rồi nhé", "EE274620801TH"),  # valid S10, no word needed
    ("Shopee Express tracking SPXVN087425181631", "SPXVN087425181631"),
    ("Mã vận đơn: SPXVN0306680448", "SPXVN0306680448"),
    ("MVĐ: NVVNSHOPE4834156126 - Em cảm ơn", "NVVNSHOPE4834156126"),
    ("เลขแทรค TH17635867755J", "TH17635867755J"),
    ("Kerry Express KERDO4615632430 ยังไม่อัปเดต", "KERDO4615632430"),
    ("shipped via J&T 820012345678, ETA 2026-11-30", "820012345678"),
    ("GHN tracking G2RWO3UJ", "G2RWO3UJ"),
    ("Tra cứu vận đơn 868039372938 không thấy", "868039372938"),
    ("awb 496129076175", "496129076175"),
    ("เลขพัสดุ 1133890838631", "1133890838631"),
    # a carrier's prefix is its own context
    ("đơn SPXVN061234509876 bị hoàn", "SPXVN061234509876"),
    ("order NVTHLZD7012345678 returned", "NVTHLZD7012345678"),
    ("ของถึงยัง TH20417733015B", "TH20417733015B"),
    ("hàng kẹt ở kho, S21098765.HN12.B03.410987654", "S21098765.HN12.B03.410987654"),
    # a carrier's name, then "đơn" in the same clause
    ("Viettel Post báo hoàn đơn 731204598812", "731204598812"),
    ("GHN vừa hủy đơn LKTXWQP", "LKTXWQP"),
    # right after a tracking word: a short code in capitals
    ("parcel K7Q2ZX is lost", "K7Q2ZX"),
    ("GHN tracking: LXDRTPVN", "LXDRTPVN"),
])
def test_when_a_tracking_number_is_written_then_it_is_found(text, value):
    assert tracking(text) == [value], scan(text)


@pytest.mark.parametrize("text", [
    "Mã đơn 240612KJ8H3F7N", "Order 576458921034567890", "SKU VN-0408-RED", "Mã vạch 8934588012228",
    "barcode 8859399091692", "Mã sản phẩm 84886596680", "Flash sale 11/11 mã FREESHIP50K",
    "VN123456780VN", "Order ID: 1133890838631", "Samsung SM-A556E, iPhone 15 Pro Max 256GB",
    "tracking PENDING", "Shopee Express báo giao thất bại đơn 240118Q5MHVL4",  # a Shopee order number stays
    "GHN giao nhanh, SKU ABC12345", "Parcel ORDERED yesterday", "SKU TH12345678901A", "model SPXTH01234567890",
])
def test_when_a_code_is_no_tracking_number_then_it_is_kept(text):
    assert tracking(text) == [], scan(text)


@pytest.mark.parametrize("serial, check", [("47312482", 9), ("12345678", 5), ("27462080", 1)])
def test_when_an_s10_serial_is_checked_then_its_check_digit_follows_the_upu_weights(serial, check):
    assert s10_check_digit(serial) == check
