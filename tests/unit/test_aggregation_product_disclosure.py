"""Issue 15, finding 7: every published figure comes from at least k shops that contributed that
figure, product counts included, and complementary suppression covers the product counts too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.aggregation import Aggregator, DisclosureRules
from streams.aggregation.disclosure import SuppressionReason
from tests.unit.test_aggregation_aggregator import T0, cell, feed, order, product, published

SMALL, DOM = SuppressionReason.SMALL_CELL, SuppressionReason.DOMINANCE


@pytest.mark.parametrize("total, shops, top, rules, expected", [
    (0, 0, 0, DisclosureRules(k=2), None),                     # a zero comes from no shop
    (1, 1, 1, DisclosureRules(k=2), SMALL),                    # one shop's product activity
    (5, 2, 3, DisclosureRules(k=2, dominance=0.5), DOM),       # one shop made more than half of them
    (4, 2, 2, DisclosureRules(k=2, dominance=0.5), None),      # exactly half is not more than half
    (9, 9, 1, DisclosureRules(k=10), SMALL),
    (10, 10, 1, DisclosureRules(k=10), None),
])
def test_when_a_product_count_is_checked_then_its_own_shops_decide(total, shops, top, rules, expected):
    from streams.aggregation.disclosure import CountFacts, primary_count
    assert primary_count(CountFacts(total, shops, top), rules) is expected


def test_when_a_cell_holds_only_one_shops_new_product_then_it_is_published_suppressed():
    agg = Aggregator(rules=DisclosureRules(k=2, dominance=1.0))
    feed(agg, [product("p1", "s1", "Giày nam", T0 + timedelta(minutes=3))])
    out = published(agg)
    for granularity in ("HOURLY", "DAILY"):
        start = T0 if granularity == "HOURLY" else T0.replace(hour=0)
        for category in ("Giày nam", None):
            rec = cell(out, granularity, start, category=category)
            assert rec["suppressed"] and rec["suppression_reason"] == "SMALL_CELL"
            assert rec["new_products"] is None and rec["orders"] is None


def test_when_one_shop_made_most_of_a_cells_new_products_then_the_count_is_withheld_as_dominance():
    agg = Aggregator(rules=DisclosureRules(k=2, dominance=0.5))
    feed(agg, [product(f"p{i}", "s1", "Giày nam", T0 + timedelta(minutes=i)) for i in range(3)]
         + [product("q1", "s2", "Giày nam", T0 + timedelta(minutes=5))])
    rec = cell(published(agg), category="Giày nam")
    assert rec["suppressed"] and rec["suppression_reason"] == "DOMINANCE"


def orders_of(category_item, shops, minute=1):
    return [order(f"o-{shop}", shop, f"b-{shop}", T0 + timedelta(minutes=minute), [(category_item, 1, "10.00")])
            for shop in shops]


def test_when_a_categorys_new_products_come_from_one_shop_then_that_count_and_a_sibling_count_are_withheld():
    # Category A: orders of s1, s2; one new product, of s1 only (too few shops for that figure).
    # Category B: orders of s3, s4; new products of s3 and s4. The total's new products (3, of 3 shops) pass,
    # but total - B would give A away: B's count is withheld as complementary, the orders stay published.
    agg = Aggregator(rules=DisclosureRules(k=2, dominance=1.0))
    feed(agg, [product("a1", "s1", "A", T0), product("b1", "s3", "B", T0), product("b2", "s4", "B", T0)])
    feed(agg, orders_of("a1", ["s1", "s2"]) + orders_of("b1", ["s3", "s4"]))
    out = published(agg)
    a, b, total = (cell(out, category=c) for c in ("A", "B", None))
    assert not a["suppressed"] and not b["suppressed"] and not total["suppressed"]
    assert (a["orders"], b["orders"], total["orders"]) == (2, 2, 4)
    assert a["new_products"] is None and b["new_products"] is None and total["new_products"] == 3
    assert a["distinct_shops"] == 2 and total["distinct_shops"] == 4


def test_when_every_category_has_enough_shops_for_its_product_count_then_every_count_is_published():
    agg = Aggregator(rules=DisclosureRules(k=2, dominance=1.0))
    feed(agg, [product("a1", "s1", "A", T0), product("a2", "s2", "A", T0),
               product("b1", "s3", "B", T0), product("b2", "s4", "B", T0)])
    feed(agg, orders_of("a1", ["s1", "s2"]) + orders_of("b1", ["s3", "s4"]))
    out = published(agg)
    assert [cell(out, category=c)["new_products"] for c in ("A", "B", None)] == [2, 2, 4]


def test_when_a_product_count_becomes_publishable_later_then_the_cell_is_republished_with_it():
    agg = Aggregator(rules=DisclosureRules(k=2, dominance=1.0))
    feed(agg, [product("a1", "s1", "A", T0 + timedelta(minutes=1))])
    first = cell(dict(agg.due(T0 + timedelta(minutes=61))), category="A")
    feed(agg, [product("a2", "s2", "A", T0 + timedelta(minutes=2))])
    second = cell(dict(agg.due(T0 + timedelta(minutes=62))), category="A")
    assert first["suppressed"] and not second["suppressed"]
    assert second["new_products"] == 2 and second["version"] == first["version"] + 1
