"""PII detection in free text (R2): product titles and descriptions, buyer notes, chat
messages and address lines, in English, Vietnamese and Thai.

    scan(text) -> list[Finding]                  kind and offsets of every personal value
    redact_text(text) -> (text, Counter[kind])   each value replaced by its placeholder

Every detector is one small module registered in DETECTORS below, the only list there is:
adding a kind is one module, one line here, and its tests. Where findings overlap, the
higher priority wins, then the longer span, then the earlier one.

Findings carry no text; a failing detector raises DetectorError naming the detector only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter

from .bank_account import BankAccountDetector
from .base import Detector, DetectorError, Finding, ScanText
from .chat_id import ChatIdDetector
from .contact_phone import ContactPhoneDetector
from .email import EmailDetector
from .ip_address import IpAddressDetector
from .payment_card import PaymentCardDetector
from .person_name import PersonNameDetector
from .phone import PhoneDetector
from .social_handle import SocialHandleDetector
from .street_address import StreetAddressDetector
from .thai_national_id import ThaiNationalIdDetector
from .tracking_number import TrackingNumberDetector
from .url import UrlDetector
from .vn_citizen_id import VietnamCitizenIdDetector
from .vn_tax_code import VietnamTaxCodeDetector

DETECTORS: tuple[Detector, ...] = (
    EmailDetector(),
    UrlDetector(),
    PaymentCardDetector(),
    ThaiNationalIdDetector(),
    VietnamTaxCodeDetector(),
    VietnamCitizenIdDetector(),
    TrackingNumberDetector(),
    BankAccountDetector(),
    ChatIdDetector(),
    SocialHandleDetector(),
    StreetAddressDetector(),
    PhoneDetector(),
    ContactPhoneDetector(),
    IpAddressDetector(),
    PersonNameDetector(),
)

# A kind may have several detectors (PHONE: the numbering plans, and phone-shaped digits
# after a contact word); each kind is listed once, with one placeholder.
KINDS: tuple[str, ...] = tuple(dict.fromkeys(d.kind for d in DETECTORS))
PLACEHOLDERS: dict[str, str] = {d.kind: d.placeholder for d in DETECTORS}
if any(d.placeholder != PLACEHOLDERS[d.kind] for d in DETECTORS):
    raise RuntimeError("two detectors of one kind disagree on its placeholder")

__all__ = ["DETECTORS", "KINDS", "PLACEHOLDERS", "Detector", "DetectorError", "Finding", "redact_text", "scan"]


def scan(text: str) -> list[Finding]:
    """Personal values in `text`, in order, without overlaps; offsets are in `text`."""
    if not text:
        return []
    candidates: list[tuple[int, int, int, str]] = []
    append = candidates.append
    detector = None
    try:
        t = ScanText(text)
        for detector, applies, find, priority, kind in _plan(t.longest_run):
            if applies is None or applies(t):
                for start, end in find(t):
                    append((priority, start, end, kind))
    except Exception as exc:  # no text in the message, and no chained exception that may hold it
        where = f"{detector.kind} detector" if detector is not None else "normalisation"
        raise DetectorError(f"{where} failed: {type(exc).__name__}") from None
    if not candidates:
        return []
    if t.original is t.text:  # nothing recomposed or replaced: the offsets are the original's
        return [Finding(kind, start, end) for start, end, kind in _without_overlaps(candidates)]
    return [Finding(kind, *t.original_span(start, end)) for start, end, kind in _without_overlaps(candidates)]


_PLANS: dict[int, tuple] = {}
_PLAN_OF: tuple | None = None
_MOST_DIGITS = 0


def _plan(longest: int) -> tuple:
    """The detectors worth asking about a text whose longest digit run has `longest` digits
    (one that needs more digits in a row is not even asked), each with what scan asks of
    it, looked up once per digit count (and again when DETECTORS is replaced, as a test
    does). A detector whose prefilter is only the digit count is not asked `applies`."""
    global _PLAN_OF, _MOST_DIGITS
    if _PLAN_OF is not DETECTORS:
        _PLANS.clear()
        _PLAN_OF = DETECTORS
        _MOST_DIGITS = max((d.min_digits for d in DETECTORS), default=0)
    longest = min(longest, _MOST_DIGITS)  # past the most any detector needs, one plan: a bounded table
    plan = _PLANS.get(longest)
    if plan is None:
        plan = _PLANS[longest] = tuple(
            (d, None if type(d).applies is Detector.applies else d.applies, d.find, d.priority, d.kind)
            for d in DETECTORS if d.min_digits <= longest)
    return plan


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """`text` with every personal value replaced by its placeholder ("[PHONE]"), and how
    many of each kind were replaced."""
    findings = scan(text)
    if not findings:
        return text, Counter()
    out, pos = [], 0
    for f in findings:
        out.append(text[pos:f.start])
        out.append(PLACEHOLDERS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out), Counter(f.kind for f in findings)


def _without_overlaps(candidates: list[tuple[int, int, int, str]]) -> list[tuple[int, int, str]]:
    """Highest priority first, then the longest span, then the earliest; a candidate that
    overlaps one already chosen is dropped. O(n log n)."""
    if len(candidates) == 1:
        _, start, end, kind = candidates[0]
        return [(start, end, kind)]
    starts: list[int] = []
    chosen: list[tuple[int, int, str]] = []  # sorted by start, never overlapping
    for _, start, end, kind in sorted(candidates, key=lambda c: (-c[0], c[1] - c[2], c[1])):
        i = bisect_right(starts, start)
        if (i and chosen[i - 1][1] > start) or (i < len(chosen) and chosen[i][0] < end):
            continue
        starts.insert(i, start)
        chosen.insert(i, (start, end, kind))
    return chosen
