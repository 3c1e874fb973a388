"""People's names in free text: Vietnamese (with and without accents, any case), Thai and
English. "Giao cho anh Nguyễn Văn An", "giao cho chi lan", "ส่งให้คุณสมชาย ใจดี",
"Please deliver to Mr John Smith", "Recipient: Jane Doe", "TRAN THI MAI".

Context decides more than lists. A name is the words after
  * a context word: a delivery verb ("giao cho", "gửi cho", "deliver to", "ส่งให้", "ฝากถึง")
    or a label ("người nhận", "họ tên:", "recipient:", "attn", "c/o", "ผู้รับ", "ชื่อ"),
    where any word that is not a function word counts ("giao cho anh Bờm" is a name);
  * a form of address ("anh", "chị", "em", "cô", "bạn", "a/c/e") or a title ("Mr", "Dr",
    "คุณ", "นาย", "น.ส."), where the word must be capitalised, or a known given name when
    written in lower case ("chi lan"), and "anh chị em", "em bé", "cô ấy", "Tiếng Anh",
    "chi phí" (cost, typed without accents) are phrases, not names;
  * nothing, for a Vietnamese family name followed by a middle or given name, three words or
    more ("Nguyễn Văn An", "tran thi mai"), or a known first name opening an address line
    ("Sarah Lim, 199 ...").
Shops, brands, places and streets named like people ("Nguyễn Kim", "Lê Lợi", "Calvin Klein",
"An Giang") stay, from their lists (name_lists.py) and from the word before them: a street
word ("đường Lê Lợi"), a house number, a shop word. The span is the name without its form
of address or title ("anh [NAME]", "คุณ[NAME]"). Below every other kind in priority: an
address or handle that overlaps a name wins.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator

from . import name_lists as L
from .base import Detector, ScanText, Span
from .context import _trie_pattern, has_thai
from .context_words import BANK_NAMES
from .street_address import EN_PLACES, VI_PLACES


@lru_cache(maxsize=8192)
def fold(word: str) -> str:
    """Vietnamese without accents: "nguyễn" -> "nguyen", "đỗ" -> "do"."""
    if word.isascii():
        return word
    stripped = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in stripped if not unicodedata.combining(c))


def _both(words) -> frozenset[str]:
    """Each word as written and without accents."""
    return frozenset(words) | frozenset(fold(w) for w in words)


_FAMILY = frozenset(L.VI_FAMILY)
_FAMILY_ASCII = frozenset(fold(w) for w in L.VI_FAMILY)
_MIDDLE = frozenset(L.VI_MIDDLE)
_MIDDLE_ASCII = frozenset(fold(w) for w in L.VI_MIDDLE)
_GIVEN = frozenset(L.VI_GIVEN) | _MIDDLE
_GIVEN_ASCII = frozenset(fold(w) for w in _GIVEN)
_HONORIFIC = frozenset(L.VI_HONORIFICS)
_HONORIFIC_ASCII = frozenset(L.VI_HONORIFICS_ASCII)
_SHORTHAND = frozenset({"a", "c", "e"})
_SHORTHAND_LIKE = frozenset({"em", "e", "a", "c", "bé"})  # never a name after a form of address
# words that make the capitalised words before or after them a place: "Ha Long Bay", "San Jose"
_PLACE_SUFFIX = frozenset({
    "bay", "city", "harbour", "harbor", "sands", "branch", "mall", "center", "centre", "park", "tower", "plaza",
    "hotel", "resort", "airport", "station", "market", "hospital", "university", "school", "college", "beach",
    "island", "lake", "bridge", "square", "village", "town", "street", "road", "avenue", "boulevard", "lane",
    "store", "shop", "outlet", "office", "building", "residence", "residences", "apartment", "apartments",
    "condo", "villa", "villas", "garden", "gardens", "hills", "hill", "river", "port", "church", "temple",
    "museum", "stadium", "zoo", "cafe", "coffee", "restaurant", "bakery", "pharmacy", "clinic", "bank",
    "club", "gym", "spa", "salon", "studio", "company", "co", "ltd", "inc", "group", "corporation", "express",
    "province", "district", "ward", "county", "state", "region", "bridge", "falls", "valley", "court",
})
_PLACE_PREFIX = frozenset({"saint", "san", "santa", "los", "las", "new", "port", "mount", "lake", "fort", "st",
                           "north", "south", "east", "west", "upper", "lower", "royal", "grand", "central"})
_VI_STOP = frozenset(L.VI_STOP)
_STOP_LOWER = frozenset(L.VI_STOP) | frozenset(L.EN_STOP)
_STOP_ACCENTED_ONLY = frozenset(L.VI_STOP_ACCENTED_ONLY)
# words that end a name even when capitalised
_STOP_ANY = frozenset((
    "shop", "sđt", "sdt", "đt", "zalo", "quận", "quan", "phường", "đường", "phố", "tp", "q", "p", "số", "tel", "phone",
    "street", "road", "avenue", "lane", "ltd", "limited", "inc", "co", "corp", "company", "công", "ty", "tnhh",
    "please", "thanks", "thank", "hotline", "email", "mail", "ib", "inbox", "ngõ", "hẻm", "xã", "huyện", "tỉnh",
    "thành", "phone", "mobile", "line", "facebook", "fb", "ig", "tiktok", "cod", "freeship", "sale", "size",
    "màu", "mau", "hàng", "chính", "hãng", "giá", "khuyến", "mãi", "tặng", "tang", "cảm", "ơn", "cam", "xa", "huyen",
    "tinh", "hem", "ngo", "ngach", "tang", "toa", "phong", "can", "ho", "chung", "cu", "so",
    "xin", "chào", "chao", "dạ", "vâng", "ok", "okay", "hi", "hello", "dear", "ship", "giao", "nhận", "gửi", "liên",
    "hệ", "tới", "đến", "ở", "tại", "và", "hoặc", "với", "cho", "the", "and", "or", "of", "for", "to", "at",
    "in", "on", "by", "with", "from", "tầng", "tòa", "phòng", "căn", "hộ", "chung", "cư", "block", "flat",
    "unit", "apt", "room", "floor", "building", "district", "ward", "province", "city", "soi", "moo",
)) - {"ho", "phong", "tang", "so", "can", "chung", "quan", "huyen", "tinh"} | _PLACE_SUFFIX | _PLACE_PREFIX
_PHRASES_ASCII = frozenset(L.VI_ASCII_PHRASES) | frozenset({
    "anh hung", "chi gai", "em gai", "ban be", "ong ba", "co dau", "chu re", "ba bau", "anh ca", "chi ca",
    "anh hai", "chi hai", "ba hoang", "ong hoang", "co tien", "co nang", "ong troi", "ba con", "co be", "cau be",
    "cau ay", "co ay", "chu ay", "bac ay", "ba ay", "ong ay", "em ay", "chi ay", "ban ay", "anh ay", "chau be",
})
_EN_FIRST = frozenset(L.EN_FIRST_NAMES)
_NOT_NAMES = re.compile(_trie_pattern(tuple(L.VI_NOT_NAMES) + tuple(fold(w) for w in L.VI_NOT_NAMES)
                                      + L.EN_NOT_NAMES))

_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_WORD = re.compile(rf"[{_LATIN}]+(?:['’\-][{_LATIN}]+)*")
_SPACES = re.compile(r"[ \t]{1,3}")
_LABEL_GAP = re.compile(r"[ \t]*(?:[:：=\-–][ \t]*)?")
MAX_WORDS = 4

# Words ahead of a name that make it a street, a shop or a place ("đường Lê Lợi", "Điện
# máy Nguyễn Kim", "chợ Bà Chiểu"), and a house number ("12 Lý Thường Kiệt").
_PLACE_BEFORE = re.compile(
    r"(?:(?<![a-z\u00e0-\u1ef9])(?:đường|duong|phố|pho|đ\.|p\.|phường|phuong|quận|quan|huyện|huyen|xã|tỉnh|tinh|"
    r"ngõ|hẻm|hem|kiệt|ngách|street|st\.|road|chợ|cầu|trường|truong|thpt|thcs|đại học|dai hoc|"
    r"bệnh viện|benh vien|siêu thị|sieu thi|điện máy|dien may|cửa hàng|cua hang|công ty|cong ty|tiệm|tiem|"
    r"quán|nhà hàng|nha hang|khu|kdc|chung cư|chung cu|tòa|toa|bến|công viên|cong vien|đại lộ|dai lo|"
    r"cao tốc|tiếng|tieng|nước|nuoc|người|nguoi|thương hiệu|thuong hieu|hãng|hang|brand|shop|store|mall|at|"
    r"in|on|near|via|tại|số|no\.?|sân bay|san bay|ga|tp\.?|thành phố|thanh pho)"
    r")[ \t,.]{0,2}$|[0-9][0-9a-z/\-]*[ \t.]{1,2}$")  # "12 Lý Thường Kiệt", not "Quận 3, Kiều Minh Tín"
_TITLE_CASE_MIN_WORDS = 6


# ---------------------------------------------------------------------------------------
# Anchors, found in one pass over the lower-cased text.

_VI_TRIGGERS = ("giao cho", "giao hàng cho", "giao hang cho", "gửi cho", "gui cho", "gởi cho", "ship cho",
                "chuyển cho", "chuyen cho", "đưa cho", "dua cho", "giao tới", "giao toi", "giao đến", "giao den",
                "gửi tới", "gửi đến", "gui toi", "gui den", "ship tới", "ship den", "ship đến", "tặng", "tang",
                "quà cho", "qua cho", "mua cho", "nhờ", "nho", "gặp", "gap", "hỏi", "liên hệ", "lien he", "lh",
                "cảm ơn", "cam on", "gọi", "goi", "gọi cho", "goi cho", "nhắn", "nhan", "báo", "bao", "để lại cho",
                "de lai cho", "giao tận tay", "giao tan tay", "kêu", "keu", "nhận hộ", "nhan ho", "ký nhận",
                "ky nhan", "người nhận là", "nguoi nhan la", "là", "la", "của", "cua", "gửi", "gui", "gởi")
_VI_LABELS = ("người nhận", "nguoi nhan", "người gửi", "nguoi gui", "tên người nhận", "ten nguoi nhan", "họ tên",
              "ho ten", "họ và tên", "ho va ten", "tên khách", "ten khach", "tên", "ten", "khách hàng", "khach hang",
              "nhận hàng", "nhan hang", "người liên hệ", "nguoi lien he", "tên tài khoản", "ten tai khoan",
              "chủ tài khoản", "chu tai khoan", "ctk", "tên tk", "ten tk", "người đặt", "nguoi dat")
_EN_TRIGGERS = ("deliver to", "delivery to", "deliver it to", "ship to", "send to", "sent to", "send it to",
                "addressed to", "hand to", "hand it to", "give to", "give it to", "leave with", "leave it with",
                "gift for", "present for", "this is", "it's", "i am", "i'm", "regards", "thanks", "from", "for",
                "call", "contact", "ask for", "ask", "signed by", "received by", "pick up by", "picked up by",
                "collect by", "collected by", "invoice to", "tax invoice to", "bill to", "billed to",
                "in the name of", "issued to")
_EN_LABELS = ("recipient", "receiver", "consignee", "attn", "attn.", "attention", "c/o", "care of", "name",
              "full name", "my name is", "contact person", "contact name", "customer name", "customer", "buyer",
              "buyer name", "receiver name", "recipient name", "ship to name", "account name", "account holder",
              "holder", "sender", "from", "to")
_TH_LABELS = ("ผู้รับ", "ชื่อผู้รับ", "ชื่อ-นามสกุล", "ชื่อ-สกุล", "ชื่อ นามสกุล", "ชื่อ", "ส่งให้", "ส่งถึง", "ฝากถึง",
              "ฝากให้", "ผู้ส่ง", "ชื่อบัญชี", "ถึง", "ให้", "รับโดย", "ผู้ติดต่อ", "ติดต่อ", "ในนาม")
_TH_NOT_AFTER_LABEL = ("สินค้า", "ร้าน", "บริษัท", "ห้าง", "หจก", "บจก", "รุ่น", "แบรนด์", "เพจ", "เล่น", "ไฟล์", "เมนู", "ภาษา", "เรื่อง", "ทีม",
                       "โปร", "สี", "ลาย", "ด้วย", "หน่อย", "ก่อน", "เร็ว", "ที่", "ไว", "ทัน", "ถึง", "ได้", "เลย",
                       "นะ", "ค่ะ", "คะ", "ครับ", "ของ", "ลูกค้า", "บ้าน", "ทาง", "แล้ว", "มา", "ไป", "กับ")

# labels that need no colon: "c/o Peter Parker", "người nhận chị Lan"
_BARE_LABELS = ("c/o", "attn", "attn.", "attention", "care of", "recipient", "receiver", "consignee", "người nhận",
                "nguoi nhan", "tên người nhận", "ten nguoi nhan", "họ tên", "ho ten", "my name is", "name is",
                "người gửi", "nguoi gui", "holder", "account holder", "account name", "chủ tk", "chu tk",
                "chủ tài khoản", "chu tai khoan", "tên tk", "ten tk", "tên tài khoản", "ten tai khoan", "ctk", "kh",
                "khách", "khach", "tên", "ten", "người đặt", "nguoi dat", "name", "in the name of", "named")
# a Thai title glued after these words is still a title: "ส่งให้คุณสมชาย", "ฝากถึงคุณวิภา"
_TH_BEFORE_TITLE = re.compile(_trie_pattern(("ให้", "ถึง", "รับ", "ชื่อ", "ส่ง", "โดย", "ติดต่อ", "กับ", "ของ", "แด่",
                                             "เรียน", "ฝาก", "คือ", "จาก", "ผู้รับ", "ผู้ส่ง", "และ", "หรือ", "นาม",
                                             # a sentence ends with its particle: a title may open the next
                                             "ค่ะ", "คะ", "ครับ", "จ้า", "จ้ะ", "นะ")) + "$")
_TH_TITLE = "|".join(re.escape(t) for t in sorted(L.TH_TITLES, key=len, reverse=True))
_EN_TITLE = r"(?:mr|mrs|ms|miss|dr|prof|sir|madam|mdm|khun)\.?"

_LETTER_BEFORE = r"(?<![a-z\u00e0-\u1ef9'’])"


# a family name is an anchor only before a middle or given name ("Nguyễn Văn", "tran thi"),
# not before "you" ("do you") or "the" ("to the")
_NAME_AFTER = re.compile(r"[ \t]+(?:" + _trie_pattern(tuple(_GIVEN | _GIVEN_ASCII)) + ")")


def _anchor_regex(honorifics: tuple[str, ...]) -> re.Pattern:
    words = (_TH_LABELS + L.TH_TITLES + _VI_LABELS + _EN_LABELS + _BARE_LABELS + _VI_TRIGGERS + _EN_TRIGGERS
             + honorifics + tuple(_FAMILY | _FAMILY_ASCII) + ("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam",
                                                              "mdm", "khun"))
    # a lookahead on the first letters lets `re` skip most positions with one test
    firsts = "".join(re.escape(c) for c in sorted({w[0] for w in words}))
    return re.compile(
        rf"(?=[{firsts}])(?:"
        rf"(?P<th_title>{_TH_TITLE})"
        rf"|(?P<th_label>{_trie_pattern(_TH_LABELS)})"
        rf"|{_LETTER_BEFORE}(?:(?P<en_title>{_EN_TITLE})(?=[ \t]+[A-Za-z])"
        rf"|(?P<label>{_trie_pattern(_VI_LABELS + _EN_LABELS)})(?=[ \t]*[:：=\-–])"
        rf"|(?P<bare_label>{_trie_pattern(_BARE_LABELS)})(?=[ \t]+[{_LATIN}])"
        rf"|(?P<trigger>{_trie_pattern(_VI_TRIGGERS + _EN_TRIGGERS)})(?=[ \t])"
        rf"|(?P<hon>{_trie_pattern(tuple(h for h in honorifics if h not in _SHORTHAND))})(?=[ \t]+[{_LATIN}])"
        # "a Tuấn", "c lan" (not the English "a"), "Nguyễn Văn": a given name must follow,
        # which _anchors checks with _NAME_AFTER (one copy of that long list, not four)
        rf"|(?P<short>[ace])(?![a-z])(?=[ \t]+[{_LATIN}])"
        rf"|(?P<family>{_trie_pattern(tuple(_FAMILY | _FAMILY_ASCII))})(?=[ \t]+[{_LATIN}])))")


_ANCHORS_ACCENTED = _anchor_regex(L.VI_HONORIFICS)
_ANCHORS_ASCII = _anchor_regex(L.VI_HONORIFICS_ASCII)
_TH_ANCHORS = re.compile(  # behind a lookahead on first letters, as _anchor_regex
    "(?=[" + "".join(sorted({w[0] for w in L.TH_TITLES + _TH_LABELS})) + "])"
    rf"(?:(?P<th_title>{_TH_TITLE})|(?P<th_label>{_trie_pattern(_TH_LABELS)}))")
_TOKEN = re.compile("[a-z\u00c0-\u024f\u1e00-\u1eff]+")  # as ScanText.words splits
# the first word of every Latin anchor: only where one of these starts is the anchor
# expression tried, instead of searching the whole text with it
_ANCHOR_FIRSTS = frozenset(m.group() for m in (_TOKEN.match(w.lower()) for w in (
    _VI_LABELS + _EN_LABELS + _BARE_LABELS + _VI_TRIGGERS + _EN_TRIGGERS + L.VI_HONORIFICS
    + L.VI_HONORIFICS_ASCII + tuple(_FAMILY | _FAMILY_ASCII)
    + ("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mdm", "khun", "a", "c", "e"))) if m)


# where one of those words starts, found by `re` rather than by a loop over every word
_ANCHOR_FIRST = re.compile(
    "(?=[" + "".join(sorted({re.escape(w[0]) for w in _ANCHOR_FIRSTS})) + "])"
    rf"(?<![a-z\u00c0-\u024f\u1e00-\u1eff])(?:{_trie_pattern(tuple(_ANCHOR_FIRSTS))})(?![a-z\u00c0-\u024f\u1e00-\u1eff])")
_NAME_AFTER_KINDS = frozenset({"short", "family"})


def _anchors(t: ScanText, lower: str, ascii_only: bool) -> Iterator[re.Match]:
    """The anchors of a text, as the anchor expression's finditer finds them: Thai ones by a
    search for Thai anchors alone (in a text with Thai letters), Latin ones by trying the
    expression only where a word that opens an anchor starts."""
    if not ascii_only and has_thai(t):
        yield from _TH_ANCHORS.finditer(lower)
    if _ANCHOR_FIRSTS.isdisjoint(t.words):
        return
    match = (_ANCHORS_ASCII if ascii_only else _ANCHORS_ACCENTED).match
    last = 0
    for w in _ANCHOR_FIRST.finditer(lower):
        p = w.start()
        if p >= last:
            m = match(lower, p)
            if m is not None and (m.lastgroup not in _NAME_AFTER_KINDS or _NAME_AFTER.match(lower, m.end())):
                last = m.end()
                yield m

_TH_RUN = re.compile(r"[\u0e01-\u0e4e]+")
_TH_NOT_START = re.compile(_trie_pattern(L.TH_NOT_NAME_STARTS))
_TH_END = re.compile(_trie_pattern(L.TH_NAME_ENDS))
_TH_NOT_SURNAME = re.compile(_trie_pattern(L.TH_NOT_SURNAMES))
_TH_NOT_AFTER_LABEL = re.compile(_trie_pattern(_TH_NOT_AFTER_LABEL))
_TH_TITLE_AT = re.compile(rf"(?:{_TH_TITLE})[ \t]?")
_EN_TITLE_AT = re.compile(rf"{_EN_TITLE}[ \t]+", re.IGNORECASE)
_EN_CONTEXT_ONLY_CAPS = frozenset({"this is", "it's", "i am", "i'm", "regards", "thanks", "from", "for", "call",
                                   "contact", "ask", "ask for", "to"})
_ADDRESS_TRIGGERS = frozenset({"ship to", "deliver to", "delivery to", "send to", "sent to", "deliver it to",
                               "send it to", "addressed to", "giao tới", "giao toi", "giao đến", "giao den",
                               "gửi tới", "gửi đến", "gui toi", "gui den", "ship tới", "ship den", "ship đến"})
_WEAK_VI_TRIGGERS = frozenset({"là", "la", "của", "cua", "nho", "gap", "tang", "bao", "nhan", "goi",
                               "keu", "qua cho", "hỏi", "báo", "nhắn", "gọi"})


class PersonNameDetector(Detector):
    kind = "NAME"
    priority = 40  # the lowest: an address, a handle or an id that overlaps a name wins

    def find(self, t: ScanText) -> Iterator[Span]:
        text, lower = t.text, t.lower
        scan = _NameScan(text, lower)
        for m in _anchors(t, lower, scan.ascii):
            kind = m.lastgroup
            if kind in _LATIN_NEXT_KINDS and not scan.promising(m.end(), kind, m.start()):
                continue  # the word after it can be no name: skip the slower checks
            if kind == "hon" or kind == "short":
                span = scan.after_honorific(m.start(), m.end())
            elif kind == "family":
                span = scan.full_name(m.start())
            elif kind == "trigger":
                span = scan.after_trigger(m.group(), m.end())
            elif kind == "label":
                span = scan.after_label(m.group(), m.end())
            elif kind == "bare_label":
                span = scan.after_label(m.group(), m.end(), bare=True)
            elif kind == "en_title":
                span = scan.after_title(m.start(), m.end())
            elif kind == "th_title":
                start = m.start()
                glued = start and "\u0e01" <= lower[start - 1] <= "\u0e4e"
                if glued and not _TH_BEFORE_TITLE.search(lower, max(0, start - 8), start):
                    span = None  # "ขอบคุณ" (thanks), "บุญคุณ", a title inside a word
                else:
                    span = scan.thai_after(m.end(), title=True)
            elif kind == "th_label":
                span = scan.after_thai_label(m.group(), m.end())
            else:
                span = None
            if span is not None:
                yield span
        if _TWO_CAPITALS.match(text):  # "Sarah Lim, 199 ..."
            span = scan.line_head(0)
            if span is not None:
                yield span
        for run in t.runs if t.longest_run >= 8 else ():  # "(Olivia Reyes, 0375 ...)", "ชัยวัฒน์ 089-..."
            if 8 <= run.digit_count <= 13 and (text[run.start] in "0+(" or run.digits[0][:2] in ("84", "66")):
                span = scan.before_phone(run.start)
                if span is not None:
                    yield span
                if text[run.end:run.end + 2].lstrip(" \t")[:1] == "(":
                    span = scan.in_brackets(text.index("(", run.end) + 1)
                    if span is not None:
                        yield span  # "gọi số phụ 0991-763-191 (bác Công Duy)"
        if t.longest_run >= 6 and not _BANK_FIRSTS.isdisjoint(t.words):
            for m in _AFTER_BANK.finditer(lower):  # "STK: 118626961401 - VietinBank - DO ANH"
                span = scan.holder(m.end())
                if span is not None:
                    yield span
        if _TH_RUN.match(text):
            span = scan.thai_line_head()
            if span is not None:
                yield span


class _NameScan:
    """One text, looked at around each anchor."""

    __slots__ = ("text", "lower", "ascii", "_title_case")

    def __init__(self, text: str, lower: str):
        self.text, self.lower = text, lower
        self.ascii = text.isascii()
        self._title_case: bool | None = None

    @property
    def title_case(self) -> bool:
        """Most words capitalised (a product title): capitals say nothing about names."""
        if self._title_case is None:
            words = _WORD.findall(self.text)
            if len(words) < _TITLE_CASE_MIN_WORDS:  # too few words even before any is set aside
                self._title_case = False
                return False
            words = [w for w in words if not w.isupper()]  # "SKU", "EAN" say nothing
            caps = sum(1 for w in words if w[0].isupper())
            self._title_case = len(words) >= _TITLE_CASE_MIN_WORDS and caps >= 0.85 * len(words)
        return self._title_case

    # -- helpers -------------------------------------------------------------------------

    def promising(self, pos: int, kind: str, start: int) -> bool:
        """Whether the word after an anchor from `start` to `pos` may open a name: capitalised,
        or a known name, or (after a form of address or a label) not a function word; after a
        form of address, an unknown word in lower case only when a context word vouches for it
        ("giao cho anh bờm"), as after_honorific decides."""
        m = _NEXT_WORD.match(self.text, pos)
        if m is None:
            return kind in ("label", "trigger")  # "Người nhận: chị Lan", "ship cho a Tuấn"
        word = m.group(1)
        if word[0].isupper():
            return True
        lw = word.lower()
        if kind == "family":
            return self.ascii and fold(lw) in _MIDDLE_ASCII
        if kind == "short":
            kind = "hon"
        if lw in _VI_STOP and lw not in _STOP_ACCENTED_ONLY and not self._honorific(lw):
            return False
        known = self._given(lw) or self._family(lw) or lw in _EN_FIRST
        if kind == "hon" and not known:
            return not self._honorific(lw) and _trigger_before(self.lower, start)
        return known or kind == "label" or self._honorific(lw)

    def _given(self, lw: str) -> bool:
        return (lw in _GIVEN_ASCII) if self.ascii else (lw in _GIVEN or (lw.isascii() and lw in _GIVEN_ASCII))

    def _given_at(self, pos: int) -> bool:
        """Whether the word after `pos` (past spaces) is a given or middle name."""
        m = _NEXT_WORD.match(self.lower, pos)
        return m is not None and self._given(m.group(1)) and (m.group(1) not in _VI_STOP
                                                               or m.group(1) in _STOP_ACCENTED_ONLY)

    def _known(self, lw: str) -> bool:
        return self._given(lw) or self._family(lw) or lw in _EN_FIRST

    def _family(self, lw: str) -> bool:
        return lw in _FAMILY or lw in _FAMILY_ASCII

    def _honorific(self, lw: str) -> bool:
        return lw in _HONORIFIC or lw in _HONORIFIC_ASCII

    def _stop(self, word: str, lw: str, first: bool) -> bool:
        capital = word[0].isupper()
        if lw in _STOP_ANY and not (capital and not first and self._given(lw)):
            return True
        if lw in _STOP_LOWER and (not capital or self.title_case or (word.isupper() and len(word) <= 3 and first)):
            return not (self.ascii and lw in _STOP_ACCENTED_ONLY and not first)
        return False

    def words(self, pos: int, *, lower_ok: bool, lower_listed: bool, caps_listed: bool = False,
              max_words: int = MAX_WORDS, vouched: bool = False) -> tuple[int, list[str]]:
        """The name words from `pos` (after at most three spaces): capitalised words, and
        lower-case ones when `lower_ok` (any word that is not a function word) or
        `lower_listed` (known given and family names only). With `caps_listed` or in a
        title-case text the first word must be a known name. Returns (end, words)."""
        text, lower = self.text, self.lower
        i, end, out = pos, -1, []
        cap_first = False
        while len(out) < max_words:
            sp = _SPACES.match(text, i)
            if sp:
                i = sp.end()
            elif out or i != pos:
                break
            m = _WORD.match(text, i)
            if not m:
                break
            word = m.group()
            lw = lower[m.start():m.end()]
            first = not out
            capital = word[0].isupper()
            given = self._given(lw)  # asked twice below: looked up once
            known = given or lw in _FAMILY or lw in _FAMILY_ASCII or lw in _EN_FIRST
            # "nguyen van an": a given name after a family or middle name is part of the name
            inside = (not first and given
                      and (self._family(out[-1]) or out[-1] in _MIDDLE or fold(out[-1]) in _MIDDLE_ASCII)
                      and (lw not in _VI_STOP or lw in _STOP_ACCENTED_ONLY
                           # "lê văn thủy", "đinh bảo quyên": a word that is also a common word
                           # ("văn", "bảo") is a middle name between two name words
                           or (lw in _MIDDLE or fold(lw) in _MIDDLE_ASCII) and self._given_at(m.end())))
            if first and vouched and self._family(lw) and self._given_at(m.end()):
                inside = True  # after "tên", "chủ TK": "NGO CONG PHUONG", "dang hoang hanh", "do anh"
            if out and not capital and cap_first:
                break  # "BUI TUAN THUY nha": a name in capitals ends at the first lower-case word
            if not inside and self._stop(word, lw, first):
                break
            if self._honorific(lw):
                if first and not (capital and known and not self.title_case and lw not in _SHORTHAND_LIKE):
                    break
                if not first and not capital and not inside:
                    break
            if capital:
                if first and ((self.title_case and not vouched) or caps_listed) and not known:
                    break
                if word.isupper() and len(word) > 1 and not known and not (out and cap_first):
                    break  # "CCCD", "SKU", "VIP": an abbreviation, not a name in capitals
            elif not (lower_ok or inside or (lower_listed and known)):
                break
            if first:
                cap_first = capital
            out.append(lw)
            end = m.end()
            i = end
            if text[i:i + 1] == "." and len(word) == 1:  # an initial: "J. Smith"
                i += 1
        return end, out

    def _not_a_name(self, start: int, end: int, exact: bool) -> bool:
        """A shop, brand, place or famous street: the whole span (`exact`) or its head."""
        m = _NOT_NAMES.match(self.lower, start)
        if not m:
            return False
        after = self.lower[m.end():m.end() + 1]
        if after and (after.isalpha()):
            return False
        return m.end() >= end or not exact

    def _place_before(self, start: int) -> bool:
        return _PLACE_BEFORE.search(self.lower, max(0, start - 14), start) is not None

    # -- anchors --------------------------------------------------------------------------

    def after_honorific(self, start: int, end: int) -> Span | None:
        """"anh Nguyễn Văn An", "chị Lan", "chi lan" (a known name, in lower case)."""
        lower, text = self.lower, self.text
        hon = lower[start:end]
        if start and (lower[start - 1].isalnum()):
            return None
        if self._place_before(start) or _tieng_before(lower, start):
            return None  # "Tiếng Anh", "đường Bà Triệu", "người anh"
        if text[start].isupper() and _CAPITALISED_BEFORE.search(text, max(0, start - 20), start):
            return None  # "Ho Chi Minh", "Lan Anh": inside a name, not a form of address
        strong = _trigger_before(lower, start)
        shorthand = hon in _SHORTHAND
        if shorthand and not strong and not self.ascii and not _vi_word_near(lower, start):
            pass
        n_end, words = self.words(end, lower_ok=strong and not shorthand, lower_listed=True,
                                  caps_listed=shorthand and not strong)
        if not words:
            return None
        name_start = _SPACES.match(text, end).end() if _SPACES.match(text, end) else end
        first_cap = text[name_start].isupper()
        if not strong:
            if fold(hon) + " " + fold(words[0]) in _PHRASES_ASCII:
                return None
            if not first_cap and len(words) == 1 and not self._given(words[0]):
                return None
            if shorthand and not (first_cap and (self._given(words[0]) or self._family(words[0]))):
                return None
            if not first_cap and self.ascii and not self._given(words[0]):
                return None
            if self.title_case and not self._given(words[0]):
                return None
        if self._not_a_name(name_start, n_end, exact=True) or self._not_a_name(start, n_end, exact=False) \
                or _place_after(text, n_end):
            return None  # "Bà Trưng", "Bà Rịa", "Cô Tô"
        return name_start, n_end

    def full_name(self, start: int) -> Span | None:
        """A family name and at least two more name words: "Nguyễn Văn An", "TRAN THI MAI",
        "nguyen van an" (lower case: family, middle and given name from the lists)."""
        text, lower = self.text, self.lower
        if start and lower[start - 1].isalnum():
            return None
        capital = text[start].isupper()
        if not capital and not self.ascii:
            return None
        end, words = self.words(start, lower_ok=False, lower_listed=True, max_words=4)
        if len(words) < 3 and not (len(words) == 2 and _trigger_before(lower, start)):
            return None
        second = words[1]
        if capital:
            if not all(text[m.start()].isupper() for m in _WORD.finditer(text, start, end)):
                return None
            if not (second in _MIDDLE or second in _GIVEN or fold(second) in _MIDDLE_ASCII
                    or fold(second) in _GIVEN_ASCII):
                return None
        else:
            if not (fold(second) in _MIDDLE_ASCII and all(fold(w) in _GIVEN_ASCII for w in words[2:])):
                return None
            if " ".join(words[:2]) in _PHRASES_ASCII or " ".join(words[1:3]) in _ASCII_NOT_NAME_PAIRS:
                return None
            # family, middle names, then one given name: "nguyen van an" (dat hang)
            last = next((k for k in range(2, len(words)) if fold(words[k]) not in _MIDDLE_ASCII), len(words) - 1)
            if last + 1 < len(words):
                end = [m.end() for m in _WORD.finditer(self.text, start, end)][last]
        if self._place_before(start) or self._not_a_name(start, end, exact=False) or _place_after(text, end):
            return None
        for w in list(_WORD.finditer(text, start, end))[1:]:
            if self._not_a_name(w.start(), end, exact=False) or (self.ascii and w.group().lower() in _ASCII_MARKERS):
                return None  # "Duong Kim Ma" (đường Kim Mã), "Vu Duong Kim Ma", "Pho Ba Trieu"
        return start, end

    def after_trigger(self, trigger: str, end: int) -> Span | None:
        """"giao cho Nguyễn Văn An", "deliver to John Smith", "this is Jane Doe"; a form of
        address or a title after the trigger has its own anchor."""
        text, lower = self.text, self.lower
        start = end - len(trigger)
        if start and lower[start - 1].isalnum():
            return None
        pos = _SPACES.match(text, end)
        if not pos:
            return None
        i = pos.end()
        title = _EN_TITLE_AT.match(text, i)
        if title:
            return None  # the title's own anchor
        word = _WORD.match(text, i)
        if not word:
            return None
        if self._honorific(lower[i:word.end()]):
            if self.ascii or lower[i:word.end()] in _HONORIFIC:
                return None  # the form of address's own anchor
            # typed without accents in a text with accents ("... nhé. giao cho chi tran an"):
            # only the accented forms are anchors there, so the trigger vouches for it
            return self.after_honorific(i, word.end())
        english = trigger.isascii() and trigger in _EN_CONTEXT_ONLY_CAPS or trigger in _EN_TRIGGERS
        weak = trigger in _WEAK_VI_TRIGGERS or trigger in _EN_CONTEXT_ONLY_CAPS
        # "Ship to Marcus Kowalski, 219 Silom Road": an address line's capitals say nothing,
        # the address after the name vouches for it (checked below)
        end_, words = self.words(i, lower_ok=False, lower_listed=not weak, caps_listed=False,
                                 vouched=trigger in _ADDRESS_TRIGGERS)
        if not words:
            return None
        first = words[0]
        known = self._given(first) or self._family(first) or first in _EN_FIRST
        if first in _EN_FIRST and not text[i].isupper():
            end_, words = self.words(i, lower_ok=True, lower_listed=True, max_words=3)
        if trigger in _INTRODUCTIONS and text[i].isupper() and _FROM_AFTER.match(text, end_) \
                and not self._not_a_name(i, end_, exact=False) and _PLATFORMS.isdisjoint(words):
            return i, end_  # "Hi, this is Arjun from order ..."
        if weak or trigger in _ADDRESS_TRIGGERS or english:
            if not text[i].isupper():
                if not (first in _EN_FIRST or (len(words) >= 2 and self._family(first))):
                    return None
            two_capitals = len(words) >= 2 and text[i].isupper() and trigger.isascii()
            if weak and not (known and (len(words) >= 2 or first in _EN_FIRST)) and not two_capitals:
                return None  # "Contact Kittipat Jaidee", but not "cua Shop"
            if len(words) == 1 and not known and not (
                    text[i].isupper() and not weak and trigger not in _ADDRESS_TRIGGERS
                    and _SENTENCE_END.match(text, end_)):
                return None  # "Gift for Kenji, please ..." but not "ship to London"
        if self.title_case and not known and not (trigger in _ADDRESS_TRIGGERS and _HEAD_ADDRESS.match(text, end_)):
            return None
        if self._not_a_name(i, end_, exact=False) or _is_place(words) or _place_after(text, end_):
            return None
        return i, end_

    def after_label(self, label: str, end: int, bare: bool = False) -> Span | None:
        """"Người nhận: Trần Thị Mai", "Recipient: Jane Doe", "tên: lan", "Attn - Mr Smith"."""
        text, lower = self.text, self.lower
        start = end - len(label)
        if start and lower[start - 1].isalnum():
            return None
        gap = _LABEL_GAP.match(text, end)
        i = gap.end()
        title = _EN_TITLE_AT.match(text, i)
        if title:
            return None
        hon = _WORD.match(lower, i)
        if hon and self._honorific(hon.group()) and text[hon.end():hon.end() + 1] == " ":
            nxt = _WORD.match(text, hon.end() + 1)
            if nxt:
                i = hon.end() + 1  # "Người nhận: chị Lan"
        th = self.thai_after(i, title=False)
        if th:
            return th
        end_, words = self.words(i, lower_ok=not bare, lower_listed=True, vouched=True)
        if not words or self._not_a_name(i, end_, exact=True) or _is_place(words) or _place_after(text, end_):
            return None
        if bare and not text[i].isupper() and not (self._given(words[0]) or self._family(words[0])
                                                    or words[0] in _EN_FIRST):
            return None
        if label in ("to", "from", "customer", "khách hàng", "khach hang", "holder") and not text[i].isupper():
            return None
        return i, end_

    def after_title(self, start: int, end: int) -> Span | None:
        """"Mr John Smith", "Dr. Nguyễn An", "Khun Somchai"."""
        text = self.text
        if start and self.lower[start - 1].isalnum():
            return None
        i = _EN_TITLE_AT.match(text, start).end()
        end_, words = self.words(i, lower_ok=False, lower_listed=True, max_words=3, vouched=True)
        if not words or not text[i].isupper() and words[0] not in _EN_FIRST:
            return None
        if self._not_a_name(start, end_, exact=False) or self._not_a_name(i, end_, exact=False):
            return None
        return i, end_

    def after_thai_label(self, label: str, end: int) -> Span | None:
        """"ผู้รับ สมชาย ใจดี", "ชื่อ: สมหญิง", "ส่งให้คุณสมชาย" (the title has its own anchor)."""
        text = self.text
        gap = _LABEL_GAP.match(text, end)
        i = gap.end()
        if _TH_TITLE_AT.match(text, i):
            return None
        if label in ("ส่งให้", "ให้", "ถึง", "ส่งถึง", "ฝากให้", "ติดต่อ"):
            # a verb: only a given name and a surname ("ส่งให้ สมชาย ใจดี") or a Latin name
            if _TH_RUN.match(text, i):
                span = self.thai_after(i, title=False)
                if span and " " in text[span[0]:span[1]] and i > end:
                    return span
                return None
        elif _TH_NOT_AFTER_LABEL.match(text, i):
            return None
        th = self.thai_after(i, title=False)
        if th:
            return th
        if label in ("ถึง", "ให้", "ติดต่อ"):
            return None
        end_, words = self.words(i, lower_ok=False, lower_listed=True)
        if not words or self._not_a_name(i, end_, exact=True):
            return None
        return i, end_

    def thai_after(self, pos: int, title: bool) -> Span | None:
        """A Thai given name (glued or after a space) and its surname after one space."""
        text = self.text
        if title and text[pos:pos + 1] == " ":
            pos += 1
        m = _TH_RUN.match(text, pos)
        if not m:
            if title:  # "คุณ Somchai", "Khun Somchai"
                end_, words = self.words(pos, lower_ok=False, lower_listed=True, max_words=3)
                if words and text[pos].isupper() and not self._not_a_name(pos, end_, exact=True):
                    return pos, end_
            return None
        if _TH_NOT_START.match(text, pos) or _not_thai_name(text, pos):
            return None
        run_end = m.end()
        cut = _TH_END.search(text, pos + 2, run_end)
        given_end = cut.start() if cut else run_end
        if not 2 <= given_end - pos <= 14:
            return None
        end = given_end
        if not cut and text[end:end + 1] == " ":
            s = _TH_RUN.match(text, end + 1)
            if s and not _TH_NOT_SURNAME.match(text, end + 1) and not _TH_TITLE_AT.match(text, end + 1):
                scut = _TH_END.search(text, end + 3, s.end())
                s_end = scut.start() if scut else s.end()
                if 2 <= s_end - end - 1 <= 16:
                    end = s_end
        return pos, end

    def before_phone(self, pos: int) -> Span | None:
        """Capitalised name words (two or more, or one in brackets or after a form of address)
        or a Thai name right before a phone number: "(Olivia Reyes, 0375 013 876)",
        "- Duong Tam - 0596-383-486", "ชัยวัฒน์ 089-847-2640"."""
        text = self.text
        lo = max(0, pos - 48)
        # what ends right before the number, past spaces and one separator: a Latin or a
        # Thai letter, or there is no name
        j = pos
        while j > lo and text[j - 1] in " \t":
            j -= 1
        if j > lo and text[j - 1] in ",|:(-–":
            j -= 1
            while j > lo and text[j - 1] in " \t":
                j -= 1
        if j == lo:
            return None
        if _is_latin(text[j - 1]):
            return self._latin_before_phone(lo, j)
        if not "\u0e01" <= text[j - 1] <= "\u0e4e":
            return None
        # the name ends at j (the letter before it is Thai, what follows up to the number is
        # spaces and one separator): no match starts before its longest length
        m = _TH_BEFORE_PHONE.search(text, max(lo, j - _TH_BEFORE_PHONE_LONGEST), pos)
        if m:
            start = m.start("name")
            if start and "\u0e01" <= text[start - 1] <= "\u0e4e" or _TH_NOT_BEFORE_PHONE.match(text, start):
                return None
            span = self.thai_after(start, title=False)
            if span and span[1] == m.end("name"):
                return span
        return None

    def _latin_before_phone(self, lo: int, j: int) -> Span | None:
        """The Latin part of before_phone: up to four words separated by spaces or tabs
        ending at `j` (not before `lo`), read backwards; the capitalised ones at the end are
        the name."""
        text = self.text
        found: list[tuple[int, int]] = []  # (start, end) of each word, last first
        e = j
        while len(found) < 4:
            s = e
            while s > lo and _is_latin(text[s - 1]):
                s -= 1
            found.append((s, e))
            if not text[s].isupper():
                break  # the name is the capitalised words at the end: none before this one counts
            q = s
            while q > lo and text[q - 1] in " \t":
                q -= 1
            if q == s or q == lo or not _is_latin(text[q - 1]):
                break
            e = q
        found.reverse()
        k = len(found)
        while k and text[found[k - 1][0]].isupper():
            k -= 1
        caps = found[k:]
        if not caps:
            return None
        start = caps[0][0]
        # "(Nattapon Boonma, 0523 ...)": the bracket and the number vouch for the name even in
        # a line whose words are mostly capitalised (an address line)
        bracket = text[max(0, start - 1):start] == "(" or (
            k and self._honorific(text[found[k - 1][0]:found[k - 1][1]].lower()))
        end, words = self.words(start, lower_ok=False, lower_listed=False, max_words=4, vouched=bracket)
        if end != caps[-1][1]:
            return None
        if len(words) < 2 and not (bracket and words and not words[0] in _STOP_LOWER):
            return None
        if any(w.isupper() and len(w) <= 4 and not self._known(w.lower()) for w in (text[a:b] for a, b in caps)):
            return None  # "STK MB", "SĐT", "VCB": abbreviations
        if self._not_a_name(start, end, exact=False) or _is_place(words) or self._place_before(start):
            return None
        return start, end

    def in_brackets(self, pos: int) -> Span | None:
        """A name in brackets right after a phone number: "(Hà Tâm)", "(bác Công Duy)",
        "(a cường)"; with no form of address the first word must be a known name
        ("(Viettel)" stays)."""
        text = self.text
        sp = _SPACES.match(text, pos)
        i = sp.end() if sp else pos
        hon = _WORD.match(self.lower, i)
        honorific = hon is not None and self._honorific(hon.group()) and _SPACES.match(text, hon.end()) is not None
        if honorific:
            i = _SPACES.match(text, hon.end()).end()
        end, words = self.words(i, lower_ok=honorific, lower_listed=True, max_words=4, vouched=True)
        if not words or not _CLOSING.match(text, end):
            return None
        if not honorific and not (text[i].isupper() and self._known(words[0])):
            return None
        if self._not_a_name(i, end, exact=False) or _is_place(words):
            return None
        return i, end

    def holder(self, pos: int) -> Span | None:
        """An account holder after the bank's name: "- VietinBank - DO ANH", "- vcb - vuong
        linh": a family name first, or two capitalised words."""
        text = self.text
        end, words = self.words(pos, lower_ok=False, lower_listed=True, max_words=4, vouched=True)
        if len(words) < 2 or not (self._family(words[0]) or (text[pos].isupper() and self._known(words[0]))):
            return None  # "- Vietcombank - Sở Giao Dịch" stays
        if not _BRANCH_WORDS.isdisjoint(words):
            return None  # "- Vietcombank - Chi Nhánh Hà Nội"
        if self._not_a_name(pos, end, exact=False) or _is_place(words) or _place_after(text, end):
            return None  # "- Techcombank - Hoàn Kiếm branch"
        return pos, end

    def thai_line_head(self) -> Span | None:
        """A Thai name opening the text, then an address or a phone: "ปัณณวัฒน์ 61/126 ซอย..."."""
        text = self.text
        if _TH_NOT_BEFORE_PHONE.match(text, 0) or _TH_TITLE_AT.match(text, 0):
            return None
        span = self.thai_after(0, title=False)
        if span and _TH_HEAD_TAIL.match(text, span[1]):
            return span
        return None

    def line_head(self, start: int) -> Span | None:
        """"Sarah Lim, 199 Điện Biên Phủ ...": a known first or family name and one or two
        more capitalised words opening a line, then a comma and an address or a number."""
        text = self.text
        if not text[start].isupper():
            return None
        end, words = self.words(start, lower_ok=False, lower_listed=False, max_words=4, vouched=True)
        if len(words) < 2:
            return None
        known = words[0] in _EN_FIRST or self._family(words[0]) or self._given(words[0])
        if not (_HEAD_TAIL.match(text, end) if known else _HEAD_ADDRESS.match(text, end)):
            return None
        if self._not_a_name(start, end, exact=False) or _is_place(words):
            return None
        return start, end


_INTRODUCTIONS = frozenset({"this is", "i'm", "i am", "it's"})
# who introduces itself "from" somewhere without being a person: "this is Shopee from ..."
_PLATFORMS = frozenset({"shopee", "lazada", "tiktok", "tiki", "sendo", "grab", "gojek", "zalo", "line", "facebook",
                        "google", "apple", "samsung", "spx", "ghn", "ghtk", "kerry", "flash", "ninja", "customer",
                        "support", "team", "admin", "shop", "store"})
# a bank's branch after its name, not its account holder: "- Vietcombank - Chi nhánh Hà Nội"
_BRANCH_WORDS = frozenset({"nhánh", "nhanh", "cn", "pgd", "branch", "sở"})
_FROM_AFTER = re.compile(r"[ \t]+from[ \t]")
_ASCII_MARKERS = frozenset({"duong", "pho", "quan", "phuong", "hem", "ngo"})  # đường, phố, quận, ... typed bare
_SENTENCE_END = re.compile(r"[ \t]*(?:[,.;!?)]|$)")
_LATIN_NEXT_KINDS = frozenset({"hon", "short", "family", "trigger", "en_title"})
_TWO_CAPITALS = re.compile(r"[A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8][^\W\d_]*[ \t]+[A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8]")
_CAPITALISED_BEFORE = re.compile(rf"[A-Z\u00c0-\u00de\u0100-\u024f\u1e00-\u1eff][{_LATIN}]*[ \t]$")
_NEXT_WORD = re.compile(rf"[ \t]+([{_LATIN}]+)")


def _is_latin(c: str) -> bool:
    """A letter of _LATIN (Latin letters with their accents)."""
    return "a" <= c <= "z" or "A" <= c <= "Z" or "\u00c0" <= c <= "\u024f" or "\u1e00" <= c <= "\u1eff"


def _place_after(text: str, end: int) -> bool:
    """A place word right after the name: "Ha Long Bay", "Marina Bay Sands branch"."""
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).lower() in _PLACE_SUFFIX


# after a name opening a line: a house number and a capitalised street, a flat, or a phone
_HEAD_ADDRESS = re.compile(
    r"[ \t]?[,|\-–][ \t]?(?:[0-9]{1,4}(?:/[0-9]{1,4})*[A-Za-z]?[ \t]+[A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8\u0e01-\u0e2e]"
    r"|(?:flat|apt|unit|room|số|so|tòa|căn hộ|phòng|บ้านเลขที่|ห้อง|no\.)[ \t]|\+?\(?[0-9][0-9 .\-()]{7,})",
    re.IGNORECASE)
# possessive: a shorter given name or surname would leave a Thai letter where a space or the
# end must follow, so giving letters back can never match (and searching costs no backtracking)
_TH_BEFORE_PHONE = re.compile(
    r"(?P<name>[\u0e01-\u0e4e]{2,14}+(?: [\u0e01-\u0e4e]{2,16}+)?)[ \t]*+(?:[,|:]|[-–])?[ \t]*$")
_TH_BEFORE_PHONE_LONGEST = 14 + 1 + 16  # the longest name it matches
_TH_NOT_BEFORE_PHONE = re.compile(_trie_pattern(L.TH_NOT_SURNAMES + L.TH_NOT_NAME_STARTS + (
    "สวัสดี", "ราคา", "ติดต่อ", "เลข", "บัญชี", "ธนาคาร", "พร้อมเพย์", "ไลน์", "แอด", "ร้าน", "สาขา", "มือถือ",
    "สอบถาม", "ใหม่", "เก่า", "สำนักงาน", "ออฟฟิศ", "ฝ่าย", "แฟกซ์", "ต่อ", "หมายเลข", "กด", "เบอร์", "ผู้รับ",
    "ชื่อ", "นาม", "ใน", "ส่ง", "หรือ", "และ", "กสิกร", "กรุง", "ไทย", "ออม", "ทหาร", "ยูโอบี", "ซีไอเอ็มบี")))
_CLOSING = re.compile(r"[ \t]*\)")
_BANKS = tuple(b for b in BANK_NAMES if b.isascii())
_BANK_FIRSTS = frozenset(b.split()[0] for b in _BANKS)
_AFTER_BANK = re.compile(rf"(?<![a-z])(?:{_trie_pattern(_BANKS)})[ \t]*\)?[ \t]*[-–|][ \t]*(?=[{_LATIN}])")
_TH_HEAD_TAIL = re.compile(r" (?:[0-9]|บ้านเลขที่|เลขที่|ห้อง|คอนโด|หมู่บ้าน|อาคาร|\+)")
_HEAD_TAIL = re.compile(r"\s?[,(\-–|]\s?[^\n]{0,25}?[0-9]")
_ASCII_NOT_NAME_PAIRS = frozenset({"van phong", "van chuyen", "van don", "thi truong", "thi xa", "thi tran",
                                   "minh chung", "van hoa", "van ban", "thanh toan", "thanh pho", "thanh cong",
                                   "ngoc trai", "kim loai", "kim cuong", "quoc te", "quoc gia", "cong ty",
                                   "gia dinh", "gia re", "gia tot", "anh sang", "bao hanh", "bao ve", "duc lo",
                                   "huu co", "hong ngoai", "thu cong", "xuan he", "hai san", "thanh ly"})
_TRIGGER_BEFORE = re.compile(
    r"(?:" + _trie_pattern(_VI_TRIGGERS + _VI_LABELS + _EN_TRIGGERS + _EN_LABELS) + r")[ \t]*[:：\-–]?[ \t]*$")
_TIENG_BEFORE = re.compile(r"(?:tiếng|tieng|nước|nuoc|người|nguoi|hoa|bằng|bang|cá|ca|quả|qua)[ \t]+$")
_VI_WORD = re.compile(r"[\u00e0-\u1ef9]")


def _trigger_before(lower: str, start: int) -> bool:
    """A context word (delivery verb or label) right before `start`."""
    return _TRIGGER_BEFORE.search(lower, max(0, start - 24), start) is not None


def _tieng_before(lower: str, start: int) -> bool:
    return _TIENG_BEFORE.search(lower, max(0, start - 8), start) is not None


def _vi_word_near(lower: str, start: int) -> bool:
    return _VI_WORD.search(lower, max(0, start - 20), start + 20) is not None


_PLACES = frozenset(fold(p) for p in (
    "hà nội", "sài gòn", "đà nẵng", "hải phòng", "cần thơ", "huế", "nha trang", "đà lạt", "vũng tàu", "hội an",
    "london", "bangkok", "singapore", "new york", "paris", "tokyo", "hanoi", "saigon", "phuket", "pattaya",
    "chiang mai", "hong kong", "kuala lumpur", "manila", "jakarta", "seoul", "sydney", "vietnam", "viet nam",
    "thailand", "việt nam", "thái lan", "england", "uk", "usa", "america", "australia", "japan", "korea", "china",
) + VI_PLACES + EN_PLACES)  # the provinces and cities an address ends with: "(Bình Dương)" after a hotline


def _is_place(words: list[str]) -> bool:
    joined = fold(" ".join(words))
    return joined in _PLACES or fold(words[0]) in _PLACES


def _not_thai_name(text: str, pos: int) -> bool:
    for name in L.TH_NOT_NAMES:
        if text.startswith(name, pos):
            return True
    return False
