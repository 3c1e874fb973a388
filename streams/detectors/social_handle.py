"""Social handles: "@nguyenvanan", "tiktok @lan.shop", "fb: lan.tran92", "facebook Lan.Tran",
"twitter: somchai_j", "IG lan.tran" (the last after a social network's name, whatever the
case).

Which kind a handle becomes, consistently:
  * a link with its site ("fb.com/nguyen.van.an", "facebook.com/x", "instagram.com/x",
    "tiktok.com/@x") is a URL (UrlDetector, priority 95): the whole link goes;
  * a handle after a chat app's name ("LINE: somjai99", "Zalo ID", "Telegram: @minh",
    "IG: lan.tran") is a CHAT_ID (ChatIdDetector, priority 60);
  * every other handle is a HANDLE (priority 58): a bare "@name", and a name after
    fb/facebook/tiktok/twitter/x/threads/youtube/snapchat.
An e-mail address stays EMAIL (priority 100, and "@" after a letter or digit is never a
handle); "2 cái @50k" (a price), "@ 10h" and "@all" are not handles.
"""

from __future__ import annotations

import re
from typing import Iterator

from .base import Detector, ScanText, Span

_AT = re.compile(r"(?<![A-Za-z0-9._%+\-/@])@(?P<value>[A-Za-z_][A-Za-z0-9_.]{1,29})(?![A-Za-z0-9_@])")
_SITES = r"fb|facebook|face|tiktok|tik tok|tt|twitter|x|threads|youtube|yt|snapchat|snap|pinterest|ig|insta|instagram"
_AFTER_SITE = re.compile(
    rf"(?=[ftxyspi])(?<![a-z0-9])(?P<site>{_SITES})(?![a-z0-9.])(?:[ \t]*(?P<colon>[:=\-])[ \t]*|[ \t]+(?:là|la|is|name|tên|ten|id)?[ \t]*:?[ \t]*)"
    r"(?P<value>@?[a-z][a-z0-9_.]{1,29})(?![a-z0-9_@])")
_HINT = re.compile(r"@|fb|face|tik|tt|twitter|x|threads|youtube|yt|snap|pinterest|ig|insta")
_SITE_WORDS = frozenset(site.split()[0] for site in _SITES.split("|"))  # "tik tok": "tik"
# Words after a network's name that are not a handle: "fb shop", "tiktok live", "fb của shop"
_NOT_HANDLES = frozenset({
    "shop", "page", "fanpage", "live", "ads", "group", "messenger", "mess", "video", "story", "reels", "reel", "post",
    "official", "store", "mall", "chat", "inbox", "ib", "account", "acc", "profile", "link", "nha", "nhe", "nhen",
    "nhé", "minh", "mình", "em", "anh", "chi", "cua", "của", "shop", "roi", "rồi", "cho", "va", "và", "hoac", "or",
    "and", "the", "for", "to", "me", "us", "my", "our", "your", "please", "now", "only", "with", "in", "at", "on",
    "of", "is", "la", "là", "ten", "tên", "id", "name", "user", "username", "handle", "follow", "like", "share",
    "comment", "search", "tim", "tìm", "kiem", "kiếm", "trang", "lien", "he", "qua", "sau", "truoc", "app", "web",
    "website", "shopee", "lazada", "tiki", "zalo", "line", "we", "pay", "payment", "khong", "ko", "da", "co", "cung",
    "dang", "ban", "hang", "san", "pham", "sp", "order", "don", "mua", "ban", "it", "this", "that", "there", "here",
    "all", "everyone", "here", "channel", "kenh", "kênh", "tiktoker", "livestream", "stream", "feed", "marketplace",
    "photo", "photos", "pic", "pics", "hinh", "anh", "clip", "review", "reviews", "tag", "hashtag", "trend", "viral",
    "filter", "effect", "sticker", "dm", "pm", "message", "messages", "notification", "noti", "ok", "thoi", "nua",
    "luon", "duoc", "dc", "nhieu", "it", "doi", "size", "mau", "giao", "ship", "cod", "free", "sale", "off",
})
_NOT_AT_HANDLES = frozenset({"all", "everyone", "here", "channel", "gmail", "yahoo", "hotmail", "outlook", "icloud"})
_MAIL_DOMAIN = re.compile(r"(?:gmail|yahoo|hotmail|outlook|icloud|live|msn)\.", re.IGNORECASE)


class SocialHandleDetector(Detector):
    kind = "HANDLE"
    priority = 58  # below URL (a profile link) and CHAT_ID (after a chat app's name)

    def applies(self, t: ScanText) -> bool:
        if t.text.isascii():  # a site's name stands alone: one of the text's words
            return "@" in t.text or not _SITE_WORDS.isdisjoint(t.words)
        return _HINT.search(t.lower) is not None

    def find(self, t: ScanText) -> Iterator[Span]:
        text, lower = t.text, t.lower
        if "@" in text:
            for m in _AT.finditer(text):
                value = m.group("value").rstrip(".")
                if value.lower() in _NOT_AT_HANDLES or _MAIL_DOMAIN.match(text, m.start("value")):
                    continue
                yield m.start(), m.start() + 1 + len(value)
        for m in _AFTER_SITE.finditer(lower):
            value = m.group("value")
            bare = value.lstrip("@").rstrip(".")
            if value.startswith("@"):
                continue  # the bare "@name" above
            if bare in _NOT_HANDLES or len(bare) < 3:
                continue
            site = m.group("site")
            marked = m.group("colon") or any(c in bare for c in "0123456789._")
            if site in ("x", "tt", "yt", "face", "snap", "ig") and not marked:
                continue  # short words: "size x l", "tt" (thông tin)
            if not marked and len(bare) < 5:
                continue
            start = m.start("value")
            yield start, start + len(value.rstrip("."))
