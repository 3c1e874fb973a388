"""Payment card numbers: 13 to 19 digits, Luhn-valid (stdnum.luhn), with an issuer prefix
and a length that belong together (Visa, Mastercard, Amex, JCB, UnionPay, Diners, Discover,
Maestro, Vietnam's NAPAS, Mir), written in card groups (4-4-4-4, 4-6-5, ...) or unbroken.

An unbroken run of digits is also what order and tracking numbers look like, and one in
ten passes Luhn: unbroken 16 digits count unless an order or barcode word stands before
them; any other unbroken length needs a card word ("thẻ", "card", "บัตร", "visa")."""

from __future__ import annotations

from stdnum import luhn

from .base import NumberDetector, ScanText
from .context import Context, nearest
from .context_words import BANK, BARCODE, ORDER

# (prefix digits, lowest prefix, highest prefix, allowed lengths)
_ANY = frozenset(range(13, 20))
_LONG = frozenset(range(14, 20))
_SIXTEEN_UP = frozenset(range(16, 20))
ISSUERS = (
    (1, 4, 4, frozenset({13, 16, 19})),                                   # Visa
    (2, 51, 55, frozenset({16})), (4, 2221, 2720, frozenset({16})),       # Mastercard
    (2, 34, 34, frozenset({15})), (2, 37, 37, frozenset({15})),           # American Express
    (4, 3528, 3589, frozenset({16, 17, 18, 19})),                         # JCB
    (2, 62, 62, frozenset({16, 17, 18, 19})),                             # UnionPay
    (3, 300, 305, _LONG), (2, 36, 36, _LONG), (2, 38, 39, _LONG),         # Diners Club
    (4, 6011, 6011, _SIXTEEN_UP), (3, 644, 649, _SIXTEEN_UP), (2, 65, 65, _SIXTEEN_UP),  # Discover
    (4, 5018, 5018, _ANY), (4, 5020, 5020, _ANY), (4, 5038, 5038, _ANY),  # Maestro
    (4, 5893, 5893, _ANY), (4, 6304, 6304, _ANY), (4, 6759, 6759, _ANY), (4, 6761, 6763, _ANY),
    (4, 9704, 9704, frozenset({16, 19})),                                 # NAPAS (Vietnam)
    (4, 2200, 2204, _SIXTEEN_UP),                                         # Mir
)
CARD_GROUPINGS = frozenset({(4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 7), (4, 4, 5), (4, 4, 4, 4, 4)})

CARD = Context(("card", "visa", "master", "mastercard", "jcb", "amex", "american express", "unionpay", "napas",
                "atm", "credit", "debit", "thẻ", "số thẻ", "so the", "the tin dung", "the ghi no", "บัตร",
                "บัตรเครดิต", "บัตรเดบิต", "เลขบัตร"), before=30)
CARD_UNACCENTED = Context(("the",), before=5)  # Vietnamese "thẻ" typed without accents, right before the number
# "ID card": an id word ahead of a card word of the same end wins
ID_WORDS = Context(("id card", "thai id", "national id", "citizen id", "บัตรประชาชน", "ประจำตัวประชาชน", "cccd",
                    "căn cước", "cmnd"), before=30)
LABELS = {"order": ORDER, "barcode": BARCODE, "bank": BANK, "id": ID_WORDS, "card": CARD}


def _lengths_by_prefix() -> dict[str, frozenset[int]]:
    """Every 4-digit issuer prefix and the card lengths it allows."""
    table: dict[str, frozenset[int]] = {}
    for k, lo, hi, lengths in ISSUERS:
        for head in range(lo, hi + 1):
            for tail in range(10 ** (4 - k)):
                key = f"{head}{tail:0{4 - k}d}" if k < 4 else str(head)
                table[key] = table.get(key, frozenset()) | lengths
    return table


LENGTHS_BY_PREFIX = _lengths_by_prefix()


def issuer_known(digits: str) -> bool:
    return len(digits) in LENGTHS_BY_PREFIX.get(digits[:4], ())


class PaymentCardDetector(NumberDetector):
    kind = "CARD"
    priority = 90
    min_digits = 13
    lengths = frozenset(range(13, 20))

    def shape_ok(self, shape: tuple[int, ...], whole_run: bool) -> bool:
        if len(shape) == 1:
            return True
        if shape[0] != 4:
            return False
        return shape in CARD_GROUPINGS or (all(g == 4 for g in shape[1:-1]) and 1 <= shape[-1] <= 4)

    def validate(self, digits: str) -> bool:
        return issuer_known(digits) and luhn.checksum(digits) == 0

    def accept(self, t: ScanText, start: int, end: int, digits: str, shape: tuple[int, ...]) -> bool:
        if len(shape) > 1:
            return True
        label = nearest(t, start, LABELS)
        if label is not None:
            return label == "card"
        return len(digits) == 16 or CARD_UNACCENTED.ahead(t, start)
