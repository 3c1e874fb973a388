"""Phone numbers outside the numbering plans that phonenumbers knows, after a contact word:
"gọi (028) 1753 8326 trước khi giao", "sđt: 0281 753 8326", "โทร 02-753-8326", "call 1753 8326".
The word makes the digits a phone number to the reader, so they are one to us (kind PHONE,
like PhoneDetector's, which takes every number its plan test accepts first).

The digits must be phone-shaped: 8 to 12 digits (13 with a "+"), as one group or in groups
of 2 to 5 ("(028) 1753 8326", "0281.753.8326", "1753-8326"), and the contact word must be
the label closest before them (within 25 characters, no other number between): "gọi shop
đơn 240612345678" is an order number, "hotline 1900 6035" a hotline, which is phone-shaped
too and goes. Money ("gọi 1.250.000đ"), dates and numbers glued to letters stay.
"""

from __future__ import annotations

from typing import Iterator

from .base import Detector, ScanText, Span
from .context import Context, looks_like_money, nearest
from .context_words import BANK, BARCODE, ORDER

CONTACT = Context(("gọi", "goi", "gọi cho", "sđt", "sdt", "số điện thoại", "so dien thoai", "điện thoại",
                   "dien thoai", "đt", "dt", "đth", "dđ", "di động", "di dong", "hotline", "zalo", "liên hệ",
                   "lien he", "lh", "nhắn", "alo", "phone", "tel", "tel.", "telephone", "mobile", "mob", "cell",
                   "call", "contact", "ph", "whatsapp", "viber", "โทร", "โทร.", "เบอร์", "เบอร์โทร", "โทรศัพท์",
                   "มือถือ", "ติดต่อ", "หมายเลข"), before=25)
_CONTEXTS = {"phone": CONTACT, "order": ORDER, "barcode": BARCODE, "bank": BANK}
MIN_DIGITS, MAX_DIGITS = 8, 12


class ContactPhoneDetector(Detector):
    kind = "PHONE"
    priority = 49  # just below PhoneDetector: where both see a number, its span wins
    min_digits = MIN_DIGITS

    def applies(self, t: ScanText) -> bool:
        return t.longest_run >= self.min_digits and CONTACT.present(t)

    def find(self, t: ScanText) -> Iterator[Span]:
        for run in t.runs:
            n = run.digit_count
            if not MIN_DIGITS <= n <= MAX_DIGITS + (1 if run.plus else 0):
                continue
            if run.glued_before or run.glued_after:
                continue
            sizes = run.sizes
            if len(sizes) > 1 and not all(2 <= s <= 5 for s in sizes[1:]) or sizes[0] > 5 and len(sizes) > 1:
                continue  # "12345678.5", "2026 11 29 1234": not a phone's grouping
            if all(run.after_dot(i) and sizes[i] == 3 for i in range(1, len(sizes))) and run.digits[0][0] != "0":
                continue  # "12.500.000": thousands
            if sizes in ((4, 2, 2), (2, 2, 4)) and not run.plus:
                continue  # "2026 11 29": a date
            if looks_like_money(t, run.start, run.end):
                continue
            if nearest(t, run.start, _CONTEXTS) == "phone":
                yield run.start, run.end
