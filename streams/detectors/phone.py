"""Phone numbers: Vietnam and Thailand, mobile and landline, in local ("0912 345 678",
"081-234-5678", "(028) 3823 4567", "02-123-4567") and international form ("+84 912 345 678",
"(+66) 81-234-5678", "84912345678", "+84 (0) 912 ..."), and every other country's numbers
in international form ("+65 9123 4567", "0065 9123 4567").

Candidates are the shared digit runs; a run may hold several numbers ("0912 345 678 -
0987 654 321", "size 42 0912345678"), so each group that can open a number is tried,
longest first. A candidate is a phone number when phonenumbers' numbering plan says the
number is valid (`is_valid_number`, the test behind its VALID leniency); for Vietnam and
Thailand the same test runs on their numbering plans, compiled once. Local numbers start
with the trunk prefix 0: prices, ids and order numbers do not."""

from __future__ import annotations

import re
from typing import Iterator

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumber
from phonenumbers.phonemetadata import PhoneMetadata
from stdnum import ean

from .base import Detector, NumberRun, ScanText, Span
from .context import nearest
from .context_words import BARCODE, ORDER

_CODES = {"order": ORDER, "barcode": BARCODE}
HOME_COUNTRIES = (84, 66)  # Vietnam, Thailand: local numbers are tried against both plans
MAX_DIGITS = 15            # E.164


class PhoneDetector(Detector):
    kind = "PHONE"
    priority = 50
    min_digits = 8

    def find(self, t: ScanText) -> list[Span]:
        return t.memo("phone", lambda: list(self._find(t)))

    def _find(self, t: ScanText) -> Iterator[Span]:
        for run in t.runs:
            if run.digit_count >= self.min_digits:
                for start, end in _numbers_in(run):
                    # "84912345678" without its "+", or "0041588660767" with "00" for it, is also what
                    # an item id or a UPC barcode looks like: not after such a label
                    text = t.text
                    if text[start] in "(+" or (text[start] == "0" and text[start + 1] != "0"):
                        yield start, end
                    elif nearest(t, start, _CODES) is None and not _upc(text, start, end):
                        yield start, end


def _numbers_in(run: NumberRun) -> Iterator[Span]:
    digits, n = run.digits, len(run.digits)
    i = 1 if run.glued_before else 0
    last = n - 2 if run.glued_after else n - 1
    while i <= last:
        plus = i == 0 and run.plus
        head = digits[i]
        if not (plus or head[0] == "0" or head[:2] in ("84", "66")) or (i and run.after_dot(i)):
            i += 1  # a number opens with 0, +, 84 or 66, never after a decimal point ("฿15,368.00 ...")
            continue
        ends, total = [], 0
        for j in range(i, last + 1):
            total += len(digits[j])
            if total > MAX_DIGITS + 2:
                break
            if total >= 8:
                ends.append(j)
        for j in reversed(ends):
            if is_phone_number("".join(digits[i:j + 1]), plus):
                yield (run.start if i == 0 else run.groups[i][0]), (run.end if j == n - 1 else run.groups[j][1])
                i = j + 1
                break
        else:
            i += 1


def _upc(text: str, start: int, end: int) -> bool:
    """A US/Canada barcode (EAN-13 opening with 00) can look like a number dialled with 00."""
    digits = text[start:end]
    return len(digits) == 13 and digits.isdigit() and ean.calc_check_digit(digits[:12]) == digits[12]


def is_phone_number(digits: str, plus: bool = False) -> bool:
    if plus:
        return _international(digits)
    if digits.startswith("00"):
        return _international(digits[2:])
    if digits[0] == "0":
        national = digits[1:]
        # Vietnam: 9 digits (mobile 3/5/7/8/9...) or 10 (landline 2...); Thailand: 8 (landline) or 9
        if len(national) == 9:
            return (national[0] in "35789" and _valid(84, national)) or (national[0] in "689" and _valid(66, national))
        if len(national) == 10:
            return _valid(84, national)
        return len(national) == 8 and _valid(66, national)
    if len(digits) in (11, 12) and digits[:2] in ("84", "66") and digits[2] != "0":
        return _valid(int(digits[:2]), digits[2:])
    return False


def _international(digits: str) -> bool:
    if len(digits) > MAX_DIGITS:
        return False
    for k in (1, 2, 3):
        cc = int(digits[:k])
        if cc in COUNTRY_CODE_TO_REGION_CODE:
            national = digits[k:]
            if len(national) < 4:
                return False
            # "+84 (0) 912 345 678" and "+84 0912 345 678": a trunk 0 written after the country code
            return _valid(cc, national) or (national[0] == "0" and _valid(cc, national[1:]))
    return False


_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
                 "fixed_line", "mobile")


class _NumberingPlan:
    """phonenumbers' validity test for one country: the national number fits the general
    description and one number type, each with its possible lengths and pattern."""

    def __init__(self, cc: int):
        metadata = PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(cc))
        self.general = self._desc(metadata.general_desc)
        self.types = tuple(self._desc(d) for d in (getattr(metadata, name) for name in _NUMBER_TYPES)
                           if d is not None and d.national_number_pattern)

    @staticmethod
    def _desc(desc) -> tuple[frozenset[int], re.Pattern]:
        return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)

    def valid(self, national: str) -> bool:
        n = len(national)
        lengths, pattern = self.general
        if lengths and n not in lengths or not pattern.fullmatch(national):
            return False
        return any((not lengths or n in lengths) and pattern.fullmatch(national) for lengths, pattern in self.types)


_HOME_PLANS = {cc: _NumberingPlan(cc) for cc in HOME_COUNTRIES}


def _valid(cc: int, national: str) -> bool:
    plan = _HOME_PLANS.get(cc)
    if plan is not None:
        return plan.valid(national)
    zeros = len(national) - len(national.lstrip("0"))
    number = PhoneNumber(country_code=cc, national_number=int(national),
                         italian_leading_zero=True if zeros else None,
                         number_of_leading_zeros=zeros if zeros > 1 else None)
    return phonenumbers.is_valid_number(number)
