from datetime import datetime, timedelta, timezone

import pytest

from pipeline_core.consent_records import ConsentState, consent_record, newer

T = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("current, candidate, applies", [
    (None, ConsentState("GRANTED", T), True),
    (ConsentState("GRANTED", T), ConsentState("WITHDRAWN", T + timedelta(seconds=1)), True),
    (ConsentState("WITHDRAWN", T + timedelta(seconds=1)), ConsentState("GRANTED", T), False),  # late report
    (ConsentState("GRANTED", T), ConsentState("WITHDRAWN", T), True),    # same instant: withdrawal wins
    (ConsentState("WITHDRAWN", T), ConsentState("GRANTED", T), False),
    (ConsentState("GRANTED", T), ConsentState("GRANTED", T), True),
    (ConsentState("GRANTED", T), ConsentState("EXPIRED", T), True),
])
def test_when_changes_arrive_in_any_order_then_effective_time_decides(current, candidate, applies):
    assert newer(current, candidate) is applies


def test_the_same_change_reported_twice_is_one_event():
    a = consent_record(subject_type="SHOP", subject_id="shopee:1", purpose="SHOP_DATA_CONNECTION", scope="shopee",
                       status="GRANTED", source="MARKETPLACE_PUSH", proof_ref="push:1", effective_time=T)
    b = consent_record(subject_type="SHOP", subject_id="shopee:1", purpose="SHOP_DATA_CONNECTION", scope="shopee",
                       status="GRANTED", source="POWERSELL_APP", proof_ref="code:1", effective_time=T)
    assert a[0] == b[0] == "shopee:1|SHOP_DATA_CONNECTION|shopee"
    assert a[1]["event_id"] == b[1]["event_id"]
