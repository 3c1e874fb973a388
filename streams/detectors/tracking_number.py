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
Three things outrank that rule:
  * a code whose prefix names its carrier is one anywhere but after a product's label (SKU,
    model, barcode): Shopee Express "SPX" + country,
    Ninja Van "NV" + country + shipper, Kerry "KER.."/"KEX", Lazada "LEX..", Flash "TH" + 10-12
    digits + a letter, GHTK's dotted "S12345678.SG01.A1.123456789";
  * a carrier's name, then "đơn"/"order" in the same clause ("J&T báo giao thất bại đơn
    829639691334"): the order is the parcel the carrier handles (a Shopee order number,
    six date digits and seven or eight letters or digits, stays);
  * right after a tracking word or a carrier's name, a short code in capitals with one digit
    or none ("GHN tracking GMZCF4X", "Parcel G96A0HR", "tracking LBPWVOHN").
"""

from __future__ import annotations

import re
from typing import Iterator

from .base import Detector, ScanText, Span
from .context import Context, _trie_pattern, nearest
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
# labels of a product's own codes: a carrier-shaped code after them is an SKU or a model
PRODUCT_CODES = Context(LISTING_WORDS + BARCODE_WORDS + ("sku", "model", "mã sp", "serial", "imei", "voucher",
                                                         "mã giảm giá", "coupon", "code"), before=30)
_PRODUCT_CONTEXTS = {"tracking": TRACKING, "product": PRODUCT_CODES}

# the lookbehinds come after the first letter, so that `re` can skip ahead to capitals
_S10 = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z](?P<serial>[0-9]{8})(?P<check>[0-9])[A-Z]{2}(?![A-Za-z0-9])")
_CODE = re.compile(r"(?<![A-Za-z0-9\-_/@.#])(?=[A-Za-z.\-]*[0-9])[A-Za-z0-9](?:[A-Za-z0-9]|[\-.](?=[A-Za-z0-9])){7,29}"
                   r"(?![A-Za-z0-9@])")  # with a digit among its first letters
_DIGIT = re.compile(r"[0-9]")
# carrier formats that name their carrier: a match is a tracking number without a word
_CARRIER_CODE = re.compile(
    r"[KLNST](?<![A-Za-z0-9][A-Z])(?:(?<=S)PX(?:VN|TH|MY|PH|SG|ID|TW|BR|MX)[0-9]{9,13}"
    r"|(?<=N)V(?:VN|TH|SG|MY|PH|ID)[A-Z]{0,8}[0-9]{8,14}"
    r"|(?<=K)E[RX][A-Z]{0,3}[0-9]{9,12}|(?<=L)EX[A-Z]{2}[0-9]{9,13}"
    r"|(?<=T)H[0-9]{10,12}[A-Z][0-9A-Z]?"
    r"|(?<=S)[0-9]{6,10}(?:\.[A-Z]{1,3}[0-9]{0,4})+\.[0-9]{6,12})(?![A-Za-z0-9])")
_STRONG_HINT = re.compile(r"[A-Z][A-Z0-9]")  # every code above opens so
_S10_DIGITS = 9          # the serial and its check digit
_CARRIER_MIN_DIGITS = 6  # the fewest digits in a row of the codes above (GHTK's dotted code)
_CARRIERS = ("spx", "shopee express", "ghn", "giao hàng nhanh", "giao hang nhanh", "ghtk", "giao hàng tiết kiệm",
             "giao hang tiet kiem", "j&t", "j&t express", "jt express", "kerry", "kerry express", "flash",
             "flash express", "ninja van", "ninjavan", "viettel post", "viettelpost", "vnpost", "vietnam post", "ems",
             "thailand post", "thaipost", "ไปรษณีย์", "ไปรษณีย์ไทย", "แฟลช", "เคอรี่", "best express", "lex",
             "lazada express", "dhl", "fedex", "ups", "scg express")
# a carrier's name, then "đơn"/"order" in the same clause, right before the code
_CARRIER_THEN_ORDER = re.compile(
    rf"(?:{_trie_pattern(_CARRIERS)})[^.;!?\n0-9]{{0,32}}(?<![a-z\u00c0-\u1ef9])(?:đơn|don|order|kiện|kien)"
    r"(?: hàng| hang)?[ \t]*[:#]?[ \t]*$")
_SHOPEE_ORDER = re.compile(r"[0-9]{6}[A-Z0-9]{7,8}")  # YYMMDD and seven or eight letters or digits
# a short code in capitals right after a tracking word: little more than the word may stand between
_RIGHT_AFTER = re.compile(r"[ \t]*[:：#,(\-–]?[ \t]*$")
_SHORT_CODE = re.compile(r"[A-Z0-9](?<![A-Za-z0-9\-_/@.#][A-Z0-9])[A-Z0-9]{5,11}(?![A-Za-z0-9@])")
_NOT_CODES = frozenset({"PENDING", "SHIPPED", "SHIPPING", "DELIVERED", "DELIVERY", "TRANSIT", "TRACKING",
                        "EXPRESS", "NUMBER", "STATUS", "RETURNED", "CANCELLED", "CANCELED", "PICKUP", "FREESHIP"})
_VOWELS = frozenset("AEIOU")
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
        # a code that names its carrier opens with two capitals and has six digits in a row or
        # more (a digit run); every other needs a tracking word
        return (t.longest_run >= _CARRIER_MIN_DIGITS and _STRONG_HINT.search(t.text) is not None
                or TRACKING.present(t))  # "tracking LBPWVOHN"

    def find(self, t: ScanText) -> Iterator[Span]:
        text = t.text
        longest = t.longest_run  # the codes below need this many digits in a row: no search without
        for m in _S10.finditer(text) if longest >= _S10_DIGITS else ():
            if s10_check_digit(m.group("serial")) == int(m.group("check")):
                yield m.span()
        for m in _CARRIER_CODE.finditer(text) if longest >= _CARRIER_MIN_DIGITS else ():
            if nearest(t, m.start(), _PRODUCT_CONTEXTS) != "product":  # "SKU TH12345678901A" stays
                yield m.span()
        if not TRACKING.present(t):
            return
        lower = t.lower
        for m in _SHORT_CODE.finditer(text):
            code, start = m.group(), m.start()
            digits = len(_DIGIT.findall(code))
            if len(code) - digits < 2 or code in _NOT_CODES or not (digits or sum(c in _VOWELS for c in code) <= 2):
                continue
            label_end = TRACKING.last_ahead(t, start)
            if label_end >= 0 and _RIGHT_AFTER.match(text, label_end, start) \
                    and nearest(t, start, _CONTEXTS) == "tracking":
                yield m.span()  # "GHN tracking GMZCF4X", "Parcel G96A0HR", "tracking LBPWVOHN"
            elif _CARRIER_THEN_ORDER.search(lower, max(0, start - 60), start):
                yield m.span()  # "GHN báo giao thất bại đơn LWAIGHY"
        for m in _CODE.finditer(text):
            code = m.group()
            digits = len(_DIGIT.findall(code))
            letters = sum(1 for c in code if c.isalpha())
            if digits < 6 and not (len(code) in (8, 9) and digits >= 2 and code.isupper() and letters >= 3):
                continue
            if letters and not any(c.isupper() for c in code) and digits < 6:
                continue
            start = m.start()
            label = nearest(t, start, _CONTEXTS)
            if label == "tracking":
                yield m.span()
            elif label == "other" and not _SHOPEE_ORDER.fullmatch(code) and not _CARRIER_CODE.fullmatch(code) \
                    and _CARRIER_THEN_ORDER.search(lower, max(0, start - 60), start):
                yield m.span()  # "J&T báo giao thất bại đơn 829639691334"
