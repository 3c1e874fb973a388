"""Links that can lead to a person: social profiles written with or without a scheme
(Facebook, Messenger, Zalo, LINE, Instagram, TikTok, Telegram, ...) and any other http(s)
or www link. Marketplace pages (Shopee, Lazada, Tiki, TikTok Shop products) identify a
product, not a person, and stay."""

from __future__ import annotations

import re

from .base import PatternDetector, ScanText

_PATH = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_SOCIAL = (r"(?:[a-z0-9\-]{1,12}\.)?(?:facebook\.com|fb\.com|fb\.me|m\.me|messenger\.com|zalo\.me|line\.me|"
           r"lin\.ee|instagram\.com|instagr\.am|tiktok\.com|threads\.net|twitter\.com|x\.com|t\.me|wa\.me)")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?"

# Product and shop pages of the marketplaces: not personal.
_MARKETPLACE = re.compile(
    r"(?:https?://)?(?:[a-z0-9\-]+\.)*(?:shopee\.(?:vn|co\.th|com|sg|com\.my|ph)|shp\.ee|"
    r"lazada\.(?:vn|co\.th|com|sg|com\.my)|tiki\.vn|sendo\.vn)(?:[:/?#]|$)|"
    r"(?:https?://)?shop\.tiktok\.com/view/product/", re.IGNORECASE)
_HINT = re.compile(r"://|www\.|facebook|fb\.|m\.me|messenger|zalo\.me|line\.me|lin\.ee|instagr|tiktok|threads|"
                   r"twitter|x\.com|t\.me|wa\.me")
_TRAILING = ".,;:!?'\""


class UrlDetector(PatternDetector):
    kind = "URL"
    priority = 95
    patterns = (re.compile(
        rf"(?<![A-Za-z0-9@._%+\-])(?:(?:https?://)?{_SOCIAL}/{_PATH}+|(?:https?://|www\.){_HOST}(?:/{_PATH}*)?)",
        re.IGNORECASE),)

    def applies(self, t: ScanText) -> bool:
        return ("/" in t.text or "www." in t.lower) and _HINT.search(t.lower) is not None

    def find(self, t: ScanText):
        for start, end in super().find(t):
            end = _trim(t.text, start, end)
            if end > start and not _MARKETPLACE.match(t.text, start, end):
                yield start, end


def _trim(text: str, start: int, end: int) -> int:
    """Drop sentence punctuation and an unbalanced closing bracket from the end."""
    while end > start:
        ch = text[end - 1]
        if ch in _TRAILING:
            end -= 1
        elif ch in ")]" and text.count("(" if ch == ")" else "[", start, end) < text.count(ch, start, end):
            end -= 1
        else:
            break
    return end
