"""The labelled corpus (tests/data/pii_corpus.jsonl) and the detectors measured on it.

The corpus is checked on its own first, with the libraries and not with the detectors:
the generator regenerates it exactly, it is large and balanced enough, its labels sit at
their offsets, its personal values are real ones (valid phone numbers, checksums, UPU S10
check digits) while its barcodes are EAN-13s that are not Thai ids, and it writes names and
addresses the ways people type them (no accents, lower case, Thai titles glued or spaced).

Then the engine on the committed corpus, with the targets of the free-text issue: every
kind it had before at least 99% recall, every new kind (names, street addresses, handles,
phone numbers outside the numbering plan, tracking numbers) at least 95%, the look-alikes it
kept before at least 99% and the new ones (shops, brands, places named like people) at
least 97%. `bench redaction` measures the same on seeds the committed file is not written
from."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter

import phonenumbers
import pytest
from stdnum import ean, luhn
from stdnum.th import pin
from stdnum.vn import mst

from streams.detectors import KINDS
from powersell.benchmarks.pii_corpus import (CORPUS_PATH, EXISTING_KINDS, LINES, NEW_KINDS, NEW_LOOKALIKES, SEED, UNSEEN_SEEDS,
                                evaluate, generate, load_corpus, measured_kind)
from powersell.benchmarks.pii_corpus_people import is_s10, outside_numbering_plan

# Kinds the engine misses on this corpus, with the recall measured on 2026-12-06 (issue 12),
# marked strict: the test fails when one starts passing, so the entry goes. Until the issue's
# detectors (NAME, HANDLE, TRACKING_NUMBER) are registered, every new kind is expected to miss.
ISSUE_12_REGISTERED = {"NAME", "HANDLE", "TRACKING_NUMBER"} <= set(KINDS)
NOT_YET: dict[str, str] = {
} if ISSUE_12_REGISTERED else {
    kind: f"issue 12: no {kind} detector registered yet" for kind in
    ("NAME", "ADDRESS", "HANDLE", "PHONE_OUTSIDE_PLAN", "TRACKING_NUMBER")}
STRICT = True


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def report(corpus):
    return evaluate(corpus, repeat=1)


def labels(corpus, kind):
    return [label.text for line in corpus for label in line.pii + line.keep if label.kind == kind]


def digits(s: str) -> str:
    return "".join(str(int(c)) for c in s if c.isdigit())  # full-width and Thai digits too


# ---------------------------------------------------------------------------------------- the corpus itself

def test_when_the_generator_runs_with_its_seed_then_it_writes_the_committed_corpus(corpus):
    assert [line.to_json() for line in generate(SEED, LINES)] == [line.to_json() for line in corpus]
    assert CORPUS_PATH.read_text(encoding="utf-8").count("\n") == len(corpus)


def test_when_the_corpus_is_counted_then_it_is_large_and_balanced(corpus):
    assert len(corpus) >= 3000
    by_lang = Counter(line.lang for line in corpus)
    assert set(by_lang) == {"en", "vi", "th"}
    assert min(by_lang.values()) >= len(corpus) / 4
    with_pii = sum(1 for line in corpus if line.pii)
    assert 0.4 <= with_pii / len(corpus) <= 0.6
    assert all(line.pii or line.keep for line in corpus)
    assert len({line.id for line in corpus}) == len(corpus)


def test_when_the_corpus_is_counted_then_every_kind_has_enough_labels_to_measure(corpus):
    counts = Counter(measured_kind(label) for line in corpus for label in line.pii)
    assert set(counts) == set(EXISTING_KINDS) | set(NEW_KINDS)
    assert min(counts.values()) >= 50, counts
    lookalikes = Counter(label.kind for line in corpus for label in line.keep)
    assert all(lookalikes[kind] >= 50 for kind in NEW_LOOKALIKES), lookalikes


@pytest.mark.parametrize("seed", UNSEEN_SEEDS[:2])
def test_when_another_seed_is_used_then_other_lines_with_every_kind_come_out(corpus, seed):
    other = generate(seed, LINES)
    assert seed != SEED
    assert len({line.text for line in other} & {line.text for line in corpus}) < len(corpus) / 10
    assert {measured_kind(label) for line in other for label in line.pii} == set(EXISTING_KINDS) | set(NEW_KINDS)


def test_when_a_label_is_read_then_it_is_the_text_at_its_offset(corpus):
    for line in corpus:
        for label in line.pii + line.keep:
            assert line.text[label.start:label.end] == label.text, line.id


def test_when_the_corpus_has_thai_without_spaces_and_full_width_digits_then_both_are_labelled(corpus):
    values = [label.text for line in corpus for label in line.pii]
    assert any(any("\uff10" <= c <= "\uff19" for c in v) for v in values)
    assert any(any("\u0e50" <= c <= "\u0e59" for c in v) for v in values)
    glued = [line for line in corpus if line.lang == "th" and any(
        label.start and "\u0e00" <= line.text[label.start - 1] <= "\u0e7f" for label in line.pii)]
    assert len(glued) >= 50


CONTACT_WORDS = re.compile(r"(gọi|goi|sđt|sdt|hotline|zalo|đt|dt|โทร|เบอร์|call|tel|liên hệ|lien he|ติดต่อ|phone)\D{0,12}$",
                           re.I)


def test_when_the_corpus_phones_are_parsed_by_phonenumbers_then_they_are_valid_or_follow_a_contact_word(corpus):
    """Phones in the plan are valid numbers; the rest are phone-shaped and right after a contact word."""
    in_plan = outside = 0
    for line in corpus:
        for label in line.pii:
            if label.kind != "PHONE":
                continue
            if not outside_numbering_plan(label.text):
                in_plan += 1
                continue
            outside += 1
            assert CONTACT_WORDS.search(line.text[max(0, label.start - 20):label.start]), line.text
            number = digits(label.text)
            assert number.startswith("0") and 10 <= len(number) <= 11, label.text
    assert in_plan >= 400 and outside >= 50


def test_when_the_corpus_ids_are_checked_then_their_checksums_hold(corpus):
    assert all(pin.is_valid(digits(v)) for v in labels(corpus, "TH_NATIONAL_ID"))
    assert all(mst.is_valid(digits(v)) for v in labels(corpus, "VN_TAX_CODE"))
    assert all(luhn.is_valid(digits(v)) for v in labels(corpus, "CARD"))
    assert all(ipaddress.ip_address(v) for v in labels(corpus, "IP_ADDRESS"))
    assert all(ean.is_valid(v) and not pin.is_valid(v) for v in labels(corpus, "barcode"))


def test_when_tracking_numbers_look_like_upu_s10_then_their_check_digit_holds(corpus):
    s10_shaped = [v for v in labels(corpus, "TRACKING_NUMBER") if re.fullmatch(r"[A-Z]{2}\d{9}(VN|TH)", v)]
    assert len(s10_shaped) >= 10
    assert all(is_s10(v) for v in s10_shaped)
    assert not is_s10("VN123456789VN")  # the check digit of 12345678 is 5


def test_when_names_are_written_then_they_come_with_and_without_accents_titles_and_case(corpus):
    names = [(line, label) for line in corpus for label in line.pii if label.kind == "NAME"]
    vi = [label.text for line, label in names if line.lang == "vi"]
    assert sum(1 for v in vi if v.isascii()) >= 30                   # typed without accents
    assert sum(1 for v in vi if v.islower()) >= 10                   # and in lower case
    assert sum(1 for v in vi if unicodedata.is_normalized("NFC", v) is False) >= 3  # combining accents
    th = [(line.text, label) for line, label in names if line.lang == "th"]
    glued = [1 for text, label in th if text[:label.start].endswith(("คุณ", "นาย", "นาง", "นางสาว", "น.ส.", "ด.ช.", "ด.ญ."))]
    spaced = [1 for text, label in th if re.search(r"(คุณ|นาย|นาง|นางสาว|น\.ส\.) $", text[:label.start])]
    assert len(glued) >= 20 and len(spaced) >= 10
    en = [line.text[:label.start] for line, label in names if line.lang == "en"]
    assert sum(1 for v in en if re.search(r"\b(Mr|Mrs|Ms|Miss|Dr)\.? $", v)) >= 20
    assert sum(1 for v in en if re.search(r"(?i)(deliver to|recipient:|attn:|c/o|this is|gift for) $", v)) >= 20


def test_when_addresses_are_labelled_then_the_region_after_them_is_not(corpus):
    """The household part is labelled; ward, district and province are left to the reader."""
    addresses = [label.text for line in corpus for label in line.pii if label.kind == "ADDRESS"]
    assert all(any(c.isdigit() for c in v) for v in addresses)
    assert not any(re.search(r"(?i)\b(quận|quan|huyện|q\.|เขต|อ\.|จ\.|district)(?!\w)", v) for v in addresses)


# ---------------------------------------------------------------------------------------- the detectors on it

def _recall_case(kind: str):
    if kind in NOT_YET:
        return pytest.param(kind, marks=pytest.mark.xfail(strict=STRICT, reason=NOT_YET[kind]))
    return kind


@pytest.mark.parametrize("kind", [_recall_case(k) for k in EXISTING_KINDS])
def test_when_the_engine_scans_the_corpus_then_it_finds_99_percent_of_each_kind_it_had(report, kind):
    assert report.recall(kind) >= 0.99, report.summary()


@pytest.mark.parametrize("kind", [_recall_case(k) for k in NEW_KINDS])
def test_when_the_engine_scans_the_corpus_then_it_finds_95_percent_of_each_new_kind(report, kind):
    assert report.recall(kind) >= 0.95, report.summary()


def test_when_the_engine_scans_the_corpus_then_99_percent_of_the_earlier_look_alikes_stay_intact(report):
    """A postal code after an address is part of the address (neither labelled nor a look-alike)."""
    earlier = [k for k in report.lookalikes if k not in NEW_LOOKALIKES]
    assert report.kept_share_of(earlier) >= 0.99, report.summary()


LOOKALIKE_CASE = "NEW_LOOKALIKES"


@pytest.mark.parametrize("group", [pytest.param(LOOKALIKE_CASE, marks=pytest.mark.xfail(
    strict=STRICT, reason=NOT_YET[LOOKALIKE_CASE])) if LOOKALIKE_CASE in NOT_YET else LOOKALIKE_CASE])
def test_when_the_engine_scans_the_corpus_then_97_percent_of_the_people_look_alikes_stay_intact(report, group):
    assert report.kept_share_of(NEW_LOOKALIKES) >= 0.97, report.summary()

