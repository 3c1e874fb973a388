"""The connectors' consent gate reads consent.events: a record that is not a consent record is refused
with a reason (and skipped by the gate), never a KeyError (issue 15, finding 2). Pure: no Kafka."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import DecodeError
from pipeline_core.sample_events import sample_events
from pipeline_core.topics import topic
from tests.consent_helpers import change

REGISTRY = default_registry()
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def shop_event_bytes() -> bytes:
    record = next(r for t, _, r in sample_events() if t == "raw.shops")
    return REGISTRY.encode(topic("raw.shops").value_schema, record)


@pytest.mark.parametrize("key, value, reason", [
    (b"shopee:1|SHOP_DATA_CONNECTION|shopee", shop_event_bytes(), "schema_mismatch"),   # a valid RawShopEvent
    (b"shopee:1|SHOP_DATA_CONNECTION|shopee", b"not avro", "not_single_object"),
    (None, b"anything", "missing_field"),
])
def test_when_a_record_is_not_a_consent_record_then_it_is_refused_with_a_reason(key, value, reason):
    from connectors.consent_gate import consent_change
    with pytest.raises(DecodeError) as refused:
        consent_change(REGISTRY, key, value)
    assert refused.value.reason == reason


def test_when_a_record_is_a_consent_change_or_a_tombstone_then_the_gate_reads_its_state():
    from connectors.consent_gate import consent_change
    key, record = change("shopee:1", "GRANTED", T0)
    name, state = consent_change(REGISTRY, key.encode(), REGISTRY.encode(topic("consent.events").value_schema, record))
    assert name == key and (state.status, state.effective_time) == ("GRANTED", T0)
    assert consent_change(REGISTRY, key.encode(), None) == (key, None)
