"""Vietnamese citizen id (CCCD, căn cước công dân): 12 digits = province code (001-096),
century-and-sex digit, two digits of the birth year, six digits. Twelve digits are common
(order and tracking numbers), so a CCCD counts only next to its words: "CCCD", "căn cước",
"CMND", "định danh", "citizen ID", "ID card"."""

from __future__ import annotations

import re

from .base import NumberDetector, ScanText
from .context import Context

PROVINCES = frozenset({
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024",
    "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045",
    "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070",
    "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093",
    "094", "095", "096"})
WORDS = Context(("cccd", "căn cước", "can cuoc", "cmnd", "cmt", "chứng minh", "chung minh", "định danh", "dinh danh",
                 "citizen id", "id card", "national id", "id number", "personal id", "identity"), before=40)
_GAP_AFTER = re.compile(r"[ (\-:]{0,3}")  # "079203012345 (CCCD)"


class VietnamCitizenIdDetector(NumberDetector):
    kind = "VN_CITIZEN_ID"
    priority = 80
    min_digits = 12
    lengths = frozenset({12})

    def shape_ok(self, shape: tuple[int, ...], whole_run: bool) -> bool:
        return whole_run or min(shape) >= 3  # "079203012345", "079 203 012 345", "0792 0301 2345"

    def applies(self, t: ScanText) -> bool:
        return t.longest_run >= self.min_digits and WORDS.present(t)

    def validate(self, digits: str) -> bool:
        return digits[:3] in PROVINCES and digits[3] in "0123"

    def accept(self, t: ScanText, start: int, end: int, digits: str, shape: tuple[int, ...]) -> bool:
        return WORDS.ahead(t, start) or WORDS.match_at(t, _GAP_AFTER.match(t.text, end).end()) >= 0
