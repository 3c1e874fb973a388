"""The aggregator end to end (no Kafka): measures, duplicates, replacement, lateness, versions,
disclosure, noise, and no identifier in the encoded output."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipeline_core.avro_codec import default_registry
from streams.aggregation import (SCHEMA, AddOutcome, Aggregator, DisclosureRules, LaplaceNoise, MixedCurrency,
                                 NoiseConfig, WindowPolicy, load_rates)
from streams.aggregation.cells import CellKey
from streams.aggregation.disclosure import derivable, hierarchy_equations
from streams.aggregation.windows import Granularity

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OPEN = DisclosureRules(k=1, dominance=1.0)  # publishes everything: for checking the numbers
REG = default_registry()
ORDER = "com.powersell.pipeline.redacted.RedactedOrderEvent"
PRODUCT = "com.powersell.pipeline.redacted.RedactedProductEvent"


def order(order_id, shop, buyer, create, items, *, update=None, status="COMPLETED", province="Hà Nội", country="VN",
          currency="VND", marketplace="SHOPEE", event_id=None, total=None):
    """A RedactedOrderEvent as the codec decodes it (encoded and decoded, so the shape is the real one)."""
    update = update or create
    rec = {"event_id": event_id or f"ev-{order_id}-{update.isoformat()}", "marketplace": marketplace, "shop_id": shop,
           "event_time": update, "ingest_time": update, "ingest_source": "INCREMENTAL_SYNC", "policy_version": "1",
           "order_id": order_id, "status": status, "create_time": create, "update_time": update, "currency": currency,
           "total_amount": Decimal(total or "0.00"), "shipping_fee": Decimal("1.00"),
           "buyer": {"buyer_user_id": buyer},
           "recipient": None if country is None else {"phone": "******78", "address": {"province": province, "country": country}},
           "buyer_note": None, "payment": None, "buyer_ip": None, "tracking_number": None,
           "items": [{"item_id": i, "sku_id": None, "product_title": "t", "quantity": q, "unit_price": Decimal(p)}
                     for i, q, p in items]}
    return REG.decode(REG.encode(ORDER, rec))[1]


def product(item_id, shop, category, created, updated=None, *, currency="VND", marketplace="SHOPEE", category_id="42"):
    updated = updated or created
    rec = {"event_id": f"pv-{item_id}-{updated.isoformat()}", "marketplace": marketplace, "shop_id": shop,
           "event_time": updated, "ingest_time": updated, "ingest_source": "FULL_SYNC", "policy_version": "1",
           "item_id": item_id, "status": "NORMAL", "title": "t", "description": None, "category_id": category_id,
           "category_name": category, "brand": None, "currency": currency, "skus": [], "created_time": created,
           "updated_time": updated}
    return REG.decode(REG.encode(PRODUCT, rec))[1]


def feed(agg, records):
    return [agg.add("redacted.products" if "item_id" in r else "redacted.orders", r) for r in records]


def published(agg, now=T0 + timedelta(days=3)):
    return {key: rec for key, rec in agg.due(now)}


def cell(records, granularity="HOURLY", start=T0, province=None, category=None, country="VN", marketplace="SHOPEE"):
    key = CellKey(Granularity(granularity), int(start.timestamp() * 1000), marketplace, country, province, category).text()
    return records[key]


# ---------------------------------------------------------------- measures, by hand
def hand_example():
    return [
        product("i1", "s1", "Đồ gia dụng", T0 + timedelta(minutes=1)),
        product("i2", "s2", "Giày nam", T0 - timedelta(days=3), T0 + timedelta(minutes=2)),
        order("o1", "s1", "b1", T0 + timedelta(minutes=5), [("i1", 2, "100.00"), ("i2", 1, "50.00")]),
        order("o2", "s2", "b2", T0 + timedelta(minutes=10), [("i2", 3, "30.00")], province="Hải Phòng"),
        order("o3", "s1", "b1", T0 + timedelta(minutes=20), [("i9", 1, "10.00")], province=None),
    ]


@pytest.mark.parametrize("province, category, expected", [
    (None, None, dict(orders=3, items_sold=7, gmv="350.00", avg_order_value="116.67", distinct_shops=2,
                      distinct_buyers=2, median_item_price="30.00", p90_item_price="100.00",
                      new_products=1, updated_products=1)),
    (None, "Giày nam", dict(orders=2, items_sold=4, gmv="140.00", avg_order_value="70.00", distinct_shops=2,
                            distinct_buyers=2, median_item_price="30.00", p90_item_price="50.00",
                            new_products=0, updated_products=1)),
    (None, "unknown", dict(orders=1, items_sold=1, gmv="10.00", distinct_shops=1, median_item_price="10.00")),
    ("Hà Nội", None, dict(orders=1, items_sold=3, gmv="250.00", distinct_shops=1, distinct_buyers=1,
                          median_item_price="50.00", p90_item_price="100.00", new_products=None, updated_products=None)),
    ("unknown", "unknown", dict(orders=1, gmv="10.00")),
    ("Hải Phòng", "Giày nam", dict(orders=1, items_sold=3, gmv="90.00", avg_order_value="90.00")),
])
def test_when_a_small_example_is_aggregated_then_each_measure_matches_the_hand_computed_value(
        province, category, expected):
    agg = Aggregator(rules=OPEN)
    assert all(feed(agg, hand_example()))
    rec = cell(published(agg), province=province, category=category)
    for name, value in expected.items():
        assert rec[name] == (Decimal(value) if isinstance(value, str) else value), name
    assert rec["currency"] == "VND" and rec["reporting_currency"] == "USD" and rec["version"] == 1
    assert rec["gmv_reporting"] == (rec["gmv"] * Decimal("0.0000380")).quantize(Decimal("0.01"))
    assert not rec["suppressed"] and rec["dp_epsilon"] is None


def test_when_an_order_has_no_country_then_the_currency_decides_it():
    agg = Aggregator(rules=OPEN)
    feed(agg, [order("o1", "s1", "b1", T0, [("i1", 1, "5.00")], country=None, currency="THB")])
    rec = cell(published(agg), country="TH")
    assert rec["orders"] == 1 and rec["currency"] == "THB" and rec["reporting_currency"] == "USD"


def test_when_a_cell_would_mix_currencies_then_the_order_is_refused_and_nothing_changes():
    agg = Aggregator(rules=OPEN)
    feed(agg, [order("o1", "s1", "b1", T0, [("i1", 1, "5.00")])])
    before = agg.to_dict()
    with pytest.raises(MixedCurrency) as error:
        agg.add("redacted.orders", order("o2", "s2", "b2", T0, [("i1", 1, "5.00")], currency="USD"))
    assert "USD" in str(error.value) and "o2" not in str(error.value)
    assert agg.to_dict() == before


# ---------------------------------------------------------------- measures, against ground truth
def generated(seed, n_orders=400):
    rng = random.Random(seed)
    shops = [f"shop{i}" for i in range(15)]
    categories = ["Đồ gia dụng", "Giày nam", "Mỹ phẩm"]
    products = {f"item{i}": (rng.choice(shops), rng.choice(categories)) for i in range(40)}
    events = [product(i, s, c, T0 - timedelta(days=10)) for i, (s, c) in products.items()]
    truth = {}
    for n in range(n_orders):
        oid, create = f"o{n}", T0 + timedelta(minutes=rng.randint(0, 179))
        items = [(rng.choice(list(products) + ["ghost"]), rng.randint(1, 3), f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}")
                 for _ in range(rng.randint(1, 3))]
        base = dict(order_id=oid, shop=rng.choice(shops), buyer=f"b{rng.randint(0, 60)}", create=create, items=items,
                    province=rng.choice(["Hà Nội", "Đà Nẵng", None]))
        versions = [order(**base)]
        if rng.random() < 0.3:   # a later status; sometimes a cancellation
            versions.append(order(**base, update=create + timedelta(minutes=30),
                                  status=rng.choice(["SHIPPED", "CANCELLED"])))
        if rng.random() < 0.2:   # connector re-read of a version already sent
            versions.append(rng.choice(versions))
        events.extend(versions)
        truth[oid] = max(versions, key=lambda r: r["update_time"])
    return events, truth, {i: c for i, (_, c) in products.items()}


def expected_cells(truth, categories):
    cells = defaultdict(lambda: {"orders": 0, "items": 0, "gmv": Decimal(0), "shops": set(), "buyers": set(), "prices": []})
    for rec in truth.values():
        if rec["status"] == "CANCELLED":
            continue
        province = rec["recipient"]["address"]["province"] or "unknown"
        for granularity, size in (("HOURLY", 3600), ("DAILY", 86400)):
            ts = int(rec["create_time"].timestamp())
            start = datetime.fromtimestamp(ts - ts % size, tz=UTC)
            cats = {categories.get(i["item_id"], "unknown") for i in rec["items"]}
            for prov in (province, None):
                for cat in [*cats, None]:
                    lines = [i for i in rec["items"] if cat is None or categories.get(i["item_id"], "unknown") == cat]
                    c = cells[(granularity, start, prov, cat)]
                    c["orders"] += 1
                    c["items"] += sum(i["quantity"] for i in lines)
                    c["gmv"] += sum(i["quantity"] * i["unit_price"] for i in lines)
                    c["shops"].add(rec["shop_id"])
                    c["buyers"].add(rec["buyer"]["buyer_user_id"])
                    c["prices"] += [i["unit_price"] for i in lines]
    return cells


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_when_generated_events_are_aggregated_then_every_cell_matches_totals_computed_from_the_events(seed):
    events, truth, categories = generated(seed)
    random.Random(seed).shuffle(events[40:])  # orders in any order, products first
    agg = Aggregator(rules=OPEN, windows=WindowPolicy({g: timedelta(days=30) for g in Granularity}))
    feed(agg, events)
    out = published(agg)
    expected = expected_cells(truth, categories)
    got = {(r["granularity"], r["window_start"], r["province"], r["category"]): r for r in out.values() if r["orders"]}
    assert set(got) == set(expected)
    for key, e in expected.items():
        r = got[key]
        prices = sorted(e["prices"])
        assert (r["orders"], r["items_sold"], r["gmv"]) == (e["orders"], e["items"], e["gmv"]), key
        assert (r["distinct_shops"], r["distinct_buyers"]) == (len(e["shops"]), len(e["buyers"])), key
        assert r["median_item_price"] == statistics.median_low(prices), key
        assert r["p90_item_price"] == prices[max(1, -(-9 * len(prices) // 10)) - 1], key


# ---------------------------------------------------------------- duplicates, replacement, lateness, versions
@pytest.mark.parametrize("copies", [1, 2, 5])
def test_when_events_are_delivered_several_times_then_counts_do_not_grow(copies):
    agg = Aggregator(rules=OPEN)
    outcomes = feed(agg, hand_example() * copies)
    assert outcomes.count(AddOutcome.DUPLICATE) == 5 * (copies - 1)
    rec = cell(published(agg))
    assert (rec["orders"], rec["gmv"], rec["new_products"], rec["updated_products"]) == (3, Decimal("350.00"), 1, 1)


@pytest.mark.parametrize("second, expected_orders, expected_gmv, outcome", [
    (dict(status="SHIPPED", items=[("i1", 4, "100.00")]), 1, "400.00", AddOutcome.APPLIED),
    (dict(status="CANCELLED", items=[("i1", 2, "100.00")]), 0, None, AddOutcome.APPLIED),
    (dict(status="SHIPPED", items=[("i1", 9, "100.00")], province="Huế"), 1, "900.00", AddOutcome.APPLIED),
])
def test_when_an_order_is_seen_again_then_its_new_version_replaces_the_earlier_contribution(
        second, expected_orders, expected_gmv, outcome):
    agg = Aggregator(rules=OPEN)
    first = order("o1", "s1", "b1", T0, [("i1", 2, "100.00")])
    assert agg.add("redacted.orders", first) is AddOutcome.APPLIED
    newer = order("o1", "s1", "b1", T0, update=T0 + timedelta(minutes=40), **{"items": second.pop("items"), **second})
    assert agg.add("redacted.orders", newer) is outcome
    assert agg.add("redacted.orders", first) is AddOutcome.STALE   # an old version read again changes nothing
    rec = cell(published(agg))
    assert not rec["suppressed"]  # an emptied cell protects no one: published as zeros
    assert (rec["orders"], rec["gmv"]) == (expected_orders, Decimal(expected_gmv or "0.00"))
    assert published(agg, T0 + timedelta(days=4)) == {}  # nothing changed since: nothing republished


def test_when_a_late_event_arrives_then_a_new_version_with_the_right_totals_is_published_and_too_late_is_dropped():
    agg = Aggregator(rules=OPEN)
    feed(agg, [order("o1", "s1", "b1", T0 + timedelta(minutes=5), [("i1", 1, "10.00")]),
               order("o2", "s2", "b2", T0 + timedelta(minutes=70), [("i1", 1, "20.00")])])  # watermark 10:10
    v1 = cell(dict(agg.due(T0 + timedelta(minutes=70))))
    assert (v1["version"], v1["orders"], v1["gmv"]) == (1, 1, Decimal("10.00"))
    assert agg.add("redacted.orders", order("o3", "s3", "b3", T0 + timedelta(minutes=50), [("i1", 1, "5.00")],
                                            update=T0 + timedelta(minutes=65))) is AddOutcome.APPLIED
    v2 = cell(dict(agg.due(T0 + timedelta(minutes=71))))
    assert (v2["version"], v2["orders"], v2["gmv"]) == (2, 2, Decimal("15.00"))
    # the watermark passes 11:00 (end + 1 h): the hourly window closes, the daily one still takes the order
    feed(agg, [order("o4", "s1", "b1", T0 + timedelta(minutes=125), [("i1", 1, "1.00")])])
    agg.due(T0 + timedelta(minutes=126))  # the worker's timer: the wall clock caps how far event time may run ahead
    late = order("o5", "s4", "b4", T0 + timedelta(minutes=30), [("i1", 1, "7.00")], update=T0 + timedelta(minutes=126))
    assert agg.add("redacted.orders", late) is AddOutcome.APPLIED
    out = dict(agg.due(T0 + timedelta(days=2)))
    assert (cell(out, "DAILY", datetime(2026, 11, 20, tzinfo=UTC))["orders"]) == 5
    assert CellKey(Granularity.HOURLY, int(T0.timestamp() * 1000), "SHOPEE", "VN", None, None).text() not in out
    feed(agg, [order("o6", "s1", "b1", T0 + timedelta(days=1, hours=7), [("i1", 1, "1.00")])])  # day closes
    assert agg.add("redacted.orders", order("o7", "s5", "b5", T0, [("i1", 1, "1.00")],
                                            update=T0 + timedelta(days=1, hours=7))) is AddOutcome.LATE


def test_when_the_state_is_saved_and_loaded_then_the_aggregator_continues_with_the_same_results():
    events, _, _ = generated(4, n_orders=120)
    whole = Aggregator(rules=OPEN)
    feed(whole, events)
    first = Aggregator(rules=OPEN)
    feed(first, events[:100])
    table = {}
    table.update(first.changes())
    table = {k: v for k, v in table.items() if v is not None}
    assert table == first.to_dict()
    second = Aggregator(rules=OPEN).load(table.items())
    feed(second, events[100:])
    assert second.to_dict() == whole.to_dict()
    assert published(second) == published(whole)


# ---------------------------------------------------------------- disclosure control in the records
def shops_orders(n_shops, buyers_per_shop=2, gmv_of=lambda i: "10.00", province="Hà Nội", start=0):
    return [order(f"o{start + i}-{j}", f"s{start + i}", f"b{start + i}-{j}", T0 + timedelta(minutes=1), [("x", 1, gmv_of(i))],
                  province=province) for i in range(n_shops) for j in range(buyers_per_shop)]


def test_when_cells_are_small_or_dominated_then_they_are_published_suppressed_without_values():
    agg = Aggregator(rules=DisclosureRules(k=10, dominance=0.5))
    feed(agg, shops_orders(12, province="Hà Nội") + shops_orders(3, province="Huế", start=100)
         + shops_orders(12, province="Đà Nẵng", gmv_of=lambda i: "200.00" if i == 0 else "10.00", start=200)
         + shops_orders(12, province="Cần Thơ", start=300))
    out = published(agg)
    reasons = {r["province"]: r["suppression_reason"] for r in out.values()
               if r["granularity"] == "HOURLY" and r["category"] is None}
    assert reasons["Huế"] == "SMALL_CELL" and reasons["Đà Nẵng"] == "DOMINANCE"
    assert reasons["Hà Nội"] is None and reasons[None] is None
    for r in out.values():
        if r["suppressed"]:
            assert all(r[m] is None for m in ("orders", "gmv", "currency", "distinct_buyers", "median_item_price"))
    REG.encode(SCHEMA, next(iter(out.values())))


def test_when_one_province_is_suppressed_under_a_published_total_then_another_is_suppressed_too():
    agg = Aggregator(rules=DisclosureRules(k=10, dominance=0.9))
    feed(agg, shops_orders(12, province="Hà Nội") + shops_orders(3, province="Huế", start=100)
         + shops_orders(11, province="Cần Thơ", start=300))
    out = published(agg)
    hourly = {r["province"]: r["suppression_reason"] for r in out.values()
              if r["granularity"] == "HOURLY" and r["category"] is None}
    assert hourly == {None: None, "Hà Nội": None, "Huế": "SMALL_CELL", "Cần Thơ": "COMPLEMENTARY"}


@pytest.mark.parametrize("seed, k", [(6, 3), (7, 5), (8, 8)])
def test_when_generated_events_are_published_then_no_suppressed_cell_can_be_derived_from_published_ones(seed, k):
    events, _, _ = generated(seed, n_orders=250)
    agg = Aggregator(rules=DisclosureRules(k=k, dominance=0.3),
                     windows=WindowPolicy({g: timedelta(days=30) for g in Granularity}))
    feed(agg, events)
    records = list(published(agg).values())
    assert any(r["suppressed"] for r in records) and any(not r["suppressed"] for r in records)
    groups = defaultdict(dict)
    for r in records:
        groups[(r["granularity"], r["window_start"])][(r["province"], r["category"])] = r["suppressed"]
    for status in groups.values():
        keys = list(status)
        equations = hierarchy_equations(keys, lambda k: k[0], lambda k: k[1], lambda k, v: (v, k[1]),
                                        lambda k, v: (k[0], v))
        reasons = {key: ("X" if suppressed else None) for key, suppressed in status.items()}
        for parent, kids in equations:
            if not status[parent]:
                assert sum(status[kid] for kid in kids) != 1
        assert derivable(reasons, equations) == set()


# ---------------------------------------------------------------- differential privacy
def test_when_noise_is_not_configured_then_values_are_exact_and_no_epsilon_is_recorded():
    agg = Aggregator(rules=OPEN)
    feed(agg, hand_example())
    assert all(r["dp_epsilon"] is None for r in published(agg).values())
    assert agg.noise is None


@pytest.mark.parametrize("epsilon", [0.5, 2.0])
def test_when_noise_is_on_then_values_move_and_the_epsilon_is_recorded(epsilon):
    events, _, _ = generated(5, n_orders=300)
    exact, noisy = Aggregator(rules=OPEN), Aggregator(rules=OPEN, noise=LaplaceNoise(NoiseConfig(epsilon=epsilon),
                                                                                       random.Random(7)))
    feed(exact, events)
    feed(noisy, events)
    a, b = published(exact), published(noisy)
    assert a.keys() == b.keys()
    assert {r["dp_epsilon"] for r in b.values() if not r["suppressed"]} == {epsilon}
    assert any(a[k]["orders"] != b[k]["orders"] for k in a) and any(a[k]["gmv"] != b[k]["gmv"] for k in a)
    assert all(r["median_item_price"] is None and r["orders"] >= 0 for r in b.values() if not r["suppressed"])
    for rec in b.values():
        REG.encode(SCHEMA, rec)


# ---------------------------------------------------------------- nothing identifying leaves
def test_when_records_are_encoded_then_no_identifier_appears_in_the_bytes():
    shop_ids = [f"SHOPID{i:04d}X" for i in range(12)]
    events = [product("ITEMID0001X", shop_ids[0], "Giày nam", T0)]
    for i, shop in enumerate(shop_ids):
        for j in range(2):
            events.append(order(f"ORDERID{i:03d}{j}X", shop, f"PSEUDONYM{i:03d}{j}X", T0 + timedelta(minutes=i),
                                [("ITEMID0001X", 1, "99.00")], event_id=f"EVENTID{i:03d}{j}X"))
    for noise in (None, LaplaceNoise(rng=random.Random(1))):
        agg = Aggregator(rules=DisclosureRules(k=10), noise=noise)
        feed(agg, events)
        out = published(agg)
        assert out and any(not r["suppressed"] for r in out.values())
        blob = b"".join(key.encode() + REG.encode(SCHEMA, rec) for key, rec in out.items())
        for marker in (b"SHOPID", b"ORDERID", b"PSEUDONYM", b"EVENTID", b"ITEMID"):
            assert marker not in blob
        state_ids = {v for entry in agg.to_dict().values() for v in _strings(entry)}
        assert not any(s.startswith(("SHOPID", "ORDERID", "PSEUDONYM", "EVENTID", "ITEMID")) for s in state_ids)


def _strings(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_when_the_rate_table_is_loaded_then_it_has_dated_rates_for_both_currencies():
    rates = load_rates()
    assert rates.reporting_currency == "USD"
    assert rates.rate("VND", datetime(2026, 11, 20).date()) == Decimal("0.0000380")
    assert rates.rate("THB", datetime(2025, 6, 1).date()) == Decimal("0.0293")


@pytest.mark.parametrize("lost", ["cells", "order"])
def test_when_a_crash_lost_part_of_a_batchs_table_writes_then_the_replay_gives_the_same_totals(lost):
    """A batch writes many keys; a crash may persist some of them. The batch is then read again."""
    events, _, _ = generated(4, n_orders=120)
    whole = Aggregator(rules=OPEN)
    feed(whole, events)
    first = Aggregator(rules=OPEN)
    feed(first, events[:99])
    table = {k: v for k, v in first.changes().items() if v is not None}
    feed(first, events[99:100])                       # the batch whose writes were cut short
    batch = {k: v for k, v in first.changes().items() if v is not None}
    kept = {k: v for k, v in batch.items() if (k.startswith("o|") if lost == "cells" else not k.startswith("o|"))}
    table.update(kept)
    second = Aggregator(rules=OPEN).load(table.items())
    feed(second, events[99:])                         # the replay, then the rest
    assert published(second) == published(whole)
