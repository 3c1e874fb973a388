"""Bank account numbers next to their words: "STK", "số tài khoản", "account", "เลขบัญชี",
a bank's name just before the number ("Vietcombank 0071001234567", "บช.SCB 123-456789-0"),
or a bank's name right after it ("123-4-56789-0 กสิกรไทย", "0071001234567 (VCB)").

Any 6 to 19 digits qualify there, unbroken or in groups joined by single spaces or dashes.
A price ("1.250.000đ", "฿1,290"), a dotted number (IP addresses) or a date never does.
The nearest label decides: in "STK ... MB; Zalo: 0912345678" the number belongs to Zalo,
and in "Shop ID: 4605698288, Bank account: ..." the first number is a shop id. A bank's
name that closes one account ("... 7 ธนาคารBBL 6048...") is not the label of the next."""

from __future__ import annotations

import re
from typing import Iterator

from .base import Detector, NumberRun, ScanText, Span
from .context import Context, looks_like_money, nearest
from .context_words import (ACCOUNT_WORDS, BANK, BANK_NAMES, BANK_WORDS, BARCODE_WORDS, LISTING_WORDS,
                            ORDER_WORDS, PHONE_WORDS)

# words that introduce something else than an account number ("chủ TK NGUYEN VAN A": a name)
OTHER_WORDS = ("chủ tk", "chu tk", "chủ tài khoản", "chu tai khoan", "holder", "ชื่อบัญชี", "ip", "cccd", "cmnd",
               "căn cước", "mst", "mã số thuế", "id", "mã", "ma", "ประชาชน", "บัตร", "ผู้เสียภาษี", "tax", "card",
               "thẻ")
LABELS = {
    "other": Context(PHONE_WORDS + ORDER_WORDS + BARCODE_WORDS + LISTING_WORDS + OTHER_WORDS, before=30),
    "account": Context(ACCOUNT_WORDS, before=30),
    "bank": Context(BANK_NAMES + BANK_WORDS, before=16),
}
BANK_NAME = Context(BANK_NAMES + BANK_WORDS)
# what may stand between an account and its bank ("... 0071001234567 (VCB)", "... at Vietcombank")
_GAP_AFTER = re.compile(r"[ \-(/,]{0,3}(?:(?:at|tại|tai|ở|of|bank|ngân hàng|ngan hang|ธนาคาร)\s?)?", re.IGNORECASE)
_NAME_THEN_NUMBER = re.compile(r"\s?:?\s?")  # a bank's name right before its account: "VCB 0071...", "VCB: 0071..."
# "... (MB); 8934...", "... vào tài khoản của em. 6938...": the word belongs to what came before
_CLOSED = re.compile(r"[;)\]]|(?<!no)\.\s")
_DOTTED = re.compile(r"[.()]")
_DATE_SHAPES = frozenset({(2, 2, 4), (1, 2, 4), (2, 1, 4), (1, 1, 4), (4, 2, 2), (4, 1, 1), (4, 1, 2), (4, 2, 1)})


class BankAccountDetector(Detector):
    kind = "BANK_ACCOUNT"
    priority = 70
    min_digits = 6

    def applies(self, t: ScanText) -> bool:
        return t.longest_run >= self.min_digits and BANK.present(t)

    def find(self, t: ScanText) -> Iterator[Span]:
        closed = -1  # where the bank's name that closed the previous account ends
        for run in t.runs:
            if run.glued_before or run.plus:
                continue
            span = _account(t, run)
            if span is None:
                continue
            start, end = span
            label = nearest(t, start, LABELS)
            if label == "other":
                continue
            after = _bank_right_after(t, end)
            before = LABELS[label].last_ahead(t, start) if label else -1
            if label == "bank" and not _NAME_THEN_NUMBER.fullmatch(t.text, before, start):
                before = -1  # "... at VCB, 4014941178007": the bank closed the sentence before
            if after >= 0 or (before > closed and not _CLOSED.search(t.lower, before, start)):
                closed = max(closed, after)
                yield start, end


def _account(t: ScanText, run: NumberRun) -> Span | None:
    """The account at the head of a run: groups joined by single spaces or dashes (a wider
    gap, as in "510-1-48649-9  4710108735648", ends it), 6 to 19 digits, not a date, a
    dotted number or a price."""
    groups, text, digits = run.groups, t.text, 0
    for k, (s, e) in enumerate(groups):
        digits += e - s
        last = k == len(groups) - 1
        # a long group after a complete account is the next number ("265 0 88210 5 8858371566531")
        if last or text[e:groups[k + 1][0]] not in (" ", "-") or (digits >= 6 and run.sizes[k + 1] >= 8):
            if last and run.glued_after:  # "820 6 04903 2 261209KRMYAWL": the code is not part of it
                if k == 0:
                    return None
                k, e, digits = k - 1, groups[k - 1][1], digits - (e - s)
            if not 6 <= digits <= 19 or run.sizes[:k + 1] in _DATE_SHAPES:
                return None
            start = groups[0][0]
            if _DOTTED.search(text, start, e) or looks_like_money(t, start, e):
                return None
            return start, e
    return None


def _bank_right_after(t: ScanText, end: int) -> int:
    """Where the bank's name written right after the number ends ("0071001234567 (VCB)",
    "741 2 01228 7 ธนาคารBBL"), or -1."""
    pos, found = _GAP_AFTER.match(t.text, end).end(), -1
    while True:
        m = BANK_NAME.match_at(t, pos)
        if m < 0:
            return found
        found, pos = m, m + (1 if t.text[m:m + 1] == " " else 0)
