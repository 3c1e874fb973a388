"""Street addresses in free text, in Thai, Vietnamese (with and without accents) and
English: "141/14 ถนนสุขุมวิท ตำบลบ้านสวน อำเภอเมืองชลบุรี จังหวัดชลบุรี 20000",
"Số 147 ngõ 114 Hai Bà Trưng, P. Bến Nghé, Q.1, TP.HCM", "12 Main Street, Ward 3, District 1".

The rule, for precision ("size 41/42", "pack of 3 bottles", "model 2024 road bike" stay):
an address is a house number (141/14, 12A, số 5, No. 7, เลขที่ 99) followed, within a short
gap, by a chain of address markers, where
  * at least one marker is street level (road, lane, soi, moo, ward, sub-district) or the
    number is followed by a named street ("435 Nguyễn Trãi, ..."), and
  * there is a second marker of any level (district, province, a province's name) or a
    postal code (5 digits, or 6 in Vietnam) right after the chain.
A marker written before its name ("ถนน", "Phường", "Soi") must be followed by a name (Thai
letters, a capitalised word or a short number); one written after it ("Road", "District")
must follow a capitalised name, so "ít đường, giao ..." (less sugar) and "2 road bikes" are
not streets. Gaps between markers hold names and separators only: no sentence break, no
bracket, no number of 4 digits or more, so a phone number next to an address stays the
phone detector's. The span runs from the house number (with its label) to the end of the
last marker's name, or to the postal code.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator

from .base import Detector, ScanText, Span
from .context import WordSet, _trie_pattern, with_first_letters
from .phone import PhoneDetector

# ---------------------------------------------------------------------------------------
# Marker words. Vietnamese words also match without accents, except where the bare form is
# a common word in its own right (listed in _NO_ASCII).

TH_STREET = ("ถนน", "ถ.", "ซอย", "ซ.", "หมู่ที่", "หมู่บ้าน", "หมู่", "ม.", "ตำบล", "ต.", "แขวง")
TH_AREA = ("อำเภอ", "อ.", "เขต", "จังหวัด", "จ.")
VI_STREET = ("đường", "phố", "ngõ", "ngách", "hẻm", "kiệt", "phường", "p.", "xã", "thị trấn", "khu phố", "kp.",
             "thôn", "ấp", "tổ")
VI_AREA = ("quận", "q.", "huyện", "thị xã", "thành phố", "tp.", "tp", "tỉnh")
EN_STREET_BEFORE = ("soi", "moo", "ward", "tambon", "khwaeng")        # written before the name or number
EN_AREA_BEFORE = ("district", "amphoe", "khet", "province")
EN_STREET_AFTER = ("street", "st", "st.", "road", "rd", "rd.", "avenue", "ave", "ave.", "lane", "alley", "ward",
                   "subdistrict", "sub-district", "soi")           # written after the name
EN_AREA_AFTER = ("district", "province", "city")
_NO_ASCII = frozenset({"to", "ap", "thon"})

# Places that end an address on their own (no marker word before them).
VI_PLACES = ("hà nội", "hồ chí minh", "tp.hcm", "tphcm", "hcm", "sài gòn", "đà nẵng", "hải phòng", "cần thơ",
             "bình dương", "đồng nai", "khánh hòa", "nha trang", "bà rịa - vũng tàu", "vũng tàu", "long an",
             "bắc ninh", "hưng yên", "hải dương", "quảng ninh", "thanh hóa", "nghệ an", "huế", "thừa thiên huế",
             "quảng nam", "lâm đồng", "đà lạt", "đắk lắk", "gia lai", "an giang", "kiên giang", "tiền giang",
             "bến tre", "vĩnh long", "đồng tháp", "cà mau", "bạc liêu", "sóc trăng", "thái nguyên",
             "vĩnh phúc", "nam định", "ninh bình", "thái bình", "bình định", "quảng ngãi", "tây ninh",
             "bình phước", "bình thuận", "phú yên", "hà tĩnh", "quảng bình", "lào cai", "bắc giang")
TH_PLACES = ("กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "กทม.", "กระบี่", "กาญจนบุรี", "กาฬสินธุ์", "กำแพงเพชร",
             "ขอนแก่น", "จันทบุรี", "ฉะเชิงเทรา", "ชลบุรี", "ชัยนาท", "ชัยภูมิ", "ชุมพร", "เชียงราย", "เชียงใหม่",
             "นครนายก", "นครปฐม", "นครพนม", "นครราชสีมา", "นครศรีธรรมราช", "นครสวรรค์", "นนทบุรี", "นราธิวาส",
             "บึงกาฬ", "บุรีรัมย์", "ปทุมธานี", "ประจวบคีรีขันธ์", "ปราจีนบุรี", "ปัตตานี", "พระนครศรีอยุธยา",
             "อยุธยา", "พังงา", "พัทลุง", "พิจิตร", "พิษณุโลก", "เพชรบุรี", "เพชรบูรณ์", "ภูเก็ต", "มหาสารคาม",
             "มุกดาหาร", "แม่ฮ่องสอน", "ยโสธร", "ร้อยเอ็ด", "ระนอง", "ระยอง", "ราชบุรี", "ลพบุรี", "ลำปาง",
             "ลำพูน", "ศรีสะเกษ", "สกลนคร", "สงขลา", "สมุทรปราการ", "สมุทรสงคราม", "สมุทรสาคร", "สระแก้ว",
             "สระบุรี", "สิงห์บุรี", "สุโขทัย", "สุพรรณบุรี", "สุราษฎร์ธานี", "สุรินทร์", "หนองคาย", "หนองบัวลำภู",
             "อ่างทอง", "อำนาจเจริญ", "อุดรธานี", "อุตรดิตถ์", "อุทัยธานี", "อุบลราชธานี")
EN_PLACES = ("bangkok", "chiang mai", "phuket", "pattaya", "chonburi", "nonthaburi", "hanoi", "ho chi minh city",
             "hcmc", "saigon", "da nang", "danang")

HOUSE_LABELS = r"(?:số nhà|so nha|số|so|no\.?|#|บ้านเลขที่|เลขที่)\s?"
# words before a number that make it something else than a house number
NOT_HOUSE_BEFORE = ("model", "size", "sz", "cỡ", "pack of", "set of", "pack", "version", "ver", "year", "năm",
                    "nam", "ngày", "ngay", "date", "exp", "hsd", "qty", "x", "รุ่น", "ไซส์", "ขนาด", "ปี", "วันที่",
                    "จำนวน", "แพ็ค")


def _ascii(word: str) -> str:
    stripped = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in stripped if not unicodedata.combining(c))


def _vi(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(words + tuple(_ascii(w) for w in words if _ascii(w) not in _NO_ASCII)))


def _alternation(words) -> str:
    """Longest first, so "thành phố" wins over "phố"; a space matches any run of spaces;
    Latin words do not match inside longer Latin words."""
    out = []
    for w in sorted(set(words), key=len, reverse=True):
        body = r"\s+".join(re.escape(part) for part in w.split(" "))
        if _is_latin(w[0]):
            body = _NOT_AFTER_LATIN + body
        if _is_latin(w[-1]):
            body += _NOT_BEFORE_LATIN
        out.append(body)
    # a lookahead on the first letters first: `re` then skips most positions with one test
    # instead of trying every alternative's lookbehind there (five times faster on _AFTER)
    firsts = "".join(sorted({re.escape(w[0]) for w in words}))
    return f"(?=[{firsts}])(?:" + "|".join(out) + ")"


_LATIN = "a-z\u00c0-\u024f\u1e00-\u1eff"
_NOT_AFTER_LATIN = rf"(?<![{_LATIN}])"
_NOT_BEFORE_LATIN = rf"(?![{_LATIN}])"


def _is_latin(ch: str) -> bool:
    return bool(re.match(rf"[{_LATIN}]", ch))


# One trie-shaped regular expression for every marker (a long alternation is far slower),
# and what each marker is, looked up by the matched words.
_MARKER_LEVEL: dict[str, str] = {}
_MARKER_WORDS: list[str] = []
for _words, _level in ((TH_STREET + _vi(VI_STREET) + EN_STREET_BEFORE, "street_before"),
                       (TH_AREA + _vi(VI_AREA) + EN_AREA_BEFORE, "area_before"),
                       (TH_PLACES + _vi(VI_PLACES) + EN_PLACES, "place")):
    for _word in _words:
        _MARKER_LEVEL.setdefault("".join(_word.split()), _level)
        _MARKER_WORDS.append(_word)
# one expression for both uses: the lookahead on first letters changes no match and makes a
# search of a whole text faster
_MARKER = _ANY_MARKER = re.compile(with_first_letters(_MARKER_WORDS))
_MARKER_WORDSET = WordSet(_MARKER_WORDS)  # faster still to rule out


def _level(m: re.Match) -> str:
    return _MARKER_LEVEL["".join(m.group().split())]


_AFTER = re.compile(  # the first letters of both groups in front, as in _alternation
    "(?=[" + "".join(sorted({re.escape(w[0]) for w in EN_STREET_AFTER + EN_AREA_AFTER})) + "])"
    "(?:(?P<street_after>" + _alternation(EN_STREET_AFTER) + ")|(?P<area_after>" + _alternation(EN_AREA_AFTER) + "))")

# the lookahead holds the first letters of a label or a number: `re` tests one set at each
# position instead of the lookbehind and every label
_HOUSE_BODY = (rf"(?<![0-9{_LATIN}/.,:\-])(?:(?P<label>{HOUSE_LABELS}))?"
               r"(?P<number>(?:k(?=[0-9]{1,4}/))?[0-9]{1,4}(?:/[0-9]{1,4}){0,2}(?:-[0-9]{1,3})?)(?P<letter>[a-z])?"
               rf"(?![0-9/{_LATIN}]|[.,:][0-9])")
_HOUSE = re.compile(rf"(?=[0-9sn#kบเ]){_HOUSE_BODY}")
# the same where the text has no Thai label ("เลขที่", also in "บ้านเลขที่"): no match can open
# on บ or เ there, and Thai text is full of เ
_TH_HOUSE_LABEL = "เลขที่"
_HOUSE_NO_THAI_LABEL = re.compile(rf"(?=[0-9sn#k]){_HOUSE_BODY}")
_NOT_HOUSE = re.compile(r"(?:" + _alternation(NOT_HOUSE_BEFORE) + r")[\s:.]*$")
_POSTAL = re.compile(r"[\s,]{0,3}(?:(?:mã bưu chính|ma buu chinh|postcode|postal code|zip|รหัสไปรษณีย์)[\s:]*)?"
                     r"(?P<code>[1-9][0-9]{4,5})(?![0-9]|[\s.\-][0-9])")
_BREAK = re.compile(r"[.;:!?()\[\]|\n\"]|[0-9]{4}| - ")  # what a gap between markers may not hold
_THAI = re.compile(r"[\u0e01-\u0e4f]+")
_WORD = re.compile(rf"[{_LATIN}A-Z][{_LATIN}A-Z'\-]*|[0-9]{{1,3}}(?:/[0-9]{{1,3}})?[A-Z]?(?![0-9])")

_PHONE = PhoneDetector()
_THAI_NAME_NUMBER = re.compile(r" ?[0-9]{1,3}(?:/[0-9]{1,3})?(?![0-9]|[.:][0-9])")  # not an IP address or a time
_NUMBER_THEN_WORD = re.compile(r"[0-9][a-z]?[ \t]+[^\W\d_]")
# prefilter of the addresses without a marker word: a number, then a capitalised word or,
# in a text typed in lower case, any word ("12 Lý Thường Kiệt", "45 nguyen trai")
_NUMBER_THEN_NAME = re.compile(r"[0-9][A-Za-z]?[ \t]+[A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8]")
FIRST_GAP = 25     # characters from the house number to its first marker
GAP = 35           # characters between two markers
MAX_NAME_WORDS = 5


class StreetAddressDetector(Detector):
    kind = "ADDRESS"
    priority = 55  # below the ids, bank and chat ids; above phone, whose numbers an address never spans

    def applies(self, t: ScanText) -> bool:
        if not t.has_digit:
            return False
        lower = t.lower
        return (_NUMBER_THEN_NAME.search(t.text) is not None or _has_marker(t) or _has_unit(t)
                or (t.text == lower and _NUMBER_THEN_WORD.search(lower) is not None)
                or not _STREET_SUFFIX_WORDS.isdisjoint(t.words))  # "179 baker street"

    def find(self, t: ScanText) -> Iterator[Span]:
        lower, text = t.lower, t.text
        lowercase_only = text == lower  # a chat typed in lower case: names are not capitalised
        has_marker = _has_marker(t)  # else only a named street can follow a number
        taken = -1
        for h in (_HOUSE if _TH_HOUSE_LABEL in lower else _HOUSE_NO_THAI_LABEL).finditer(lower):
            if h.start() < taken:
                continue
            if not has_marker and (text[h.end():h.end() + 1] not in (" ", "\t")
                                   or _STREET_WORD.match(text, h.end() + 1) is None):
                continue  # without a marker only a named street can follow: none does
            small_letter = bool(h.group("letter")) and not text[h.start("letter")].isupper() and not lowercase_only
            if small_letter and _LOWER_STREET.match(text, h.end()) is None:
                continue  # "12A" is a house, "2h" and "150k" are not; "150b silom road" is
            if h.group("letter") and lower[h.start("letter"):h.start("letter") + 1] in "kh" and lowercase_only:
                continue
            if not h.group("label") and _NOT_HOUSE.search(lower, max(0, h.start() - 12), h.start()):
                continue
            strong = _Strong(lower, h.start(), bool(h.group("label") or "/" in h.group("number")
                                                    or h.group("letter")))
            end = _address_end(text, lower, h.end(), lowercase_only, strong) if has_marker else -1
            if end < 0:
                end = _street_after_number(text, lower, h.end(), lowercase_only, strong)
            if end < 0:
                street = _LOWER_STREET.match(text, h.end())  # "179 baker street", "228 orchard road"
                if street is None or lower[street.start("name"):street.end("name")].split()[0] in _NOT_STREET_WORDS:
                    continue
                end = street.end()
            end = _with_postcode(text, _DISTRICT_DIGITS.match(text, end).end())
            start = _unit_before(text, lower, h.start())
            lane = _LANE_BEFORE.search(lower, max(0, start - 8), start) if start else None
            if lane:
                start = lane.start()  # "hẻm 394 Trần Hưng Đạo": the lane's number led to the street
            if t.longest_run >= _PHONE.min_digits and any(
                    r.start < h.end() and start < r.end and r.digit_count >= _PHONE.min_digits for r in t.runs):
                # "053-675-402 41/32 ซอย...": the phone number may take the head of the house
                # number; the address starts after it, so the two never overlap
                start = max([start] + [e for s, e in _PHONE.find(t) if s < h.end() and start < e])
            if start < h.end():
                taken = end
                yield start, end
        if _has_unit(t):
            yield from _unit_addresses(text, lower, lowercase_only)
        for m in _LANE.finditer(lower) if has_marker else ():  # "hẻm 34", "ngõ 52 Thái Hà", no house number
            if _ADDRESS_CONTEXT.search(lower, max(0, m.start() - 30), m.start()):
                yield m.start(), _chain(text, lower, _lane_street(text, lower, m.end(), lowercase_only), lowercase_only)


def _has_marker(t: ScanText) -> bool:
    return t.memo("address_marker", lambda: _decided(_MARKER_WORDSET.decide(t), _ANY_MARKER, t))


def _has_unit(t: ScanText) -> bool:
    return t.memo("address_unit", lambda: _decided(_UNIT_WORDSET.decide(t), _UNIT_HINT, t))


def _decided(decision: bool | None, expression: re.Pattern, t: ScanText) -> bool:
    """A word set's answer, or on a maybe the search of its expression (which finds every word
    the set's sure answers rest on)."""
    return expression.search(t.lower) is not None if decision is None else decision


class _Strong:
    """A strong house number: a label, a slash or a letter, or a delivery word before it (looked
    for only when asked)."""

    __slots__ = ("lower", "start", "value")

    def __init__(self, lower: str, start: int, fixed: bool):
        self.lower, self.start, self.value = lower, start, True if fixed else None

    def __bool__(self) -> bool:
        if self.value is None:
            self.value = _ADDRESS_CONTEXT.search(self.lower, max(0, self.start - 30), self.start) is not None
        return self.value


def _address_end(text: str, lower: str, pos: int, lowercase_only: bool, strong: bool = False) -> int:
    """Where the address after a house number ending at `pos` ends, or -1. One street-level
    marker is enough right after the number ("123 หมู่ 5", "99/1 ซอยสุขุมวิท 21") or after a
    strong one (a label, a slash, a letter, a delivery word before it)."""
    markers, street, first = 0, False, True
    adjacent = _ADJACENT_STREET.match(lower, pos) is not None
    named = _named_street(text, lower, pos, lowercase_only)
    if named > 0:
        markers, street, first, pos = 1, True, False, named
    while True:
        step = _next_marker(text, lower, pos, FIRST_GAP if first else GAP, lowercase_only)
        if step is None:
            break
        pos, level = step
        markers += 1
        street = street or level == "street"
        first = False
    if not street:
        return -1
    postal = _POSTAL.match(lower, pos)
    if postal:
        return postal.end()
    return pos if markers >= 2 or strong or adjacent else -1


def _next_marker(text: str, lower: str, pos: int, gap: int, lowercase_only: bool) -> tuple[int, str] | None:
    """The end of the next marker and its name within `gap` characters of `pos`, and the
    marker's level ("street" or "area"), or None."""
    limit = min(len(lower), pos + gap)
    cut = _BREAK.search(lower, pos, limit)
    if cut:
        limit = cut.start()
    best: tuple[int, int, str] | None = None  # (start, end, level) of the earliest marker with its name
    m = _MARKER.search(lower, pos, limit + 20)
    while m and m.start() <= limit:
        kind = _level(m)
        if kind == "place":
            end = m.end()
            after = _AFTER.match(lower, end + 1) if lower[end:end + 1] == " " else None
            best = (m.start(), after.end() if after else end, "area")  # "Bangkok Province"
            break
        # a marker typed in lower case ("phuong ben nghe") is followed by a name in lower case
        name_end = _name_end(text, lower, m.end(), lowercase_only or text[m.start()].islower(),
                             lane=m.group() in _LANE_MARKERS)
        if name_end > 0:
            best = (m.start(), name_end, "street" if kind == "street_before" else "area")
            break
        m = _MARKER.search(lower, m.end(), limit + 20)
    # a marker written after its name: "99 Sukhumvit Road", "Bang Rak District"
    for a in _AFTER.finditer(lower, pos, limit + 12):
        if a.start() > limit or (best and a.start() >= best[0]):
            break
        if _has_name(text, pos, a.start(), lowercase_only):
            best = (a.start(), a.end(), "street" if a.lastgroup == "street_after" else "area")
            break
    return (best[1], best[2]) if best else None


def _name_end(text: str, lower: str, pos: int, lowercase_only: bool, lane: bool = False) -> int:
    """The end of the name written after a marker ("ถนนสุขุมวิท", "Phường Bến Nghé",
    "ngõ 114", "Soi 11", "TP. Hồ Chí Minh"), or -1 when no name follows."""
    i = pos
    while i < len(text) and i - pos < 2 and text[i] in " .:":
        i += 1
    th = _THAI.match(text, i)
    if th:
        end = th.end()
        inner = _MARKER.search(lower, i + 1, end)  # Thai runs words together: "ถนนสุขุมวิทตำบลบ้านสวน"
        if inner and _level(inner) != "place":
            return inner.start()
        num = _THAI_NAME_NUMBER.match(text[end:end + 9])
        return end + num.end() if num else end
    end, words = -1, 0
    for w in _WORD.finditer(text, i):
        if w.start() != i or words >= MAX_NAME_WORDS:
            break
        word = w.group()
        if not (word[0].isdigit() or word[0].isupper() or (lowercase_only and words < 3)):
            break
        end, words = w.end(), words + 1
        if word[0].isdigit():
            if lane:  # "ngõ 52 Thái Hà", "hem 162 nguyen trai": the street the lane opens on
                end = _lane_street(text, lower, end, lowercase_only)
            break  # "Quận 1", "Soi 11": a number ends the name
        i = end + 1 if text[end:end + 1] == " " else end
        if i == end:
            break
    return end


_LANE_MARKERS = frozenset({"ngõ", "ngo", "ngách", "ngach", "hẻm", "hem", "kiệt", "kiet", "soi", "ซอย", "ซ."})


def _lane_street(text: str, lower: str, pos: int, lowercase_only: bool, max_words: int = MAX_NAME_WORDS - 1) -> int:
    """The street after a lane's number ("ngõ 52 Thái Hà", "hẻm 30 Nguyễn Văn Linh", "hem 162
    nguyen trai"): capitalised words, or lower-case ones in a text typed in lower case or when
    the first is a family name or a known street; `pos` when none follows."""
    if text[pos:pos + 1] != " ":
        return pos
    lower_ok = lowercase_only or _STREET_HEADS.match(lower, pos + 1) is not None
    end, i = pos, pos
    for _ in range(max_words):
        w = _STREET_WORD.match(text, i + 1) if text[i:i + 1] == " " else None
        if not w:
            break
        word, lw = w.group(), lower[w.start():w.end()]
        if not (word[0].isupper() or lower_ok) or (lw in _NOT_STREET_WORDS and not word[0].isupper()
                                                    and not (end > pos and lw in _INSIDE_STREET_NAMES)):
            break
        if (_MARKER.match(lower, w.start()) and not (lw in _KIET and end > pos)) or _AFTER.match(lower, w.start()):
            break  # "Lý Thường Kiệt" is a street, "kiệt 12" a lane
        end = i = w.end()
    return end


_KIET = frozenset({"kiệt", "kiet"})


def _named_street(text: str, lower: str, pos: int, lowercase_only: bool) -> int:
    """"435 Nguyễn Trãi, ...": two or more capitalised words and a comma right after the
    house number, not opening with a marker word; the end of the name, or -1."""
    if text[pos:pos + 1] != " " or lowercase_only:
        return -1
    end = _name_end(text, lower, pos, False)
    if end < 0 or text[end:end + 1] != ",":
        return -1
    name = lower[pos + 1:end]
    if len(name.split()) < 2 or _MARKER.match(name) or _AFTER.match(name):  # "2024 Road Bike, ..."
        return -1
    return end


def _has_name(text: str, start: int, end: int, lowercase_only: bool) -> bool:
    """A capitalised word right before a marker written after its name."""
    words = text[start:end].replace(",", " ").split()
    return bool(words) and (words[-1][0].isupper() or lowercase_only) and not words[-1][0].isdigit()


# ---------------------------------------------------------------------------------------
# Shorter addresses: a house number and a named street with no marker word ("12 Lý Thường
# Kiệt", "45 nguyen trai q1", "221B Baker Street"), flats and buildings ("Flat 3, 12 Orchard
# Road", "Căn hộ B5-29152, chung cư ...", "Tòa A2 phòng 1203", "ห้อง 45/12 คอนโด..."), lanes
# after a delivery word ("giao vào hẻm 34"), and a UK or Singapore postcode after the town.

_ADDRESS_CONTEXT = re.compile(
    r"(?:giao|ship|gửi|gui|gởi|nhận|nhan|ở|(?<![a-z])o|tại|tai|tới|toi|đến|den|vào|vao|về|ve|địa chỉ|dia chi|đ/c|"
    r"(?<![a-z])đc|(?<![a-z])dc|deliver|delivery|send|address|addr|located|live|lives|living|at|to|ที่อยู่|ส่ง|"
    r"บ้าน|อยู่|ย้าย|จัดส่ง|nhà|nha)[\s:.,]{0,3}(?:[^\s]+\s){0,2}$")
_ADJACENT_STREET = re.compile(
    r"\s?(?:ngõ|ngo|ngách|ngach|hẻm|hem|kiệt|ซอย|ซ\.|ถนน|ถ\.|หมู่ที่|หมู่|ม\.|soi|moo|đường|duong|phố)")
_STREET_SUFFIX = re.compile(
    r"[ \t]+(?:street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|boulevard|blvd\.?|drive|dr\.?|way|close|"
    r"crescent|terrace|place|pl\.?|court|ct\.?|quay|row|highway|hwy|soi [0-9]{1,3})(?![a-z])", re.IGNORECASE)
# name words in any case, then an English street word: "179 baker street", "150b silom road"
_LOWER_STREET = re.compile(r"[a-z]?[ \t]+(?P<name>[a-z][a-z'\-]*(?:[ \t][a-z][a-z'\-]*){0,3})[ \t]+"
                           r"(?:street|st|road|rd|avenue|ave|lane|boulevard|blvd|drive|highway|hwy)(?![a-z])",
                           re.IGNORECASE)
_LANE_BEFORE = re.compile(r"(?<![a-z\u00e0-\u1ef9])(?:hẻm|hem|ngõ|ngo|ngách|ngach|kiệt|kiet|soi|ซอย)[ \t]?$")
_STREET_SUFFIX_WORDS = frozenset({"street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "boulevard", "blvd",
                                   "drive", "highway", "hwy", "terrace", "crescent", "quay"})
# common words that are also inside street names: "Cách Mạng Tháng 8", "Điện Biên Phủ", "Nguyễn Thị Minh Khai"
_INSIDE_STREET_NAMES = frozenset({"tháng", "thang", "điện", "dien", "thị", "thi", "văn", "van", "long"})
_STREET_WORD = re.compile(rf"[{_LATIN}A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8][{_LATIN}A-Z\u00c0-\u00de\u0110\u1e00-\u1ef8'’\-]*")
_STREET_NUMBER = re.compile(r"[ \t]+[0-9]{1,3}(?![0-9/.,:][0-9])(?![0-9a-z])")
_NOT_STREET_WORDS = frozenset({
    "ở", "o", "nhé", "nhe", "nha", "giao", "ship", "gọi", "goi", "sđt", "sdt", "tel", "call", "trước", "truoc",
    "sau", "khi", "cho", "và", "va", "hoặc", "hoac", "shop", "em", "anh", "chị", "chi", "người", "nguoi", "nhận",
    "nhan", "phone", "before", "after", "please", "and", "or", "is", "fine", "tomorrow", "today", "to", "the", "a",
    "cái", "cai", "chiếc", "chiec", "hộp", "hop", "ly", "gói", "goi", "bộ", "bo", "đôi", "doi", "size", "màu", "mau",
    "tháng", "thang", "ngày", "ngay", "năm", "nam", "giờ", "gio", "phút", "phut", "sản", "san", "sp", "items",
    "item", "pcs", "pieces", "piece", "bottles", "bottle", "units", "unit", "x", "k", "left", "only", "days",
    "day", "hours", "hour", "minutes", "months", "month", "years", "year", "ml", "kg", "gb", "cm", "inch", "mm",
    "chai", "hũ", "tuýp", "cuốn", "quyển", "con", "cây", "đơn", "don", "lần", "lan", "người", "món", "mon",
    "pack", "packs", "set", "sets", "boxes", "box", "pairs", "pair", "of", "in", "on", "at", "for", "with", "by",
    "từ", "tu", "đến", "den", "tới", "toi", "lúc", "luc", "là", "la", "của", "cua", "thì", "thi", "mã", "ma",
    "tầng", "tang", "phòng", "phong", "số", "so", "năm", "sao", "star", "stars", "percent", "off", "sale",
    "inches", "gram", "grams", "g", "l", "lít", "lit", "mét", "met", "m", "km", "w", "v", "mah", "hz", "fps",
    "bản", "ban", "model", "version", "mẫu", "mau", "loại", "loai", "kiểu", "kieu", "khung", "bánh", "banh",
    "áo", "ao", "quần", "quan", "giày", "giay", "dép", "dep", "túi", "tui", "nón", "non", "mũ", "mu", "điện",
    "iphone", "samsung", "galaxy", "pro", "max", "plus", "ultra", "mini", "lite", "new", "hot",
    "rất", "rat", "đẹp", "dep", "tốt", "tot", "còn", "con", "hết", "het", "có", "co", "không", "khong", "ko",
    "phường", "phuong", "quận", "quan", "huyện", "huyen", "xã", "xa", "tỉnh", "tinh", "tp",
    "q", "p", "d",
})
_AREA_AFTER = re.compile(
    r"[ \t]*,?[ \t]*(?:(?:q|p|quận|quan|phường|phuong|district|ward|d)\.?[ \t]?[0-9]{1,2}(?![0-9])"
    r"|(?:tp|hn|hcm|tphcm|sg|hà nội|ha noi|sài gòn|sai gon)(?![a-z])"
    r"|(?:[A-Z][a-z]+[ \t]){0,2}?(?:[A-Z]{1,2}[0-9][A-Z0-9]?[ \t]?[0-9][A-Z]{2})(?![A-Za-z0-9]))",
    re.IGNORECASE)
_STREET_HEADS = re.compile(_trie_pattern(tuple(
    w for w in __import__("streams.detectors.name_lists", fromlist=["VI_FAMILY"]).VI_FAMILY) + tuple(
    _ascii(w) for w in __import__("streams.detectors.name_lists", fromlist=["VI_FAMILY"]).VI_FAMILY) + (
    "cách mạng", "cach mang", "điện biên", "dien bien", "hai bà", "hai ba", "bạch đằng", "bach dang", "xuân thủy",
    "xuan thuy", "kim mã", "kim ma", "tô hiến", "to hien", "hàng", "hang", "thái hà", "thai ha", "láng", "lang",
    "sukhumvit", "silom", "ratchada", "phahon", "rama", "charoen", "orchard", "nathan", "baker", "oxford",
    "high", "king's", "kings", "queen's", "church", "main", "market", "station", "park", "victoria",
    "lạc long", "lac long", "hùng vương", "hung vuong", "trường chinh", "truong chinh", "quang trung",
    "nam kỳ", "nam ky", "ba tháng hai", "ba thang hai", "võ thị sáu", "vo thi sau", "hoàng diệu", "hoang dieu")))
_UK_POSTCODE = re.compile(r"[ \t]*,?[ \t]*(?:[A-Za-z][a-z]+[ \t]){0,2}?(?:[A-Z]{1,2}[0-9][A-Z0-9]?[ \t]?[0-9][A-Z]{2}"
                          r"|[1-9][0-9]{4,5})(?![A-Za-z0-9])")


def _street_after_number(text: str, lower: str, pos: int, lowercase_only: bool, strong: bool) -> int:
    """"12 Lý Thường Kiệt", "221B Baker Street", "45 nguyen trai q1", "112 Cách Mạng Tháng 8":
    name words right after the house number, then a street word, a district after them, or a
    strong house number with a street-like name (a family name or a known street opens it)."""
    if _STREET_WORD.match(text, pos + 1) is None or text[pos:pos + 1] not in (" ", "\t"):
        return -1
    i, end, words = pos, -1, 0
    # lower case in a mixed text: only after a strong house number, and (in Vietnamese) when a
    # family name or a known street opens the name ("331/47 lý thường kiệt")
    lower_ok = lowercase_only or strong and (text.isascii() or _STREET_HEADS.match(lower, pos + 1) is not None)
    while words < MAX_NAME_WORDS:
        sp = _ONE_OR_TWO_SPACES.match(text, i)
        if not sp:
            break
        w = _STREET_WORD.match(text, sp.end())
        if not w:
            break
        word = w.group()
        lw = lower[w.start():w.end()]
        if lw in _STREET_SUFFIX_WORDS and words:
            break  # "Marina Boulevard": the suffix is matched below
        if lw in _NOT_STREET_WORDS and not (word[0].isupper() and words and lw in _INSIDE_STREET_NAMES
                                            or word[0].isupper() and _STREET_HEADS.match(lower, w.start())):
            break
        if not word[0].isupper() and not lower_ok:
            break
        marker = _MARKER.match(lower, w.start())
        if marker and _level(marker) != "place" and not (lw in _KIET and words) or _AFTER.match(lower, w.start()):
            break
        end, i, words = w.end(), w.end(), words + 1
    if words == 0:
        return -1
    num = _STREET_NUMBER.match(text, end)
    if num:
        end = num.end()  # "Cách Mạng Tháng 8", "Soi Sukhumvit 13"
    suffix = _STREET_SUFFIX.match(text, end)
    if suffix:
        end = suffix.end()
    area = _AREA_AFTER.match(text, end)
    street_like = _STREET_HEADS.match(lower, pos + 1) is not None
    if not (suffix or (area and (words >= 2 or strong)) or (street_like and (strong or words >= 2))):
        return -1
    if suffix is None and words == 1 and not (strong and (area or street_like)):
        return -1
    chained = _chain(text, lower, end, lowercase_only)
    if chained > end:
        return chained
    return area.end() if area else end


def _chain(text: str, lower: str, pos: int, lowercase_only: bool) -> int:
    """The end of the markers and names that follow `pos` ("..., Phường 7, Quận 3"), or `pos`."""
    while True:
        step = _next_marker(text, lower, pos, GAP, lowercase_only)
        if step is None:
            return pos
        pos = step[0]


def _with_postcode(text: str, end: int) -> int:
    """A postcode after the town closes the address: "..., London NW1 6XE", "Penang 10200"."""
    m = _UK_POSTCODE.match(text, end)
    return m.end() if m else end


_UNIT_WORDS = (r"flat|apt\.?|apartment|unit|room|rm\.?|suite|ste\.?|floor|fl\.?|tower|block|blk|building|bldg|"
               r"phòng|phong|tòa nhà|tòa|toà|toa|căn hộ|can ho|căn|tầng|tang|lầu|lau|block|ห้อง|ชั้น|อาคาร|ตึก")
_UNIT = re.compile(rf"(?<![{_LATIN}])(?:{_UNIT_WORDS})[ \t]?(?:số[ \t])?(?P<code>[a-z]{{0,2}}[0-9]{{1,5}}(?:[\-/.][a-z0-9]{{1,6}})?[a-z]?)"
                   r"(?![0-9a-z])")
_BUILDING = re.compile(rf"(?<![{_LATIN}])(?:chung cư|chung cu|cc|khu đô thị|kđt|kdt|tower|residence|condo|คอนโด|"
                       r"หมู่บ้าน|อาคาร)")
_UNIT_HINT = re.compile(rf"(?=[afurspbtcblhชอตคห])(?:{_UNIT_WORDS}|chung cư|chung cu|คอนโด)")
_UNIT_WORDSET = WordSet(tuple(w.replace("\\.", ".").replace("\\", "") for w in _UNIT_WORDS.split("|"))
                        + ("chung cư", "chung cu", "คอนโด"))
_UNIT_GAP = re.compile(r"[ \t]*,?[ \t]*")
_LANE = re.compile(r"(?<![a-z\u00c0-\u1ef9])(?:hẻm|hem|ngõ|kiệt|ngách|soi|ซอย)[ \t]?[0-9]{1,3}(?:/[0-9]{1,3})?(?![0-9])")


_UNIT_BEFORE = re.compile(
    rf"(?:{_UNIT_WORDS})[ \t]?[a-z]{{0,2}}[0-9]{{1,5}}(?:[\-/.][a-z0-9]{{1,6}})?[a-z]?[ \t]*,?[ \t]*$")
_ONE_OR_TWO_SPACES = re.compile(r"[ \t]{1,2}")
_DISTRICT_DIGITS = re.compile(r"(?<=[qQpP])[0-9]{1,2}(?![0-9])|")  # "... Q1": the district's number


def _unit_before(text: str, lower: str, start: int) -> int:
    """"Flat 3, 12 Orchard Road": a flat or room right before the house number joins it."""
    if not start or not lower[start - 1] in " ,\t" or not _UNIT_HINT.search(lower, max(0, start - 30), start):
        return start
    bare = _UNIT_WORD_BEFORE.search(lower, max(0, start - 12), start)  # "phòng 1203", "ห้อง 2105"
    if bare:
        start = bare.start()
    for _ in range(3):  # "Tòa A2 phòng 1203", "Flat 3, 12 Orchard Road"
        m = _UNIT_BEFORE.search(lower, max(0, start - 30), start)
        if not m:
            break
        start = m.start()
    return _building_before(lower, start)


_UNIT_WORD_BEFORE = re.compile(rf"(?<![{_LATIN}])(?:{_UNIT_WORDS})[ \t]?(?:số[ \t])?$")
_TH_BUILDING_BEFORE = re.compile(r"(?:คอนโด|อาคาร|หมู่บ้าน)[\u0e01-\u0e4f]*(?: [\u0e01-\u0e4f]+){0,2} ?$")


def _building_before(lower: str, start: int) -> int:
    """"คอนโดลุมพินี วิลล์ ห้อง 48/37": a Thai building's name right before its room joins it."""
    if start and "\u0e01" <= lower[start - 2:start - 1] <= "\u0e4f" or lower[start - 1:start] in "\u0e01\u0e4f":
        m = _TH_BUILDING_BEFORE.search(lower, max(0, start - 40), start)
        if m:
            return m.start()
    return start


def _unit_addresses(text: str, lower: str, lowercase_only: bool) -> Iterator[Span]:
    """Flats, rooms and buildings: a unit word with its number, then at least one more unit,
    a building's name, a house number or an address marker ("Tòa A2 phòng 1203", "Căn hộ
    B5-29152, chung cư Đại lộ Bình Dương, Phường Hiệp Thành", "ห้อง 1413 ชั้น 4 คอนโดแอสปาย")."""
    taken = -1
    for m in _UNIT.finditer(lower):
        if m.start() < taken:
            continue
        pos, parts = m.end(), 1
        while True:
            gap = _UNIT_GAP.match(lower, pos).end()
            more = _UNIT.match(lower, gap)
            if more:
                pos, parts = more.end(), parts + 1
                continue
            building = _BUILDING.match(lower, gap)
            if building:
                name = _name_end(text, lower, building.end(), lowercase_only)
                th = _THAI.match(text, building.end())
                if name < 0 and not th:
                    name = _lane_street(text, lower, building.end(), True, max_words=3)  # "chung cu linh dam"
                pos = name if name > 0 else (th.end() if th else building.end())
                if th and text[pos:pos + 1] == " " and _THAI.match(text, pos + 1) and not _MARKER.match(lower, pos + 1):
                    pos = _THAI.match(text, pos + 1).end()  # "คอนโดไอดีโอ โมบิ"
                parts += 1
                continue
            named = _name_end(text, lower, gap, False) if gap < len(text) and text[gap].isupper() else -1
            if named > 0 and parts == 1 and _UNIT.match(lower, _UNIT_GAP.match(lower, named).end()):
                pos = named  # "Room 1416, Times City, Tower B5"
                continue
            if named > 0 and parts >= 2 and not _MARKER.match(lower, gap):
                pos = named  # "Room 2813, Tower A3, Vinhomes Central Park"
            break
        house = _HOUSE.match(lower, _UNIT_GAP.match(lower, pos).end())
        marker = _next_marker(text, lower, pos, GAP, lowercase_only)
        if parts < 2 and not house and not marker:
            continue
        end = _chain(text, lower, pos, lowercase_only)
        taken = end
        yield _building_before(lower, m.start()), _with_postcode(text, end)
