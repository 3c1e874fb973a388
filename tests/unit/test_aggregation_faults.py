"""Issue 15, finding 4: one cell that cannot be published costs that cell only, a cell is marked
published only once it was sent, and an event time far in the future is refused before it can
move the watermark."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.aggregation import SCHEMA, AddOutcome, Aggregator, DisclosureRules
from tests.unit.test_aggregation_aggregator import OPEN, REG, T0, feed, order, product

NOW = T0 + timedelta(days=3)
HUGE = "9999999999999999.99"  # the largest unit price decimal(18,2) holds: 1,000 of them overflow a cell's GMV


def encode(record):
    return REG.encode(SCHEMA, record)


def overflow_and_normal_orders():
    return [order("big", "s1", "b1", T0 + timedelta(minutes=1), [("x", 1000, HUGE)], province="Huế"),
            order("ok1", "s2", "b2", T0 + timedelta(minutes=2), [("x", 1, "10.00")], province="Hà Nội"),
            order("ok2", "s3", "b3", T0 + timedelta(minutes=3), [("x", 2, "10.00")], province="Hà Nội")]


def test_when_one_cells_gmv_overflows_the_schema_then_only_the_cells_holding_it_fail_and_the_rest_encode():
    from streams.aggregation.publish import encode_each
    agg = Aggregator(rules=OPEN)
    feed(agg, overflow_and_normal_orders())
    ready, failed = encode_each(agg.pending(NOW), encode)
    failed_cells = {(p.key.province, p.key.category) for p, _ in failed}
    ready_cells = {(p.key.province, p.key.category) for p, _ in ready}
    # Huế and every roll-up over it (the country total) hold the overflowing GMV, hourly and daily alike
    assert failed_cells == {("Huế", None), ("Huế", "unknown"), (None, None), (None, "unknown")}
    assert ready_cells == {("Hà Nội", None), ("Hà Nội", "unknown")}
    assert len(ready) == 4 and len(failed) == 8
    assert all("gmv" in message and HUGE not in message for _, message in failed)  # names the field, not the value


def test_when_cells_are_settled_then_only_sent_ones_count_as_published_and_failed_ones_are_not_retried_unchanged():
    from streams.aggregation.publish import encode_each
    agg = Aggregator(rules=OPEN)
    feed(agg, overflow_and_normal_orders())
    ready, failed = encode_each(agg.pending(NOW), encode)
    agg.settle(sent=[p for p, _ in ready], failed=[p for p, _ in failed])
    assert all(p.cell.version == 1 for p, _ in ready) and all(p.cell.version == 0 for p, _ in failed)
    assert agg.pending(NOW + timedelta(minutes=1)) == []          # nothing new, and the failures are not repeated
    # a change to a failed cell's content (the big order cancelled) makes it publishable again
    feed(agg, [order("big", "s1", "b1", T0 + timedelta(minutes=1), [("x", 1000, HUGE)], province="Huế",
                     update=T0 + timedelta(minutes=9), status="CANCELLED")])
    again, failed_again = encode_each(agg.pending(NOW + timedelta(minutes=2)), encode)
    assert failed_again == [] and {(p.key.province, p.key.category) for p, _ in again} >= {(None, None)}


def test_when_a_send_fails_then_the_cell_is_published_again_at_the_next_tick():
    agg = Aggregator(rules=OPEN)
    feed(agg, overflow_and_normal_orders()[1:])
    first = agg.pending(NOW)
    agg.settle(retry=first)                                           # the broker did not acknowledge them
    assert all(p.cell.version == 0 for p in first)
    second = agg.pending(NOW + timedelta(seconds=5))
    assert [p.text for p in second] == [p.text for p in first] and all(p.record["version"] == 1 for p in second)
    agg.settle(sent=second)
    assert agg.pending(NOW + timedelta(seconds=10)) == []


def test_when_an_order_is_dated_in_year_9999_then_it_is_refused_and_later_orders_still_count():
    from streams.aggregation.errors import ImplausibleTime
    agg = Aggregator(rules=OPEN)
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc)
    with pytest.raises(ImplausibleTime) as refused:
        agg.add("redacted.orders", order("o9999", "s1", "b1", far, [("x", 1, "1.00")]), now=NOW)
    assert refused.value.reason == "implausible_time" and "9999" not in str(refused.value)
    assert agg.watermark_ms == 0
    assert feed(agg, [order("o1", "s1", "b1", T0, [("x", 1, "1.00")])]) == [AddOutcome.APPLIED]


@pytest.mark.parametrize("field, ahead, refused", [
    ("create_time", timedelta(hours=23), False),
    ("create_time", timedelta(days=1, seconds=1), True),
    ("update_time", timedelta(days=2), True),
    ("event_time", timedelta(days=400), True),
])
def test_when_an_order_time_is_ahead_of_the_clock_then_more_than_a_day_is_refused(field, ahead, refused):
    from streams.aggregation.errors import ImplausibleTime
    rec = order("o1", "s1", "b1", T0, [("x", 1, "1.00")])
    rec[field] = T0 + ahead
    agg = Aggregator(rules=OPEN)
    if refused:
        with pytest.raises(ImplausibleTime):
            agg.add("redacted.orders", rec, now=T0)
    else:
        assert agg.add("redacted.orders", rec, now=T0) is AddOutcome.APPLIED


def test_when_a_product_is_dated_far_ahead_then_it_is_refused_and_the_skew_is_configurable():
    from streams.aggregation.errors import ImplausibleTime
    rec = product("p1", "s1", "A", T0 + timedelta(days=3))
    with pytest.raises(ImplausibleTime):
        Aggregator(rules=OPEN).add("redacted.products", rec, now=T0)
    tolerant = Aggregator(rules=DisclosureRules(k=1, dominance=1.0), max_future=timedelta(days=7))
    assert tolerant.add("redacted.products", rec, now=T0) is AddOutcome.APPLIED
