"""The engine's cheap prefilters never rule out what the full search would find: word sets'
sure answers, ASCII texts split by bytes, the word-based hints of the handle and chat-id
detectors. Checked on the committed corpus and on hand-picked edge cases."""

from __future__ import annotations

import re

import pytest

from powersell.benchmarks.pii_corpus import load_corpus
from streams.detectors import DETECTORS
from streams.detectors.base import _LATIN_WORD, ScanText
from streams.detectors.context import Context, WordSet
from streams.detectors.contact_phone import CONTACT
from streams.detectors.context_words import BANK
from streams.detectors.street_address import _ANY_MARKER, _MARKER_WORDSET
from streams.detectors.tracking_number import TRACKING

EDGE_CASES = (
    "", "ok", "Zalo: abc.def", "lineid somchai", "id line: somchai", "we chat: abc123", "online store",
    "fb: shop.abc", "tik tok @nguyen.an", "tiktok-abc", "size x l", "big sale", "Q. 3, TP.HCM", "q1 tp hcm",
    "ถนนสุขุมวิท ซอย 11", "จังหวัดชลบุรี", "Phường Bến Nghé", "phuong ben nghe", "ems EE123456789TH",
    "tracking: GHN123", "mã vận đơn 123", "ma van don", "sđt 0912345678", "call me", "a-b_c d'e",
    "ÉCOLE café", "ship tới 12 Lê Lợi", "ไลน์ไอดี somjai", "เบอร์โทร 0812345678",
)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [line.text for line in load_corpus()] + list(EDGE_CASES)


def test_ascii_words_are_the_latin_words(texts):
    for text in texts:
        t = ScanText(text)
        assert t.words == frozenset(_LATIN_WORD.findall(t.lower)), text


@pytest.mark.parametrize("words", [TRACKING, CONTACT, BANK, _MARKER_WORDSET], ids=["tracking", "contact", "bank", "marker"])
def test_word_set_decides_as_its_expression(texts, words):
    if isinstance(words, Context):
        word_set, expression = words._words, words._regex
    else:
        word_set, expression = words, _ANY_MARKER
    decided = 0
    for text in texts:
        t = ScanText(text)
        # what the engine asked before: the set's maybe, confirmed by the expression (which also
        # finds a word inside a longer one, "ph" in "phòng", that the set rules out)
        found = word_set.maybe(t) and expression.search(t.lower) is not None
        decision = word_set.decide(t)
        if decision is not None:
            decided += 1
            assert decision == found, text
    assert decided  # the sure answers are used, not only maybes


def test_decide_is_sure_only_where_it_can_be():
    words = WordSet(("q.", "phường", "mã vận đơn", "ถนน"))
    assert words.decide(ScanText("Phường 7")) is True           # a whole word of the set
    assert words.decide(ScanText("q 7")) is None                # "q." needs its dot: the expression tells
    assert words.decide(ScanText("đơn mã vận")) is None         # a phrase's words, not in its order
    assert words.decide(ScanText("ถนนสุขุมวิท")) is True         # Thai, searched for
    assert words.decide(ScanText("no such word")) is False


@pytest.mark.parametrize("kind", ["HANDLE", "CHAT_ID"])
def test_word_based_hints_never_skip_a_finding(texts, kind):
    detector = next(d for d in DETECTORS if d.kind == kind)
    for text in texts:
        t = ScanText(text)
        if list(detector.find(t)):
            assert detector.applies(t), text


def test_word_based_hints_skip_substrings_in_ascii_texts():
    handle = next(d for d in DETECTORS if d.kind == "HANDLE")
    chat = next(d for d in DETECTORS if d.kind == "CHAT_ID")
    assert not handle.applies(ScanText("big bottle, extra size"))  # "ig", "tt", "x" inside words
    assert not chat.applies(ScanText("online store, big sale"))     # "line", "ig" inside words
    assert handle.applies(ScanText("fb: shop.abc")) and chat.applies(ScanText("Zalo: abc.def"))
    assert re.search(r"ig", "big")  # what the substring hint would have let through


def test_house_numbers_without_a_thai_label_need_no_thai_start(texts):
    from streams.detectors.street_address import _HOUSE, _HOUSE_NO_THAI_LABEL, _TH_HOUSE_LABEL

    for text in texts:
        lower = ScanText(text).lower
        if _TH_HOUSE_LABEL not in lower:
            expected = [m.span() for m in _HOUSE.finditer(lower)]
            assert [m.span() for m in _HOUSE_NO_THAI_LABEL.finditer(lower)] == expected, text
    # with the label, a house number opens on a Thai letter: that expression is the one used
    assert _HOUSE.search("บ้านเลขที่ 12 ถนนสุขุมวิท").start() == 0


def test_possessive_digit_runs_match_as_backtracking_ones():
    import random

    from streams.detectors.base import _RUN, MIN_RUN_DIGITS

    sep = r"(?:[ \t\-()]{1,3}|\.)"
    plain = re.compile(rf"[0-9](?<![0-9]{{2}})(?=(?:{sep}?[0-9]){{{MIN_RUN_DIGITS - 1}}})[0-9]*(?:{sep}[0-9]+)*")
    rnd = random.Random(20261206)
    for _ in range(20_000):
        s = "".join(rnd.choice("0123456789 .-()\tx") for _ in range(rnd.randint(1, 24)))
        assert [m.span() for m in _RUN.finditer(s)] == [m.span() for m in plain.finditer(s)], repr(s)
