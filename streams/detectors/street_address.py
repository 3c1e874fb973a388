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
from .context import _trie_pattern
from .phone import PhoneDetector

# ---------------------------------------------------------------------------------------
# Marker words. Vietnamese words also match without accents, except where the bare form is
# a common word in its own right (listed in _NO_ASCII).

TH_STREET = ("ถนน", "ถ.", "ซอย", "ซ.", "หมู่ที่", "หมู่บ้าน", "หมู่", "ตำบล", "ต.", "แขวง")
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
    return "|".join(out)


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
_MARKER = re.compile(_trie_pattern(_MARKER_WORDS))


def _level(m: re.Match) -> str:
    return _MARKER_LEVEL["".join(m.group().split())]


_AFTER = re.compile(
    "(?P<street_after>" + _alternation(EN_STREET_AFTER) + ")|(?P<area_after>" + _alternation(EN_AREA_AFTER) + ")")

_HOUSE = re.compile(
    rf"(?<![0-9{_LATIN}/.,:\-])(?:(?P<label>{HOUSE_LABELS}))?"
    r"(?P<number>[0-9]{1,4}(?:/[0-9]{1,4}){0,2}(?:-[0-9]{1,3})?)(?P<letter>[a-z])?"
    rf"(?![0-9/{_LATIN}]|[.,:][0-9])")
_NOT_HOUSE = re.compile(r"(?:" + _alternation(NOT_HOUSE_BEFORE) + r")[\s:.]*$")
_POSTAL = re.compile(r"[\s,]{0,3}(?:(?:mã bưu chính|ma buu chinh|postcode|postal code|zip|รหัสไปรษณีย์)[\s:]*)?"
                     r"(?P<code>[1-9][0-9]{4,5})(?![0-9]|[\s.\-][0-9])")
_BREAK = re.compile(r"[.;:!?()\[\]|\n\"]|[0-9]{4}| - ")  # what a gap between markers may not hold
_THAI = re.compile(r"[\u0e01-\u0e4f]+")
_WORD = re.compile(rf"[{_LATIN}A-Z][{_LATIN}A-Z'\-]*|[0-9]{{1,3}}(?:/[0-9]{{1,3}})?[A-Z]?(?![0-9])")

_PHONE = PhoneDetector()
FIRST_GAP = 25     # characters from the house number to its first marker
GAP = 35           # characters between two markers
MAX_NAME_WORDS = 5


class StreetAddressDetector(Detector):
    kind = "ADDRESS"
    priority = 55  # below the ids, bank and chat ids; above phone, whose numbers an address never spans

    def applies(self, t: ScanText) -> bool:
        return any(c.isdigit() for c in t.text) and _MARKER.search(t.lower) is not None

    def find(self, t: ScanText) -> Iterator[Span]:
        lower, text = t.lower, t.text
        lowercase_only = text == lower  # a chat typed in lower case: names are not capitalised
        taken = -1
        phones: list[Span] | None = None
        for h in _HOUSE.finditer(lower):
            if h.start() < taken:
                continue
            if h.group("letter") and not text[h.start("letter")].isupper():
                continue  # "12A" is a house, "2h" and "150k" are not
            if not h.group("label") and _NOT_HOUSE.search(lower, max(0, h.start() - 12), h.start()):
                continue
            end = _address_end(text, lower, h.end(), lowercase_only)
            if end < 0:
                continue
            start = h.start()
            if t.longest_run >= _PHONE.min_digits:
                # "053-675-402 41/32 ซอย...": the phone number may take the head of the house
                # number; the address starts after it, so the two never overlap
                if phones is None:
                    phones = list(_PHONE.find(t))
                start = max([start] + [e for s, e in phones if s < h.end() and start < e])
            if start < h.end():
                taken = end
                yield start, end


def _address_end(text: str, lower: str, pos: int, lowercase_only: bool) -> int:
    """Where the address after a house number ending at `pos` ends, or -1."""
    markers, street, first = 0, False, True
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
    return pos if markers >= 2 else -1


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
        name_end = _name_end(text, lower, m.end(), lowercase_only)
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


def _name_end(text: str, lower: str, pos: int, lowercase_only: bool) -> int:
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
        num = re.match(r" ?[0-9]{1,3}(?:/[0-9]{1,3})?(?![0-9])", text[end:end + 9])
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
            break  # "Quận 1", "Soi 11": a number ends the name
        i = end + 1 if text[end:end + 1] == " " else end
        if i == end:
            break
    return end


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
