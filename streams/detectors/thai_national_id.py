"""Thai national id (เลขประจำตัวประชาชน): 13 digits, first digit 1-8, mod-11 check digit
(stdnum.th.pin), written 1-2345-67890-12-3, with spaces, or unbroken.

An EAN-13 barcode has the same length, and one in eleven is also a valid id. The nearest
label decides: an id word ("บัตรประชาชน", "ID card") makes it an id; a barcode, order,
tracking or bank word makes it that. Without a label, a number that is only a valid id
is an id (privacy first), and one that is both is an id only if it opens with 1 or 3 (the
id types of nearly all Thai citizens; local barcodes open with 885 and 893)."""

from __future__ import annotations

from stdnum import ean
from stdnum.th import pin

from .base import NumberDetector, ScanText
from .context import Context, nearest
from .context_words import BANK, BARCODE, ORDER

ID_GROUPING = (1, 4, 5, 2, 1)
ID_WORDS = Context(("บัตรประชาชน", "ประจำตัวประชาชน", "ประชาชน", "ปชช", "ผู้เสียภาษี", "ใบกำกับภาษี", "ภาษี", "บัตร",
                    "เลขบัตร", "เลขที่บัตร", "id card", "national id", "thai id", "citizen id", "tax id", "personal id",
                    "id", "id no"), before=40)
# The nearest label before the number decides; on a tie ("Order ID") the look-alike wins.
LABELS = {"order": ORDER, "barcode": BARCODE, "bank": BANK, "id": ID_WORDS}


class ThaiNationalIdDetector(NumberDetector):
    kind = "TH_NATIONAL_ID"
    priority = 85
    min_digits = 13
    lengths = frozenset({13})

    def shape_ok(self, shape: tuple[int, ...], whole_run: bool) -> bool:
        # (10, 3) is a Vietnamese tax code with its branch: "0312345678-001"
        return len(shape) == 1 or shape == ID_GROUPING or (whole_run and shape != (10, 3))

    def validate(self, digits: str) -> bool:
        return digits[0] not in "09" and pin.calc_check_digit(digits[:12]) == digits[12]

    def accept(self, t: ScanText, start: int, end: int, digits: str, shape: tuple[int, ...]) -> bool:
        if shape == ID_GROUPING:
            return True
        label = nearest(t, start, LABELS)
        if label == "id":
            return True
        if len(shape) > 1 or label is not None:
            return False
        # Without a label, a valid EAN-13 is a barcode unless it opens like the ids nearly every
        # Thai holds (1: registered since 1984, 3: before); local barcodes open with 885 and 893.
        return ean.calc_check_digit(digits[:12]) != digits[12] or digits[0] in "13"
