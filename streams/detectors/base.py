"""What every PII detector is made of, and the normalised text they all scan.

A detector is mostly data: a kind, a priority for overlaps, a prefilter (how many digits
a text needs before the detector is worth running), candidate patterns, context words
that must (or must not) stand next to a candidate, and a `validate` hook for checksums.
`PatternDetector` takes its candidates from regular expressions; `NumberDetector` from
the digit runs of the text (digits grouped by spaces, dots, dashes and brackets), which
are found once per text and shared by every numeric detector.

Findings carry a kind and offsets into the original text, never the text itself, so they
can be counted and passed around without leaking what was found. Errors carry the
detector's kind and the exception type, never the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import chain
from typing import ClassVar, Iterable, Iterator

from pipeline_core.errors import PipelineError


class DetectorError(PipelineError):
    """A detector failed on a text. The message names the detector, never the text."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: its kind and its span [start, end) in the original text."""

    kind: str
    start: int
    end: int


# ---------------------------------------------------------------------------------------
# Normalisation: NFKC restricted to one-to-one replacements (full-width forms, exotic
# spaces and dashes) plus every Unicode decimal digit (full-width, Thai, ...) to ASCII.
# One character in, one character out, so offsets stay the same. Only a text that is not
# NFC (Vietnamese typed with combining accents) is recomposed, with a map back to the
# original offsets.

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters count as a space


def _one_to_one_table() -> dict[int, str]:
    table: dict[int, str] = {}
    blocks = chain(range(0x00A0, 0x0100), range(0x2000, 0x2070), range(0x3000, 0x3004),
                   range(0xFE50, 0xFE70), range(0xFF00, 0xFFEF))
    for cp in blocks:
        ch = chr(cp)
        if unicodedata.category(ch) == "No":  # superscripts and fractions stay apart
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded.isascii() and folded != ch:
            table[cp] = folded
    # every decimal digit of the plane (\d is Unicode's Nd), found by one search instead of
    # 65,000 lookups at import
    for ch in re.findall(r"\d", "".join(map(chr, range(0x80, 0x10000)))):
        table[ord(ch)] = str(unicodedata.decimal(ch))
    for ch in _DASHES:
        table[ord(ch)] = "-"
    for ch in _INVISIBLE:
        table[ord(ch)] = " "
    return table


_TABLE = _one_to_one_table()
_NEEDS_TABLE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_TABLE)) + "]")


def _recompose(text: str) -> tuple[str, list[int]]:
    """NFC per cluster (a base character and its combining marks), with the original
    offset of every output character."""
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFC", text[i:j]) if j - i > 1 else text[i]
        out.append(piece)
        origin.extend([i] * len(piece))
        i = j
    return "".join(out), origin


# ---------------------------------------------------------------------------------------
# Digit runs: digit groups joined by separators, with an optional leading "+" or "(". A
# separator is up to three spaces, dashes or brackets, or one dot ("0912.345.678"); a dot
# and a space end a sentence, not a number. A run glued to ASCII letters ("SPXVN0123456789",
# "256GB", "A556E") is a code, not a number, unless the letters are a label written without
# a space ("sdt0912345678"); one after "/", "=", "#", "@" is part of a link or a reference.

MIN_RUN_DIGITS = 6  # no numeric detector looks at fewer digits
_SEP = r"(?:[ \t\-()]{1,3}+|\.)"
# at least MIN_RUN_DIGITS digits (the lookahead), not starting inside a longer run (the
# lookbehind, placed after the first digit so that `re` can skip ahead to digits); possessive,
# since a separator or a digit given back could only stand where the other must
_RUN = re.compile(rf"[0-9](?<![0-9]{{2}})(?=(?:{_SEP}?+[0-9]){{{MIN_RUN_DIGITS - 1}}})[0-9]*+(?:{_SEP}[0-9]++)*")
_GROUP = re.compile(r"[0-9]+")
_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff]+")
_LETTERS_ONLY = bytes(c if 97 <= c <= 122 else 32 for c in range(256))  # _LATIN_WORD's letters in ASCII
_THAI_LETTER = re.compile(r"[\u0e01-\u0e4f]")
_DIGIT = re.compile(r"[0-9]")
_GLUE = frozenset("/=_@#&?%")  # a number after these is part of a link, a handle or a reference
_LABEL_GLUED = re.compile(
    r"(?<![a-z])(?:sdt|sđt|dt|đt|tel|phone|mobile|call|hotline|zalo|line|stk|tk|mst|cccd|cmnd|ip|no)$")


class NumberRun:
    """Digit groups joined by separators. `start` includes an opening "+" or "(";
    `groups` (the spans of the digit groups) is computed when a detector asks for it."""

    __slots__ = ("start", "end", "digits", "sizes", "digit_count", "plus", "glued_before", "glued_after",
                 "_text", "_first", "_groups")

    def __init__(self, text: str, start: int, first: int, end: int, digits: tuple[str, ...], plus: bool,
                 glued_before: bool, glued_after: bool):
        self.start, self.end, self._text, self._first = start, end, text, first
        self.digits = digits                  # the digits of each group
        self.sizes = tuple(map(len, digits))  # how many digits each group has
        self.digit_count = sum(self.sizes)
        self.plus = plus                      # written with a leading "+"
        self.glued_before = glued_before      # first group stuck to ASCII letters ("SPXVN0123...")
        self.glued_after = glued_after        # last group stuck to ASCII letters ("...7890X", "256GB")
        self._groups: tuple[tuple[int, int], ...] | None = None

    def after_dot(self, i: int) -> bool:
        """Group i follows a dot: a decimal or a dotted grouping, not the start of a number."""
        return self._text[self.groups[i][0] - 1] == "."

    @property
    def groups(self) -> tuple[tuple[int, int], ...]:
        if self._groups is None:
            self._groups = tuple(m.span() for m in _GROUP.finditer(self._text, self._first, self.end))
        return self._groups


class ScanText:
    """The text as detectors see it: normalised, lower-cased, with its Latin words and its
    digit runs, and a way back to offsets in the original. Every detector asks for these on
    almost every text, so they are worked out once, here, and read as plain attributes."""

    __slots__ = ("original", "text", "lower", "words", "has_digit", "runs", "longest_run", "thai", "_origin",
                 "_memo")

    def __init__(self, original: str):
        self.original = original
        text, origin = original, None
        ascii_only = original.isascii()
        if not ascii_only:
            if not unicodedata.is_normalized("NFC", original):
                text, origin = _recompose(original)
            if _NEEDS_TABLE.search(text):
                text = text.translate(_TABLE)
        self.text = text
        self._origin = origin
        # lower-cased text with the same offsets (characters whose lower case is longer stay
        # as they are)
        lower = text.lower()
        if len(lower) != len(text):
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        self.lower = lower
        # the Latin words of the lower-cased text: detectors look their anchor words up here
        # before they search the text
        self.words: frozenset[str] = (  # an ASCII text split by bytes.translate: three times faster
            frozenset(lower.encode("ascii").translate(_LETTERS_ONLY).decode("ascii").split()) if ascii_only
            else frozenset(_LATIN_WORD.findall(lower)))
        # whether the text has a Thai letter
        self.thai: bool = not ascii_only and _THAI_LETTER.search(text) is not None
        self._memo: dict = {}
        self.has_digit: bool = _DIGIT.search(text) is not None
        self.runs: tuple[NumberRun, ...] = ()
        # the most digits in one run (0 without runs): the prefilter of numeric detectors
        self.longest_run: int = 0
        if self.has_digit:
            self.runs = runs = tuple(self._find_runs())
            if runs:
                self.longest_run = max([run.digit_count for run in runs])

    def memo(self, key: str, compute):
        """One result per text shared by detectors (the phone numbers the address detector
        must not overlap are the phone detector's own findings)."""
        memo = self._memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def memo_table(self) -> dict:
        """The memo's table itself, for lookups on a hot path without a closure per call."""
        return self._memo

    def _find_runs(self) -> Iterator[NumberRun]:
        text = self.text
        size = len(text)
        findall = _GROUP.findall
        for m in _RUN.finditer(text):
            first, end = m.span()
            start, plus, glued_before = first, False, False
            if first:
                before = text[first - 1]
                if before in "(+ ":  # "(028) ...", "+84 ...", "(+66) ..."
                    lead = text[max(0, first - 4):first]
                    lead = lead[len(lead.rstrip("(+ ")):].lstrip(" ")
                    opener = first - len(lead)
                    if lead and not (opener and text[opener - 1].isascii() and text[opener - 1].isalnum()):
                        # "+84 ...", but not "SPF50+ 35 36"
                        start, plus = opener, "+" in lead
                elif before in _GLUE:
                    glued_before = True
                elif before.isascii() and before.isalpha():
                    glued_before = _LABEL_GLUED.search(self.lower, max(0, first - 8), first) is None
            glued_after = end < size and text[end].isascii() and text[end].isalpha()
            yield NumberRun(text, start, first, end, tuple(findall(text, first, end)), plus, glued_before,
                            glued_after)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self._origin is None:
            return start, end
        origin = self._origin
        return origin[start], (origin[end] if end < len(origin) else len(self.original))


# ---------------------------------------------------------------------------------------
# Detectors

Span = tuple[int, int]


class Detector:
    """One kind of personal data. Subclasses set the class attributes and, where a
    checksum applies, override `validate`."""

    kind: ClassVar[str]
    priority: ClassVar[int] = 50   # the higher wins where two findings overlap
    min_digits: ClassVar[int] = 0  # prefilter: skipped unless a digit run has this many digits

    @property
    def placeholder(self) -> str:
        return f"[{self.kind}]"

    def applies(self, t: ScanText) -> bool:
        return not self.min_digits or t.longest_run >= self.min_digits

    def find(self, t: ScanText) -> Iterable[Span]:
        raise NotImplementedError

    def validate(self, value: str) -> bool:
        return True


class PatternDetector(Detector):
    """Candidates from regular expressions (group `value` if there is one), searched in
    the normalised text or its lower-cased copy; `accept` may look at the context."""

    patterns: ClassVar[tuple[re.Pattern, ...]]
    lowercase: ClassVar[bool] = False

    def find(self, t: ScanText) -> Iterator[Span]:
        text = t.lower if self.lowercase else t.text
        for pattern in self.patterns:
            for m in pattern.finditer(text):
                start, end = m.span("value") if "value" in pattern.groupindex else m.span()
                value = text[start:end]
                if self.validate(value) and self.accept(t, start, end):
                    yield start, end

    def accept(self, t: ScanText, start: int, end: int) -> bool:
        return True


class NumberDetector(Detector):
    """Candidates from the shared digit runs: every group-aligned stretch of a run whose
    digit count is in `lengths` and whose group lengths fit `shape_ok`."""

    lengths: ClassVar[frozenset[int]]

    def find(self, t: ScanText) -> Iterator[Span]:
        lengths = self.lengths
        lo, hi = min(lengths), max(lengths)
        for run in t.runs:
            if run.digit_count < lo:
                continue
            sizes, n = run.sizes, len(run.sizes)
            for i in range(1 if run.glued_before else 0, n):
                total = 0
                for j in range(i, n):
                    total += sizes[j]
                    if total > hi or (j == n - 1 and run.glued_after):
                        break
                    if total not in lengths:
                        continue
                    shape = sizes[i:j + 1]
                    if not self.shape_ok(shape, i == 0 and j == n - 1):
                        continue
                    digits = "".join(run.digits[i:j + 1])
                    if not self.validate(digits):  # checksums first: most candidates stop here,
                        continue                   # before the group offsets are worked out
                    start = run.start if i == 0 else run.groups[i][0]
                    end = run.end if j == n - 1 else run.groups[j][1]
                    if self.accept(t, start, end, digits, shape):
                        yield start, end

    def shape_ok(self, shape: tuple[int, ...], whole_run: bool) -> bool:
        return len(shape) == 1 or whole_run

    def accept(self, t: ScanText, start: int, end: int, digits: str,
               shape: tuple[int, ...]) -> bool:
        return True
