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
from powersell.ledger import Handover, Input, Outcome, implied_outcomes, position_id, reconcile
from streams.outcome_log import SCHEMA as OUTCOME_SCHEMA
from streams.outcome_log import filtered_entry_at, filtered_outcome, outcome_key, source_header

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
    monkeypatch.setattr(rc, "aggregation_ledger", lambda settings, since, app_id: (nothing_missing("aggregator"), []))
    assert rc.cmd_reconcile(Namespace(since=None, json=False), settings=None) == 1
    out = capsys.readouterr().out
    assert "missing: e2  (not read yet)" in out and "filtered                1  (no_consent 1)" in out
    assert "stage aggregator" in out and "aggregated              1" in out
    assert rc.cmd_reconcile(Namespace(since="1h", json=True), settings=None) == 1
    import json
    stages = json.loads(capsys.readouterr().out)["stages"]
    doc = stages["redactor"]
    assert doc["missing_ids"] == ["e2"] and doc["not_read_yet_ids"] == ["e2"] and doc["published"] == 1
    assert stages["aggregator"]["missing"] == 0 and stages["aggregator"]["published"] == 1


def nothing_missing(stage: str):
    return reconcile(stage, [raw(0)], [Outcome("published", event_id="e0")])


def test_when_only_the_aggregation_stage_misses_an_event_then_exit_code_1_and_it_is_named(monkeypatch, capsys):
    aggregation = reconcile("aggregator", [raw(0, topic="redacted.orders"), raw(1, topic="redacted.orders")],
                            [Outcome("published", event_id="e0")])
    monkeypatch.setattr(rc, "privacy_ledger", lambda settings, since: (nothing_missing("redactor"), []))
    monkeypatch.setattr(rc, "aggregation_ledger", lambda settings, since, app_id: (aggregation, []))
    assert rc.cmd_reconcile(Namespace(since=None, json=False), settings=None) == 1
    captured = capsys.readouterr()
    assert "missing: e1" in captured.out and "stage aggregator" in captured.err


def test_when_nothing_is_missing_then_exit_code_0(monkeypatch, capsys):
    ledger = reconcile("redactor", [raw(0)], [Outcome("published", event_id="e0")])
    monkeypatch.setattr(rc, "privacy_ledger", lambda settings, since: (ledger, []))
    monkeypatch.setattr(rc, "aggregation_ledger", lambda settings, since, app_id: (nothing_missing("aggregator"), []))
    assert rc.cmd_reconcile(Namespace(since=None, json=False), settings=None) == 0
    assert capsys.readouterr().out.count("missing                 0") == 2


def test_reconcile_is_a_command_of_the_command_line():
    from powersell.cli import build_parser
    args = build_parser().parse_args(["reconcile", "--since", "2h", "--json"])
    assert args.func is rc.cmd_reconcile and args.since == "2h" and args.json and args.aggregation_app_id is None
    assert build_parser().parse_args(["reconcile", "--aggregation-app-id", "agg-x"]).aggregation_app_id == "agg-x"


# ---------------------------------------------------------------- the aggregation stage
def red(i: int, event_id: str | None = None, topic: str = "redacted.orders", partition: int = 0) -> Input:
    return raw(i, event_id, topic, partition)


def test_a_consumed_copy_without_an_outcome_of_its_own_is_counted_and_one_not_consumed_is_not():
    filtered = Outcome("filtered", "late", "e1", ("redacted.orders", 0, 1))
    dead = Outcome("dead_lettered", "implausible_time", position=("redacted.orders", 0, 2))
    handovers = [Handover("e0", ("redacted.orders", 0, 0), True), Handover("e1", ("redacted.orders", 0, 1), True),
                 Handover(None, ("redacted.orders", 0, 2), True), Handover("e3", ("redacted.orders", 0, 3), False)]
    implied = implied_outcomes(handovers, [filtered, dead])
    assert implied == [Outcome("published", event_id="e0", position=("redacted.orders", 0, 0))]
    ledger = reconcile("aggregator", [red(0), red(1), red(2), red(3)], [filtered, dead, *implied])
    assert ledger.published == 1 and ledger.filtered == {"late": 1} and ledger.dead_lettered == {"implausible_time": 1}
    assert ledger.missing == ["e3"] and ledger.in_several_places == 0


def test_a_duplicate_copy_filtered_beside_the_counted_one_is_both_counted_and_filtered_not_in_two_places():
    inputs = [red(0, "same"), red(1, "same")]
    filtered = Outcome("filtered", "duplicate", "same", ("redacted.orders", 0, 1))
    handovers = [Handover("same", ("redacted.orders", 0, 0), True), Handover("same", ("redacted.orders", 0, 1), True)]
    ledger = reconcile("aggregator", inputs, [filtered, *implied_outcomes(handovers, [filtered])])
    assert (ledger.events, ledger.published, ledger.filtered) == (1, 1, {"duplicate": 1})
    assert ledger.in_several_places == 0 and ledger.duplicated == 0 and ledger.ok


def test_a_late_copy_beside_a_counted_one_is_still_in_two_places():
    filtered = Outcome("filtered", "late", "same", ("redacted.orders", 0, 1))
    ledger = reconcile("aggregator", [red(0, "same"), red(1, "same")],
                       [filtered, Outcome("published", event_id="same", position=("redacted.orders", 0, 0))])
    assert ledger.in_several_places == 1


def test_a_copy_that_does_not_name_its_source_is_matched_by_event_id():
    filtered = Outcome("filtered", "stale", "e1", ("powersell-aggregator-shards", 2, 9))
    handovers = [Handover("e0", None, True), Handover("e1", None, True)]
    implied = implied_outcomes(handovers, [filtered])
    assert implied == [Outcome("published", event_id="e0")]
    ledger = reconcile("aggregator", [red(0), red(1)], [filtered, *implied])
    assert ledger.ok and ledger.published == 1 and ledger.filtered == {"stale": 1}


def test_a_copy_forwarded_twice_and_counted_twice_is_a_duplicate_not_a_second_event():
    handovers = [Handover("e0", ("redacted.orders", 0, 0), True)] * 2
    ledger = reconcile("aggregator", [red(0)], implied_outcomes(handovers, []))
    assert ledger.published == 1 and (ledger.duplicated, ledger.extra_outcomes) == (1, 1)


def test_a_redacted_event_that_was_never_forwarded_is_missing_unless_the_group_has_not_read_it():
    inputs = [red(0), red(1), red(2)]
    handovers = [Handover("e0", ("redacted.orders", 0, 0), True), Handover("e2", ("redacted.orders", 0, 2), False)]
    ledger = reconcile("aggregator", inputs, implied_outcomes(handovers, []))
    assert ledger.missing == ["e1", "e2"]
    # e1: forward committed past it and there is no copy, a loss; e2's copy is not consumed yet
    assert rc.not_yet_read(ledger, inputs, {("redacted.orders", 0): 3}, handovers) == ["e2"]
    assert rc.not_yet_read(ledger, inputs, {("redacted.orders", 0): 1}, handovers) == ["e1", "e2"]


def agg_dead(source_topic="redacted.orders", offset=3, original=b"x", stage="aggregator", reason="implausible_time"):
    return REGISTRY.encode("com.powersell.pipeline.ops.DeadLetter", dead_letter_record(
        stage=stage, reason=reason, message="m", original_value=original, source_topic=source_topic,
        source_partition=1 if offset is not None else None, source_offset=offset))


def test_the_aggregation_workers_filtered_decisions_and_dead_letters_are_its_outcomes_and_no_one_elses():
    _, filtered = filtered_entry_at(REGISTRY, "aggregator", ("redacted.orders", 1, 4), "late", "e4")
    assert rc.aggregation_outcome_of(REGISTRY, "ops.outcomes", filtered) == Outcome(
        "filtered", "late", "e4", ("redacted.orders", 1, 4))
    _, privacy = filtered_entry_at(REGISTRY, "redactor", ("raw.orders", 1, 4), "no_consent", "e4")
    assert rc.aggregation_outcome_of(REGISTRY, "ops.outcomes", privacy) is None
    assert rc.outcome_of(REGISTRY, "ops.outcomes", filtered) is None  # and the privacy stage does not take it
    assert rc.aggregation_outcome_of(REGISTRY, "ops.dead-letters", agg_dead()) == Outcome(
        "dead_lettered", "implausible_time", position=("redacted.orders", 1, 3))
    assert rc.aggregation_outcome_of(REGISTRY, "ops.dead-letters", agg_dead(stage="redactor")) is None
    assert rc.aggregation_outcome_of(REGISTRY, "ops.dead-letters",
                                     agg_dead("analytics.aggregates", None, reason="encode_failed")) is None
    # a dead letter without a position (a copy forwarded before copies named their source): by the original's id
    order = REGISTRY.encode(rc_topic("redacted.orders"), redacted_order("e9"))
    assert rc.aggregation_outcome_of(REGISTRY, "ops.dead-letters", agg_dead(offset=None, original=order)) == Outcome(
        "dead_lettered", "implausible_time", event_id="e9")
    assert rc.aggregation_outcome_of(REGISTRY, "ops.dead-letters", agg_dead(offset=None, original=b"junk")) is None


def rc_topic(name: str) -> str:
    from pipeline_core.topics import topic
    return topic(name).value_schema


def redacted_order(event_id: str) -> dict:
    from tests.unit.test_aggregation_shards import topic_of, workload  # redacted records as the aggregator reads them
    return {**next(r for r in workload(orders=1) if topic_of(r) == "redacted.orders"), "event_id": event_id}


def test_a_shard_copy_is_a_handover_when_it_is_an_owners_copy_and_consumed_when_behind_the_committed_offset():
    header = [source_header(2, 40)]
    assert rc.handover_of(REGISTRY, 0, 7, b"redacted.orders", b"v", header, committed=8) == Handover(
        None, ("redacted.orders", 2, 40), True)
    assert rc.handover_of(REGISTRY, 0, 8, b"redacted.orders", b"v", header, committed=8).consumed is False
    assert rc.handover_of(REGISTRY, 0, 7, b"redacted.products#lookup", b"v", [], committed=8) is None
    assert rc.handover_of(REGISTRY, 0, 7, b"tick", b"", [], committed=8) is None
    order = REGISTRY.encode(rc_topic("redacted.orders"), redacted_order("e9"))
    assert rc.handover_of(REGISTRY, 0, 7, b"redacted.orders", order, [], committed=-1) == Handover("e9", None, False)
