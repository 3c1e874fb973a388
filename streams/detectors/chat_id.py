"""Chat ids written next to their app: "LINE: somjai99", "Line ID @shopname", "ไลน์ somjai_99",
"แอดไลน์ @kiki", "ทักไลน์มาที่ nong.may", "Telegram: @minh_nguyen", "IG: lan.tran". A phone
number given as a chat id is left to the phone detector.

A handle after a bare English word such as "line" or "zalo" needs a sign that it is a
handle: a colon, "ID", a leading "@", or a digit, dot or underscore in it; and "line" in
"product line:" or "address line:" is not LINE."""

from __future__ import annotations

import re

from .base import PatternDetector, ScanText

_LATIN_LABELS = (r"line(?:\s?@)?(?:\s?id)?|id\s?line|zalo(?:\s?id)?|telegram|tele|wechat|we\s?chat|viber|"
                 r"whatsapp|kakao(?:talk)?|skype|ig|insta(?:gram)?|snap(?:chat)?")
_THAI_LABELS = r"ไอดีไลน์|ไลน์ไอดี|แอดไลน์|ไลน์|ไอจี"
_PATTERN = re.compile(
    rf"(?=[lizwtvksไแ])(?:(?<![a-z])(?P<latin>{_LATIN_LABELS})(?![a-z])"  # first letters: one set test per position
    rf"|(?P<thai>{_THAI_LABELS})(?P<filler>[\u0e00-\u0e7f]{{1,12}})?)"
    r"\s?(?:(?P<colon>[:=]|-)|(?P<id>\s?id\s?[:=]?))?\s?"
    r"(?P<value>@?[a-z][a-z0-9._\-]{1,31})(?![a-z0-9@])")
_THAI_LINKS = frozenset({"", "มาที่", "มา", "ได้ที่", "ที่", "หา", "ไปที่", "มาได้ที่", "ชื่อ"})  # to, at, named
_NOT_LINE_APP = re.compile(r"(?:product|address|production|bottom|order|subject|sale|dòng|hot)\s*$")
_HINT = re.compile(r"line|zalo|tele|chat|viber|whatsapp|kakao|skype|ig|insta|snap|ไลน์|ไอดี|ไอจี")
# the first word of every Latin label as an ASCII text splits it ("line@", "line id", "lineid",
# "id line", "idline", "we chat", ...)
_LABEL_FIRST_WORDS = frozenset({"line", "lineid", "id", "idline", "zalo", "zaloid", "telegram", "tele", "wechat", "we",
                                "viber", "whatsapp", "kakao", "kakaotalk", "skype", "ig", "insta", "instagram",
                                "snap", "snapchat"})
_NOT_HANDLES = frozenset({"shop", "for", "and", "the", "or", "to", "me", "us", "official", "chat", "call", "group",
                          "oa", "app", "pay", "now", "nha", "nhe", "nhen", "ok", "only", "is", "of", "with",
                          "in", "at", "on", "please", "a", "an", "number", "no", "ib", "inbox", "it", "da"})


class ChatIdDetector(PatternDetector):
    kind = "CHAT_ID"
    priority = 60
    lowercase = True
    patterns = (_PATTERN,)

    def applies(self, t: ScanText) -> bool:
        if t.text.isascii():  # a label opens with one of the text's words
            return not _LABEL_FIRST_WORDS.isdisjoint(t.words)
        return _HINT.search(t.lower) is not None

    def find(self, t: ScanText):
        for m in _PATTERN.finditer(t.lower):
            handle = m.group("value")
            bare = handle.lstrip("@").rstrip(".-")
            if not bare or bare in _NOT_HANDLES:
                continue
            marked = (m.group("colon") or m.group("id") or handle.startswith("@")
                      or any(c in bare for c in "0123456789._"))
            if m.group("thai"):  # "ไลน์ somjai", "ทักไลน์มาที่ somjai" but not "ไลน์ของร้าน shopee"
                strong = marked or (m.group("filler") or "") in _THAI_LINKS
            else:
                strong = marked or "id" in m.group("latin")
            latin = m.group("latin")
            if latin and latin.startswith("line") and _NOT_LINE_APP.search(t.lower, max(0, m.start() - 12), m.start()):
                continue
            if strong:
                start = m.start("value")
                yield start, start + len(handle.rstrip(".-"))
