"""The ledger by event id (powersell.ledger) and the record readers of `reconcile` (powersell.reconcile),
without a broker: raw records and outcome records encoded as the pipeline writes them."""

from __future__ import annotations

from argparse import Namespace
from collections import Counter
from datetime import datetime, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import ConfigError
from pipeline_core.sample_events import sample_events
from powersell import reconcile as rc
from powersell.ledger import Input, Outcome, position_id, reconcile
from streams.outcome_log import SCHEMA as OUTCOME_SCHEMA
from streams.outcome_log import filtered_outcome, outcome_key

REGISTRY = default_registry()
RAW = {name: record for name, _, record in sample_events()}


def raw(i: int, event_id: str | None = None, topic: str = "raw.orders", partition: int = 0) -> Input:
    return Input((topic, partition, i), event_id if event_id is not None else f"e{i}")


def test_when_every_event_has_one_outcome_then_nothing_is_missing_and_each_is_counted_in_its_place():
    inputs = [raw(0), raw(1), raw(2), raw(3, event_id="")]
    outcomes = [Outcome("published", event_id="e0"),
                Outcome("filtered", "consent_withdrawn", "e1", ("raw.orders", 0, 1)),
                Outcome("dead_lettered", "cannot_decrypt", position=("raw.orders", 0, 2)),
                Outcome("dead_lettered", "corrupt_avro", position=("raw.orders", 0, 3))]
    ledger = reconcile("redactor", inputs, outcomes)
    assert ledger.ok and ledger.missing == []
    assert (ledger.records, ledger.events, ledger.published) == (4, 4, 1)
    assert ledger.filtered == {"consent_withdrawn": 1}
    assert ledger.dead_lettered == {"cannot_decrypt": 1, "corrupt_avro": 1}
    assert (ledger.duplicated, ledger.in_several_places, ledger.unmatched_outcomes) == (0, 0, 0)


def test_when_an_event_has_no_outcome_then_its_id_is_missing_and_nothing_else_is_said_of_it():
    ledger = reconcile("redactor", [raw(0), raw(1)], [Outcome("published", event_id="e0")])
    assert not ledger.ok and ledger.missing == ["e1"]
    assert ledger.as_dict()["missing"] == 1 and ledger.as_dict()["missing_ids"] == ["e1"]


def test_when_an_unreadable_record_has_no_dead_letter_then_it_is_missing_by_its_position():
    ledger = reconcile("redactor", [Input(("raw.shops", 2, 7), None)], [])
    assert ledger.missing == [position_id(("raw.shops", 2, 7))] == ["raw.shops/2@7"]


def test_when_an_outcome_is_written_twice_then_the_event_counts_once_in_its_place_and_once_as_duplicated():
    outcomes = [Outcome("published", event_id="e0")] * 3 + [Outcome("filtered", "no_consent", "e1", ("raw.orders", 0, 1))] * 2
    ledger = reconcile("redactor", [raw(0), raw(1)], outcomes)
    assert ledger.published == 1 and ledger.filtered == {"no_consent": 1}
    assert (ledger.duplicated, ledger.extra_outcomes) == (2, 3)


def test_when_a_connector_published_an_event_twice_then_two_outcomes_are_no_duplicate():
    inputs = [raw(0, "same"), raw(1, "same")]
    ledger = reconcile("redactor", inputs, [Outcome("published", event_id="same")] * 2)
    assert (ledger.records, ledger.events, ledger.published, ledger.duplicated) == (2, 1, 1, 0)


def test_when_one_copy_of_a_twice_published_event_has_an_outcome_then_the_event_is_not_missing():
    ledger = reconcile("redactor", [raw(0, "same"), raw(1, "same")], [Outcome("published", event_id="same")])
    assert ledger.ok and ledger.published == 1


def test_when_an_event_ends_in_two_places_then_both_count_and_it_is_reported():
    outcomes = [Outcome("published", event_id="e0"), Outcome("dead_lettered", "send_failed", position=("raw.orders", 0, 0))]
    ledger = reconcile("redactor", [raw(0)], outcomes)
    assert ledger.published == 1 and ledger.dead_lettered == {"send_failed": 1} and ledger.in_several_places == 1


def test_when_outcomes_belong_to_records_outside_the_inputs_then_they_are_counted_apart():
    outcomes = [Outcome("published", event_id="older"), Outcome("dead_lettered", "corrupt_avro", position=("raw.orders", 3, 9))]
    ledger = reconcile("redactor", [raw(0)], outcomes + [Outcome("published", event_id="e0")])
    assert ledger.unmatched_outcomes == 2 and ledger.ok


def test_when_a_dead_letter_names_a_position_then_it_matches_that_record_even_if_the_event_id_differs():
    inputs = [raw(0, "a"), raw(1, "b")]
    outcomes = [Outcome("dead_lettered", "oversize_output", position=("raw.orders", 0, 1)), Outcome("published", event_id="a")]
    assert reconcile("redactor", inputs, outcomes).missing == []


# ---------------------------------------------------------------- records as the pipeline writes them
def test_a_raw_record_is_known_by_its_event_id_and_an_unreadable_one_by_none():
    value = REGISTRY.encode("com.powersell.pipeline.raw.RawOrderEvent", RAW["raw.orders"])
    assert rc.raw_input(REGISTRY, "raw.orders", 1, 5, value) == Input(("raw.orders", 1, 5), RAW["raw.orders"]["event_id"])
    assert rc.raw_input(REGISTRY, "raw.orders", 1, 6, b"\xc3\x01garbage").event_id is None
    assert rc.raw_input(REGISTRY, "raw.orders", 1, 7, None).event_id is None


def test_a_filtered_decision_on_ops_outcomes_is_a_filtered_outcome_at_its_position():
    record = filtered_outcome(stage="redactor", reason="consent_withdrawn", event_id="abc", source_topic="raw.orders",
                              source_partition=2, source_offset=40)
    value = REGISTRY.encode(OUTCOME_SCHEMA, record)
    assert rc.outcome_of(REGISTRY, "ops.outcomes", value) == Outcome("filtered", "consent_withdrawn", "abc",
                                                                        ("raw.orders", 2, 40))
    assert outcome_key(record) == b"abc"
    assert outcome_key({**record, "event_id": None}) == b"raw.orders/2@40"


def test_only_the_redactors_dead_letters_of_raw_records_are_its_outcomes():
    def dead(stage, source_topic, offset=3):
        return REGISTRY.encode("com.powersell.pipeline.ops.DeadLetter", dead_letter_record(
            stage=stage, reason="corrupt_avro", message="m", original_value=b"x", source_topic=source_topic,
            source_partition=1, source_offset=offset))
    assert rc.outcome_of(REGISTRY, "ops.dead-letters", dead("redactor", "raw.products")) == Outcome(
        "dead_lettered", "corrupt_avro", position=("raw.products", 1, 3))
    assert rc.outcome_of(REGISTRY, "ops.dead-letters", dead("sharing", "raw.orders")) is None   # a side output's
    assert rc.outcome_of(REGISTRY, "ops.dead-letters", dead("consent", "consent.events")) is None
    assert rc.outcome_of(REGISTRY, "ops.dead-letters", dead("aggregator", "redacted.orders", None)) is None


def test_every_outcome_of_the_redaction_stage_is_found_by_the_ledger():
    """The stage's real outputs (redacted bytes, a filtered decision as the worker logs it, a dead letter) read back
    by reconcile's readers: every input event has its place."""
    from pipeline_core.keystore import SecretKey
    from pipeline_core.topics import topic
    from streams.outcome_log import filtered_entry
    from streams.policy import load_policy
    from streams.redaction import Redactor
    from streams.redaction_stage import DeadLettered, Filtered, Redacted, RedactionStage, StageMetrics
    from pipeline_core.metrics import PipelineMetrics
    from tests.consent_helpers import granted_book

    events = sample_events()
    book = granted_book([e for e in events if e[2]["marketplace"] != "LAZADA"])  # Lazada's shop never granted
    stage = RedactionStage(Redactor(load_policy(), REGISTRY, pseudonym_key=SecretKey(b"k" * 32),
                                    scanner=lambda text: (text, Counter())), REGISTRY, StageMetrics(PipelineMetrics()), book)
    inputs, outputs = [], []
    records = [(t, k.encode(), REGISTRY.encode(topic(t).value_schema, r)) for t, k, r in events]
    records.append(("raw.orders", b"shopee:1", b"\xc3\x01not avro"))
    for offset, (t, key, value) in enumerate(records):
        inputs.append(rc.raw_input(REGISTRY, t, 0, offset, value))
        out = stage.process(t, 0, offset, key, value)
        if isinstance(out, Redacted):
            outputs.append((out.topic, out.value))
        elif isinstance(out, Filtered):
            message = Namespace(topic=t, partition=0, offset=offset)
            outputs.append(("ops.outcomes", filtered_entry(REGISTRY, "redactor", message, out.reason, out.event_id)[1]))
        else:
            assert isinstance(out, DeadLettered)
            outputs.append(("ops.dead-letters", REGISTRY.encode("com.powersell.pipeline.ops.DeadLetter", out.record)))
    outputs.append(("redacted.shops", None))  # a tombstone (erasure) is nobody's outcome
    ledger = reconcile("redactor", inputs, [o for t, v in outputs if (o := rc.outcome_of(REGISTRY, t, v))])
    assert ledger.missing == [] and ledger.events == 10
    assert (ledger.published, ledger.filtered, ledger.dead_lettered) == (6, {"no_consent": 3}, {"unknown_fingerprint": 1})
    assert ledger.unmatched_outcomes == 0 and ledger.duplicated == 0


def test_the_missing_events_past_the_committed_offset_are_not_read_yet():
    inputs = [raw(0), raw(5), raw(9, topic="raw.shops")]
    ledger = reconcile("redactor", inputs, [])
    assert rc.not_yet_read(ledger, inputs, {("raw.orders", 0): 5}) == ["e5", "e9"]  # raw.shops: nothing committed


@pytest.mark.parametrize("text, expected", [
    ("2h", datetime(2026, 12, 6, 1, 0, tzinfo=timezone.utc)),
    ("90s", datetime(2026, 12, 6, 2, 58, 30, tzinfo=timezone.utc)),
    ("7d", datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)),
    ("2026-12-05T10:00:00", datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)),
    ("2026-12-05T10:00:00+07:00", datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)),
    (None, None),
])
def test_since_is_a_time_or_a_duration_back_from_now(text, expected):
    assert rc.parse_since(text, now=datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)) == expected


def test_when_since_is_neither_then_the_error_says_what_it_takes():
    with pytest.raises(ConfigError, match="ISO 8601 time nor a duration"):
        rc.parse_since("yesterday")


def test_the_report_prints_ids_and_counts_only_and_exit_code_1_when_missing(monkeypatch, capsys):
    ledger = reconcile("redactor", [raw(0), raw(1), raw(2)], [Outcome("published", event_id="e0"),
                                                              Outcome("filtered", "no_consent", "e1", None)])
    monkeypatch.setattr(rc, "privacy_ledger", lambda settings, since: (ledger, ["e2"]))
    assert rc.cmd_reconcile(Namespace(since=None, json=False), settings=None) == 1
    out = capsys.readouterr().out
    assert "missing: e2  (not read yet)" in out and "filtered                1  (no_consent 1)" in out
    assert rc.cmd_reconcile(Namespace(since="1h", json=True), settings=None) == 1
    import json
    doc = json.loads(capsys.readouterr().out)["stages"]["redactor"]
    assert doc["missing_ids"] == ["e2"] and doc["not_read_yet_ids"] == ["e2"] and doc["published"] == 1


def test_when_nothing_is_missing_then_exit_code_0(monkeypatch, capsys):
    ledger = reconcile("redactor", [raw(0)], [Outcome("published", event_id="e0")])
    monkeypatch.setattr(rc, "privacy_ledger", lambda settings, since: (ledger, []))
    assert rc.cmd_reconcile(Namespace(since=None, json=False), settings=None) == 0
    assert "missing                 0" in capsys.readouterr().out


def test_reconcile_is_a_command_of_the_command_line():
    from powersell.cli import build_parser
    args = build_parser().parse_args(["reconcile", "--since", "2h", "--json"])
    assert args.func is rc.cmd_reconcile and args.since == "2h" and args.json
