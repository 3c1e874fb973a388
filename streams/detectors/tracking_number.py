"""Carrier tracking numbers in free text: a carrier's lookup page shows the recipient's name
and address, so a tracking number is personal (it is pseudonymised in structured fields).

  * UPU S10 (postal services, EMS): two letters, eight digits, a check digit, the country
    ("EE123456789TH", "RR987654321VN"), anywhere when its check digit holds, and after a
    tracking word whatever its check digit ("tracking VN123456789VN");
  * carrier formats common in Vietnam and Thailand, only after a tracking word or a
    carrier's name: Shopee Express "SPXVN0123456789", Flash/Thai "TH01234567890X", Kerry
    "KERDO4615632430", Lazada "LEXDO8926838661", Ninja Van "NVTHSHOPE0261288663", J&T and
    Viettel Post digits ("820012345678"), GHN and GHTK codes ("GAXKT9HL", "S1234567.SG01.A1")
    - any code of 8 to 30 letters and digits with at least 6 digits (or a GHN-like code of
    8 letters and digits with 2 or more digits).
The tracking word must be the label closest before the code: after "mã đơn", "order",
"SKU", "barcode" or "mã sản phẩm" a code is an order number, an SKU or a barcode and stays.
"""

from __future__ import annotations

import re
from typing import Iterator

from .base import Detector, ScanText, Span
from .context import Context, nearest
from .context_words import BARCODE_WORDS, LISTING_WORDS, ORDER_WORDS, PHONE_WORDS

TRACKING_WORDS = (
    "tracking", "tracking no", "tracking number", "tracking code", "tracking id", "track", "awb", "waybill",
    "shipment", "consignment", "parcel", "mã vận đơn", "ma van don", "mvđ", "mvd", "vận đơn", "van don", "mã vđ",
    "ma vd", "số vận đơn", "so van don", "mã theo dõi", "ma theo doi", "mã bưu gửi", "ma buu gui", "mã bưu kiện",
    "ma buu kien", "mã kiện", "ma kien", "mã ship", "ma ship", "mã giao hàng", "ma giao hang", "kiện hàng",
    "เลขพัสดุ", "หมายเลขพัสดุ", "เลขแทรก", "เลขแทร็ก", "เลขแทรค", "เลขติดตาม", "เลขติดตามพัสดุ", "รหัสพัสดุ", "พัสดุ",
    "spx", "shopee express", "ghn", "giao hàng nhanh", "giao hang nhanh", "ghtk", "giao hàng tiết kiệm", "j&t",
    "jt express", "j&t express", "kerry", "kerry express", "flash express", "ninja van", "ninjavan",
    "viettel post", "viettelpost", "vnpost", "vietnam post", "ems", "thailand post", "thaipost", "ไปรษณีย์",
    "ไปรษณีย์ไทย", "แฟลช", "เคอรี่", "best express", "lex", "lazada express", "dhl", "fedex", "ups", "scg express",
)
TRACKING = Context(TRACKING_WORDS, before=30)
_TRACKING_SET = frozenset(TRACKING_WORDS)
OTHER_CODES = Context(tuple(w for w in ORDER_WORDS if w not in _TRACKING_SET) + LISTING_WORDS + BARCODE_WORDS
                      + PHONE_WORDS + ("sku", "model", "mã sp", "serial", "imei", "voucher", "mã giảm giá", "coupon",
                                       "code", "hotline", "liên hệ", "lien he", "gọi", "goi"),
                      before=30)
_CONTEXTS = {"tracking": TRACKING, "other": OTHER_CODES}

_S10 = re.compile(r"(?<![A-Za-z0-9])(?P<value>[A-Z]{2}(?P<serial>[0-9]{8})(?P<check>[0-9])[A-Z]{2})(?![A-Za-z0-9])")
_CODE = re.compile(r"(?<![A-Za-z0-9\-_/@.#])(?=[A-Za-z.\-]*[0-9])[A-Za-z0-9](?:[A-Za-z0-9]|[\-.](?=[A-Za-z0-9])){7,29}"
                   r"(?![A-Za-z0-9@])")  # with a digit among its first letters
_DIGIT = re.compile(r"[0-9]")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    c = 11 - sum(int(d) * w for d, w in zip(serial, _WEIGHTS)) % 11
    return 0 if c == 10 else 5 if c == 11 else c


class TrackingNumberDetector(Detector):
    kind = "TRACKING_NUMBER"
    priority = 65  # above phone and bank numbers: after a tracking word, digits are a tracking number
    min_digits = 0

    def applies(self, t: ScanText) -> bool:
        return _DIGIT.search(t.text) is not None

    def find(self, t: ScanText) -> Iterator[Span]:
        text = t.text
        for m in _S10.finditer(text):
            if s10_check_digit(m.group("serial")) == int(m.group("check")):
                yield m.span()
        if not TRACKING.present(t):
            return
        for m in _CODE.finditer(text):
            code = m.group()
            digits = len(_DIGIT.findall(code))
            letters = sum(1 for c in code if c.isalpha())
            if digits < 6 and not (len(code) in (8, 9) and digits >= 2 and code.isupper() and letters >= 3):
                continue
            if letters and not any(c.isupper() for c in code) and digits < 6:
                continue
            if nearest(t, m.start(), _CONTEXTS) == "tracking":
                yield m.span()
