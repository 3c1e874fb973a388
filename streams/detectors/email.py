"""E-mail addresses, including the spelled-out forms people use to get past chat filters
("lan.tran [at] gmail [dot] com", "lan(at)gmail.com")."""

from __future__ import annotations

import re

from .base import PatternDetector, ScanText

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63})"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_DOT = r"(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)"
_AT = r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"


class EmailDetector(PatternDetector):
    kind = "EMAIL"
    priority = 100
    patterns = (re.compile(
        rf"(?<![A-Za-z0-9._%+\-]){_LOCAL}{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[A-Za-z]{{2,24}}(?![A-Za-z0-9\-])",
        re.IGNORECASE),)

    def applies(self, t: ScanText) -> bool:
        text = t.text
        return "@" in text or (("[" in text or "(" in text) and _SPELLED_AT.search(t.lower) is not None)


_SPELLED_AT = re.compile(r"[\[(]\s?at\s?[\])]")
