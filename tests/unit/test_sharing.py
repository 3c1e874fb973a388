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
from streams.sharing import Partner, disclosure, shares
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
        "powersell_records_filtered_total", {"stage": "sharing", "reason": "consent_withdrawn"}) == 1
