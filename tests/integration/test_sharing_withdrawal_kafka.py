"""Sharing decided at send time on real Kafka: after a shop withdraws sharing with a partner,
replaying its older events (stamped while sharing was granted) sends none of them to the
partner, while they are still redacted for internal use (the connection is still granted)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.integration.connector_rig import end_offsets
from tests.integration.test_consent_kafka import (OUTPUTS, event, grant, ids, new_shop, outputs_after, publish,  # noqa: F401
                                                  publisher, sibling, worker, worker_env)

pytestmark = pytest.mark.kafka


def test_when_sharing_is_withdrawn_then_replayed_older_events_never_reach_the_partner(kafka, worker, publisher):
    shop = new_shop()
    marker = sibling(shop)
    older = [event("raw.orders", shop, s) for s in (10, 20, 30)]
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(shop), grant(shop, 0, "THIRD_PARTY_SHARING", "swiftship"), *older)
    first = outputs_after(kafka, since, lambda r: ids(r, "partner.swiftship") >= {rec["event_id"] for *_, rec in older})
    assert ids(first, "partner.swiftship") >= {rec["event_id"] for *_, rec in older}

    withdrawn_at = (datetime.now(timezone.utc) - event("raw.orders", shop, 0)[2]["event_time"]).total_seconds()
    replay = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(shop, withdrawn_at, "THIRD_PARTY_SHARING", "swiftship", status="WITHDRAWN"), grant(marker),
            *older, event("raw.orders", marker, 1))  # a backfill: the same events again, then a marker behind them
    got = outputs_after(kafka, replay, lambda r: ids(r, "redacted.orders", marker))
    assert ids(got, "redacted.orders", shop) == {rec["event_id"] for *_, rec in older}  # still processed internally
    assert not ids(got, "partner.swiftship") & {rec["event_id"] for *_, rec in older}   # never disclosed again
