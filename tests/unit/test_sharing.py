"""Sharing is decided at the event's time AND at send time: a withdrawal stops every later
disclosure, including re-reads and backfills of events stamped before it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from streams.consent import SHARING
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.sample_events import sample_events
from pipeline_core.topics import topic
from streams.consent import ConsentBook
from streams.policy import load_policy
from streams.redaction import Redactor
from streams.redaction_stage import Redacted, RedactionStage, StageMetrics
from streams.sharing import WITHDRAWN_AT_SEND, Partner, check_at_send, disclosure, shares
from pipeline_core.keystore import SecretKey
from tests.consent_helpers import LONG_AGO, change, granted_book

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
SHOP = "shopee:1"
PARTNER = Partner("swiftship", {"redacted.orders": ("event_id", "status")})


def book(*changes: tuple[str, datetime]) -> ConsentBook:
    the_book = ConsentBook()
    for status, when in changes:
        the_book.apply(*change(SHOP, status, when, purpose=SHARING, scope="swiftship"))
    return the_book


@pytest.mark.parametrize("changes, event_at, now, allowed, reason", [
    pytest.param([("GRANTED", T0)], T0 + timedelta(hours=1), T0 + timedelta(hours=2), True, None, id="granted-both"),
    pytest.param([("GRANTED", T0), ("WITHDRAWN", T0 + timedelta(hours=3))], T0 + timedelta(hours=1),
                 T0 + timedelta(hours=4), False, "consent_withdrawn", id="withdrawn-before-send"),
    pytest.param([("GRANTED", T0), ("WITHDRAWN", T0 + timedelta(hours=3))], T0 + timedelta(hours=1),
                 T0 + timedelta(hours=2), True, None, id="withdrawal-after-send"),
    pytest.param([("GRANTED", T0), ("WITHDRAWN", T0 + timedelta(hours=1)), ("GRANTED", T0 + timedelta(hours=3))],
                 T0 + timedelta(hours=2), T0 + timedelta(hours=4), False, "consent_withdrawn",
                 id="regranted-later-does-not-cover-the-gap"),
    pytest.param([], T0, T0, False, "no_consent", id="never-granted"),
    pytest.param([("GRANTED", T0)], T0 - timedelta(hours=1), T0 + timedelta(hours=1), False, "no_consent",
                 id="history-from-before-the-first-grant-is-not-shared"),
])
def test_when_sharing_is_decided_then_both_the_event_time_and_the_send_time_must_be_granted(
        changes, event_at, now, allowed, reason):
    decision = disclosure(book(*changes), SHOP, "swiftship", event_at, now)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_when_sharing_was_withdrawn_then_replayed_older_events_are_not_shared():
    the_book = book(("GRANTED", T0), ("WITHDRAWN", T0 + timedelta(days=1)))
    now = T0 + timedelta(days=2)
    old_events = [{"event_id": f"e{i}", "event_time": T0 + timedelta(hours=i), "policy_version": "v", "status": "PAID"}
                  for i in range(1, 20)]
    out = [s for e in old_events for s in shares((PARTNER,), the_book, "redacted.orders", SHOP, e, now)]
    assert len(out) == len(old_events) and all(s.record is None for s in out)
    assert {s.decision.reason for s in out} == {"consent_withdrawn"}


def test_when_sharing_is_withdrawn_between_building_and_sending_then_the_share_is_not_sent():
    events = [e for e in sample_events() if e[0] == "raw.orders"][:1]
    _, key, record = events[0]
    subject = key
    the_book = granted_book(events)
    the_book.apply(*change(subject, "GRANTED", LONG_AGO, purpose=SHARING, scope="swiftship"))
    now = [datetime.now(timezone.utc)]
    registry = default_registry()
    stage = RedactionStage(Redactor(load_policy(), registry, pseudonym_key=SecretKey(b"k" * 32),
                                    scanner=lambda text: (text, Counter())),
                           registry, StageMetrics(PipelineMetrics()), the_book,
                           partners=(Partner("swiftship", {"redacted.orders": ("event_id",)}),), clock=lambda: now[0])
    out = stage.process("raw.orders", 0, 0, key.encode(), registry.encode(topic("raw.orders").value_schema, record))
    assert isinstance(out, Redacted) and [t for t, _, _ in out.also] == ["partner.swiftship"]
    assert stage.at_send(key.encode(), out.also) == out.also
    the_book.apply(*change(subject, "WITHDRAWN", now[0], purpose=SHARING, scope="swiftship"))
    now[0] += timedelta(seconds=1)
    assert stage.at_send(key.encode(), out.also) == ()
    assert stage.metrics.registry.registry.get_sample_value(
        "powersell_records_filtered_total", {"stage": "sharing", "reason": WITHDRAWN_AT_SEND}) == 1


def test_when_sharing_is_withdrawn_before_sending_then_check_at_send_keeps_every_other_output():
    the_book = book(("GRANTED", T0), ("WITHDRAWN", T0 + timedelta(hours=2)))
    entries = (("redacted.orders", b"k", b"v"), ("partner.swiftship", b"e1", b"p"), ("audience.x", b"s", None))
    before = check_at_send(the_book, SHOP, entries, T0 + timedelta(hours=1))
    assert before.send == entries and before.withdrawn == ()
    after = check_at_send(the_book, SHOP, entries, T0 + timedelta(hours=3))
    assert after.send == (entries[0], entries[2])
    assert [(t, d.reason) for t, d in after.withdrawn] == [("partner.swiftship", "consent_withdrawn")]


def counted(the_stage, name, **labels) -> float:
    """The sum of a counter's samples whose labels include labels."""
    return sum(sample.value for metric in the_stage.metrics.registry.registry.collect() for sample in metric.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def test_when_shares_are_dropped_at_send_then_each_stage_still_balances_consumed_with_its_outcomes():
    orders = [e for e in sample_events() if e[0] == "raw.orders"]
    the_book = granted_book(orders)
    subjects = sorted({key for _, key, _ in orders})
    for subject in subjects:
        the_book.apply(*change(subject, "GRANTED", LONG_AGO, purpose=SHARING, scope="swiftship"))
    now = [datetime.now(timezone.utc)]
    registry = default_registry()
    stage = RedactionStage(Redactor(load_policy(), registry, pseudonym_key=SecretKey(b"k" * 32),
                                    scanner=lambda text: (text, Counter())),
                           registry, StageMetrics(PipelineMetrics()), the_book,
                           partners=(Partner("swiftship", {"redacted.orders": ("event_id",)}),), clock=lambda: now[0])
    withdrawn = subjects[0]
    built = []  # a batch is processed, then sent: the consent agent may run in between
    for i, (_, key, record) in enumerate(orders):
        out = stage.process("raw.orders", 0, i, key.encode(), registry.encode(topic("raw.orders").value_schema, record))
        assert isinstance(out, Redacted) and [t for t, _, _ in out.also] == ["partner.swiftship"]
        built.append((key, out))
    the_book.apply(*change(withdrawn, "WITHDRAWN", now[0], purpose=SHARING, scope="swiftship"))
    now[0] += timedelta(seconds=1)
    sent = [entry for key, out in built for entry in stage.at_send(key.encode(), out.also)]
    dropped = sum(1 for _, key, _ in orders if key == withdrawn)
    assert 1 <= dropped < len(orders), "the sample needs orders of the withdrawing shop and of others"
    assert len(sent) == len(orders) - dropped
    for name in ("redactor", "sharing"):
        consumed = counted(stage, "powersell_records_consumed_total", stage=name)
        produced = counted(stage, "powersell_records_produced_total", stage=name)
        filtered = counted(stage, "powersell_records_filtered_total", stage=name)
        dead = counted(stage, "powersell_records_dead_lettered_total", stage=name)
        assert consumed == len(orders) and consumed == produced + filtered + dead, name
    assert counted(stage, "powersell_records_produced_total", stage="sharing") == len(orders) - dropped
    assert counted(stage, "powersell_records_filtered_total", stage="sharing", reason=WITHDRAWN_AT_SEND) == dropped


def test_a_first_connection_grant_still_covers_the_shops_history():
    """The owner connected, so the shop's history is read; sharing, by contrast, starts at its grant."""
    the_book = ConsentBook()
    the_book.apply(*change(SHOP, "GRANTED", T0))
    assert the_book.connection(SHOP, "shopee", T0 - timedelta(days=30)).allowed
