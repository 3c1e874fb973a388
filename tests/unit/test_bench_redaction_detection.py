"""`bench redaction`'s detection part: the free-text targets it prints, and how `--only
detection` keeps the last end-to-end figures in BENCHMARKS.md."""

from __future__ import annotations

from collections import Counter

from powersell.benchmarks import workers as bench
from powersell.benchmarks.pii_corpus import EXISTING_KINDS, NEW_KINDS, NEW_LOOKALIKES, Report


def _report(recall: dict[str, float], kept: dict[str, tuple[int, int]]) -> Report:
    total = Counter({k: 100 for k in EXISTING_KINDS + NEW_KINDS})
    found = Counter({k: round(100 * recall.get(k, 1.0)) for k in total})
    lookalikes = Counter({k: n for k, (_, n) in kept.items()})
    return Report(1000, 0.05, total, found, found, lookalikes, Counter({k: m for k, (m, _) in kept.items()}))


def test_when_every_target_is_met_then_each_line_says_met():
    engine = _report({}, {"sku": (100, 100), "brand": (99, 100)})
    lines = bench.free_text_target_lines(engine, bench.ColdRun(20_000, 0.2, 0.8))
    assert lines[0].startswith("- Recall >= 0.95 for each new kind (ADDRESS, HANDLE, NAME, PHONE_OUTSIDE_PLAN, "
                               "TRACKING_NUMBER): lowest 1.000, met.")
    assert lines[1].startswith("- Recall >= 0.99 for each earlier kind") and lines[1].endswith("met.")
    assert lines[2].startswith("- Look-alikes kept >= 0.97: 0.9950 (199/200), met; people-like ones")
    assert lines[3] == ("- Engine >= 10,000 lines/s on one core, start-up included: 20,000 (20000 lines in 1.00 s, "
                        "of which 0.20 s import), met.")


def test_when_targets_are_missed_then_the_lines_name_the_kinds_and_the_gap():
    engine = _report({"NAME": 0.9, "PHONE": 0.98}, {"place": (90, 100)})
    lines = bench.free_text_target_lines(engine, bench.ColdRun(9_000, 0.5, 0.5))
    assert lines[0].endswith("lowest 0.900, missed: NAME 0.900.")
    assert lines[1].endswith("missed: PHONE 0.980.")
    assert "0.9000 (90/100), missed by 0.070" in lines[2]
    assert lines[3].endswith("missed by 1,000 lines/s.")
    assert "place" in NEW_LOOKALIKES


OLD_SECTION = """## Redaction

`powersell-pipeline bench redaction --events 20000 --rate 200 --paced-seconds 10 --repeat 3` on 2026-11-29 07:25 UTC; 2 cores.

### Detection: the engine and Presidio on the labelled corpus

| a | b |

### End to end through Kafka: the redaction worker and a bare faust passthrough

| process | events/s |
|---|---|
| redaction worker | 683 |

Notes.

Targets:

- Engine >= 20x Presidio's lines/s: 32.9x, met.
- Engine recall higher than Presidio's: 1.000 vs 0.654, met.
- Worker >= 70% of the passthrough's events/s: 47%, missed by 23 points.
  Why: CPU per event.
"""


def test_when_only_detection_runs_then_the_last_end_to_end_part_stays_with_its_own_targets_and_its_run():
    part = bench.previous_e2e_part(OLD_SECTION)
    assert part.startswith("### End to end through Kafka: the redaction worker and a bare faust passthrough\n\n"
                           "From `powersell-pipeline bench redaction --events 20000 --rate 200 --paced-seconds 10 "
                           "--repeat 3` on 2026-11-29 07:25 UTC, not run this time.\n\n| process | events/s |")
    assert "Engine >= 20x" not in part and "Engine recall" not in part
    assert part.endswith("Targets:\n\n- Worker >= 70% of the passthrough's events/s: 47%, missed by 23 points.\n"
                         "  Why: CPU per event.")
    # written again by a later detection-only run: still one line saying where it comes from
    again = "## Redaction\n\n`powersell-pipeline bench redaction --only detection --repeat 3` on x; y.\n\n" + part
    assert bench.previous_e2e_part(again) == part
    assert bench.previous_e2e_part("## Redaction\n\nnothing else\n") is None
