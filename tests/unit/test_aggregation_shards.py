"""Sharding the aggregation (streams/aggregation/shards.py): N shards publish exactly what one
aggregator publishes, suppression included; routing, ownership and state keys."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from streams.aggregation import AddOutcome, Aggregator, DisclosureRules, WindowPolicy
from streams.aggregation.shards import (ShardOwnership, route, shard_of, split_state_key, state_key)
from tests.unit.test_aggregation_aggregator import T0, order, product

GROUPS = [("SHOPEE", "VN", "VND"), ("SHOPEE", "TH", "THB"), ("LAZADA", "VN", "VND"), ("LAZADA", "TH", "THB"),
          ("TIKTOK_SHOP", "VN", "VND"), ("TIKTOK_SHOP", "TH", "THB"), ("SHOPEE", "MY", "MYR"), ("LAZADA", "SG", "SGD")]
PROVINCES = ["P1", "P2", "P3"]
CATEGORIES = ["shoes", "kitchen", "toys", "phones"]


def workload(seed: int = 7, orders: int = 600):
    """Products then orders (some re-sent, some updated, some cancelled) over several groups, shops and hours,
    sized so that small-cell, dominance and complementary suppressions all happen at k=3."""
    rng = random.Random(seed)
    records, items = [], {}
    for g, (mp, _, currency) in enumerate(GROUPS):
        for i in range(12):
            item = f"{mp}-{g}-{i}"
            items.setdefault((mp, currency), []).append(item)
            created = T0 + timedelta(minutes=rng.randrange(0, 180))
            records.append(product(item, f"s{g}-{rng.randrange(6)}", rng.choice(CATEGORIES), created,
                                   created + timedelta(minutes=rng.choice((0, 30))), currency=currency, marketplace=mp))
    sent = []
    for n in range(orders):
        mp, country, currency = rng.choice(GROUPS)
        created = T0 + timedelta(minutes=rng.randrange(0, 240))
        lines = [(rng.choice(items[(mp, currency)]), rng.randrange(1, 4), f"{rng.randrange(1, 900)}.00")
                 for _ in range(rng.randrange(1, 3))]
        shop = f"{country}-{rng.randrange(8 if n % 5 else 2)}"  # a few dominant shops
        rec = order(f"o{n}", shop, f"b{rng.randrange(40)}", created, lines, country=country, currency=currency,
                    marketplace=mp, province=rng.choice(PROVINCES), status=rng.choice(["COMPLETED"] * 9 + ["CANCELLED"]))
        sent.append(rec)
        records.append(rec)
        if rng.random() < 0.1:
            records.append(rng.choice(sent))  # a duplicate
    return records


def topic_of(record) -> str:
    return "redacted.products" if "item_id" in record else "redacted.orders"


def published_content(records):
    """key -> the record without its version and publication time (what must match)."""
    return {key: {k: v for k, v in rec.items() if k not in ("version", "published_time")} for key, rec in records}


def run_single(records, rules, windows: WindowPolicy | None = None):
    agg = Aggregator(rules=rules, windows=windows or WindowPolicy())
    for r in records:
        agg.add(topic_of(r), r, T0 + timedelta(days=1))
    return published_content(agg.due(T0 + timedelta(days=2)))


def run_sharded(records, rules, shards):
    aggs = [Aggregator(rules=rules, owns=ShardOwnership(s, shards)) for s in range(shards)]
    outcomes = []
    for r in records:
        for copy in route(topic_of(r), r, shards):
            outcome = aggs[copy.shard].add(topic_of(r), r, T0 + timedelta(days=1))
            assert (outcome is AddOutcome.LOOKUP) == copy.lookup or outcome is AddOutcome.LATE
            outcomes.append(outcome)
    out, seen = {}, set()
    for agg in aggs:
        part = published_content(agg.due(T0 + timedelta(days=2)))
        assert not seen & part.keys(), "two shards published the same cell"
        seen |= part.keys()
        out.update(part)
    return out


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7])
def test_when_sharded_then_the_published_cells_equal_one_aggregators(shards):
    records, rules = workload(), DisclosureRules(k=3, dominance=0.6)
    single = run_single(records, rules)
    reasons = {rec["suppression_reason"] for rec in single.values()}
    assert {"SMALL_CELL", "DOMINANCE", "COMPLEMENTARY"} <= reasons, reasons  # the comparison covers every kind
    assert run_sharded(records, rules, shards) == single


def test_when_sharded_then_product_counts_are_marked_once():
    records, rules = workload(orders=0), DisclosureRules(k=1, dominance=1.0)
    single = run_single(records, rules)
    assert sum(rec["new_products"] or 0 for rec in single.values()) > 0
    assert run_sharded(records, rules, 4) == single


def test_an_order_goes_to_one_shard_and_a_product_to_every_shard_owner_first():
    o = order("o1", "s1", "b1", T0, [("i1", 1, "1.00")], country="TH", currency="THB", marketplace="LAZADA")
    p = product("i1", "s1", "shoes", T0, currency="THB", marketplace="LAZADA")
    assert [c.shard for c in route("redacted.orders", o, 5)] == [shard_of("LAZADA", "TH", 5)]
    copies = route("redacted.products", p, 5)
    assert sorted(c.shard for c in copies) == list(range(5))
    assert copies[0] == type(copies[0])(shard_of("LAZADA", "TH", 5), False)
    assert all(c.lookup for c in copies[1:])


def test_an_order_without_address_country_uses_its_currencys_country():
    o = order("o1", "s1", "b1", T0, [("i1", 1, "1.00")], country=None, currency="VND")
    assert route("redacted.orders", o, 8)[0].shard == shard_of("SHOPEE", "VN", 8)


def test_shard_of_is_stable_and_spreads_groups():
    assert shard_of("SHOPEE", "VN", 4) == shard_of("SHOPEE", "VN", 4)
    assert len({shard_of(mp, c, 4) for mp, c, _ in GROUPS}) > 1
    with pytest.raises(ValueError):
        shard_of("SHOPEE", "VN", 0)


def test_a_lookup_copy_feeds_the_category_but_marks_no_cell():
    owner = shard_of("SHOPEE", "VN", 2)
    other = Aggregator(owns=ShardOwnership(1 - owner, 2))
    p = product("i1", "s1", "shoes", T0, currency="VND")
    assert other.add("redacted.products", p) is AddOutcome.LOOKUP
    assert other.products and not other.cells


@pytest.mark.parametrize("key", ["c|HOURLY|2026-11-20T09:00:00Z|SHOPEE|VN||", "m|", "o|abc"])
def test_state_keys_round_trip(key):
    assert split_state_key(state_key(3, key)) == (3, key)


@pytest.mark.parametrize("bad", ["c|x", "x/c|", "3/"])
def test_a_state_key_without_a_shard_is_refused(bad):
    with pytest.raises(ValueError):
        split_state_key(bad)
