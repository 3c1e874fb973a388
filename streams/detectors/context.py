"""Context words: the labels that stand next to a value and say what it is.

A `Context` is a set of words compiled into one trie-shaped regular expression. Detectors
ask where the last of its words ends ahead of a candidate (`last_ahead`), whether one
starts right at a position (`match_at`), or whether one occurs at all (`present`, a
prefilter). `nearest` compares several contexts: the label closest to a number decides
what the number is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from .base import ScanText


@dataclass(frozen=True)
class Context:
    """Words that stand next to a value: within `before` characters ahead of it, with no
    other number in between ("STK 0071001234567"), or right at a position ("0071001234567
    (VCB)"). Matching is on the lower-cased text; ASCII words do not match inside longer
    ASCII words."""

    words: tuple[str, ...]
    before: int = 40
    _regex: re.Pattern = field(init=False, repr=False, compare=False)
    _present: re.Pattern = field(init=False, repr=False, compare=False)
    _words: "WordSet" = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # one expression for both uses: the lookahead on first letters changes no match
        object.__setattr__(self, "_regex", re.compile(with_first_letters(self.words)))
        object.__setattr__(self, "_present", self._regex)
        object.__setattr__(self, "_words", WordSet(self.words))

    def match_at(self, t: ScanText, pos: int) -> int:
        """Where a context word starting exactly at `pos` ends, or -1."""
        m = self._regex.match(t.lower, pos)
        return m.end() if m else -1

    def present(self, t: ScanText) -> bool:
        """Whether any of the words occurs in the text at all (a cheap prefilter), once per text."""
        memo, key = t._memo, id(self)
        found = memo.get(key)
        if found is None:
            found = self._words.decide(t)
            if found is None:  # a maybe: the expression decides
                found = self._present.search(t.lower) is not None
            memo[key] = found
        return found

    def ahead(self, t: ScanText, start: int) -> bool:
        """Whether one of the words stands ahead of `start`."""
        return self.last_ahead(t, start) >= 0

    def last_ahead(self, t: ScanText, start: int) -> int:
        """Where the last context word ahead of `start` ends, or -1."""
        if not self.before:
            return -1
        lo = max(0, start - self.before)
        cut = _LAST_DIGIT.match(t.text, lo, start)
        if cut:
            lo = cut.end()
        last, search, lower = -1, self._regex.search, t.lower
        m = search(lower, lo, start)
        while m:  # overlapping words too: in "thai id card", "id card" ends last
            last = max(last, m.end())
            m = search(lower, m.start() + 1, start)
        return last


_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff]+")
_THAI_CHAR = re.compile(r"[\u0e01-\u0e4f]")


def has_thai(t: ScanText) -> bool:
    """Whether the text has a Thai letter (found once per text, by ScanText)."""
    return t.thai


class WordSet:
    """Whether any of many words may occur in a text, without a search: the first Latin word
    of each is looked up among the text's words (split once per text and shared by every
    detector); the words that open with another script or a sign are searched for, and only
    in a text with Thai letters when all of them are Thai. A yes is to be confirmed by
    the words' own expression; a no is final."""

    __slots__ = ("latin", "rest", "alone", "whole", "other", "other_thai", "literals")

    # up to this many words that a substring test decides are tested one by one (`in` is
    # faster than the expression's search over a Thai text); more are left to the expression
    MAX_LITERALS = 12

    def __init__(self, words: Iterable[str]):
        rest: dict[str, set[tuple[str, ...]]] = {}
        other = []
        for word in words:
            word = word.lower()
            if _LATIN_WORD.match(word):
                tokens = _LATIN_WORD.findall(word)  # every Latin word of a phrase must be there
                rest.setdefault(tokens[0], set()).add(tuple(tokens[1:]))
            else:
                other.append(word)
        self.latin = frozenset(rest)
        self.rest = {first: () if () in more else tuple(more) for first, more in rest.items()}  # () : alone
        self.alone = frozenset(first for first, more in self.rest.items() if not more)  # enough on their own
        # words that are one whole Latin word: one of the text's words, it occurs (no maybe)
        self.whole = frozenset(w.lower() for w in words if _LATIN_WORD.fullmatch(w.lower()))
        self.other_thai = all(_THAI_CHAR.match(w) for w in other)  # then a text without Thai has none
        # a word without spaces that neither opens nor ends with an ASCII letter needs no
        # guard in the expression: it occurs exactly when it is a substring of the text
        substrings = tuple(w for w in other if not any(c.isspace() for c in w)
                           and not (w[-1].isascii() and w[-1].isalpha()) and not "a" <= w[0] <= "z")
        # a word that holds another of them occurs only where that one does: testing the shorter
        # one is enough ("พัสดุ" for "เลขพัสดุ", "ไปรษณีย์" for "ไปรษณีย์ไทย")
        literals = tuple(w for w in dict.fromkeys(substrings) if not any(o != w and o in w for o in substrings))
        if len(literals) > self.MAX_LITERALS:
            literals = substrings = ()
        self.literals = literals
        other = [w for w in other if w not in substrings]
        self.other = re.compile(with_first_letters(other)) if other else None

    def maybe(self, t: ScanText) -> bool:
        words = t.words
        if not self.alone.isdisjoint(words):
            return True
        if not self.latin.isdisjoint(words):  # the usual no costs no new set
            for first in self.latin.intersection(words):
                more = self.rest[first]
                if not more or any(all(w in words for w in tail) for tail in more):
                    return True
        if self.other_thai and not t.thai:
            return False
        lower = t.lower
        for word in self.literals:
            if word in lower:
                return True
        return self.other is not None and self.other.search(lower) is not None

    def decide(self, t: ScanText) -> bool | None:
        """As `maybe`, but sure where it can be: True when a whole word of the set is one of
        the text's words, or one of the words searched for (Thai, signs) occurs; False when
        none can occur; None when only the words' own expression can tell (a phrase's first
        word, a word with a dot)."""
        words = t.words
        if not self.whole.isdisjoint(words):
            return True
        if not self.alone.isdisjoint(words):
            return None
        if not self.latin.isdisjoint(words):
            for first in self.latin.intersection(words):
                more = self.rest[first]
                if not more or any(all(w in words for w in tail) for tail in more):
                    return None
        if self.other_thai and not t.thai:
            return False
        lower = t.lower
        for word in self.literals:
            if word in lower:
                return True
        return self.other is not None and self.other.search(lower) is not None


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression for many words, as a trie ("s(?:tk|ố\\s*tk)|t(?:k|ài\\s*khoản)"),
    which `re` runs far faster than a list of alternatives. A space in a word matches any
    run of white space, or none (Thai); an ASCII word does not match inside a longer ASCII
    word ("tk" in "stk", "mb" in "number")."""
    trie: dict = {}
    for word in words:
        node = trie
        for token in _tokens(word.lower()):
            node = node.setdefault(token, {})
        node[""] = word[-1].isascii() and word[-1].isalpha()

    def build(node: dict, top: bool = False) -> str:
        alternatives = []
        for token, child in node.items():
            if token:
                # at the top, an ASCII letter must not continue a word: checked just after
                # the first character, so that every alternative still opens with a literal
                guard = r"(?<![a-z].)" if top and "a" <= token <= "z" else ""
                alternatives.append(token + guard + build(child))
        if "" in node:
            alternatives.append(r"(?![a-z])" if node[""] else "")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return build(trie, top=True)


def with_first_letters(words: Iterable[str]) -> str:
    """`_trie_pattern(words)` behind a lookahead on their first letters, so that a search
    skips most positions with one set test instead of trying every branch."""
    words = tuple(words)
    firsts = "".join(sorted({re.escape(w.lower()[0]) for w in words}))
    return f"(?=[{firsts}])(?:{_trie_pattern(words)})"


def _tokens(word: str) -> list[str]:
    # re.escape leaves letters and digits as they are: only the rest pays for the call
    return [ch if ch.isalnum() else r"\s*" if ch == " " else re.escape(ch) for ch in " ".join(word.split())]


def nearest(t: ScanText, start: int, contexts: dict[str, Context]) -> str | None:
    """Which context's words stand closest before `start` (the first named wins a tie):
    the nearest label decides what a number is ("STK ... MB; Zalo: 0912345678")."""
    best, where = None, -1
    for name, context in contexts.items():
        pos = context.last_ahead(t, start)
        if pos > where:
            best, where = name, pos
    return best


# matched at the window's start, with endpos its end: `.*` runs to the end and gives back
# characters until a digit, so the match ends right after the last digit of the window
_LAST_DIGIT = re.compile(r"(?s:.*)[0-9]")

# What follows a price: never an account number, an address or an id.
_CURRENCY_AFTER = re.compile(
    r"\s?(?:₫|đ(?![^\W\d_])|đồng|vnđ|vnd|d(?![^\W\d_])|k(?![^\W\d_])|tr(?![^\W\d_])|triệu|฿|บาท|thb|usd|\$|%|"
    r",-|\.-)",
    re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?:₫|฿|\$|thb|usd|vnd)\s?$", re.IGNORECASE)


def looks_like_money(t: ScanText, start: int, end: int) -> bool:
    """A currency sign or word right before or after the number ("1.250.000đ", "฿1,290")."""
    return (_CURRENCY_AFTER.match(t.text, end) is not None
            or _CURRENCY_BEFORE.search(t.text, max(0, start - 5), start) is not None)
