"""Vietnamese tax code (MST, mã số thuế): 10 digits with a check digit (stdnum.vn.mst),
or 13 written as 10-3 for a branch ("0312345678-001"). Ten checksum-valid digits are also
one phone number in eleven, so the 10-digit form counts next to its words ("MST",
"mã số thuế", "tax code"); the branch form stands on its own."""

from __future__ import annotations

import re

from stdnum.vn import mst

from .base import NumberDetector, ScanText
from .context import Context

_BRANCH = re.compile(r"[0-9]{10}-[0-9]{3}(?![0-9])")
WORDS = Context(("mst", "mã số thuế", "ma so thue", "mã số doanh nghiệp", "ma so doanh nghiep", "msdn", "tax code",
                 "taxcode", "tax id", "tax number", "vat"), before=40)


class VietnamTaxCodeDetector(NumberDetector):
    kind = "VN_TAX_CODE"
    priority = 82
    min_digits = 10
    lengths = frozenset({10, 13})

    def shape_ok(self, shape: tuple[int, ...], whole_run: bool) -> bool:
        return shape == (10,) or shape == (10, 3) or (whole_run and sum(shape) == 10)

    def applies(self, t: ScanText) -> bool:
        return t.longest_run >= self.min_digits and (
            WORDS.present(t) or ("-" in t.text and _BRANCH.search(t.text) is not None))

    def validate(self, digits: str) -> bool:
        if digits[2:9] == "0000000" or digits[10:] == "000":
            return False
        return mst.calc_check_digit(digits[:9]) == digits[9]

    def accept(self, t: ScanText, start: int, end: int, digits: str, shape: tuple[int, ...]) -> bool:
        return (shape == (10, 3) and "-" in t.text[start:end]) or WORDS.ahead(t, start)
