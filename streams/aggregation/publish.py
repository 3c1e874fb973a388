"""Cells of one hierarchy group -> AnalyticsAggregate records, with disclosure control and versions.

A cell is republished only when its published content changed (true values and suppression,
before noise), with version + 1. Nothing that identifies a shop, buyer or order is copied into
a record: only window, group labels, counts, sums, prices and the suppression reason.

Publishing is two steps, so a cell is marked published only once it was sent: `publish_group`
returns `Pending` records without touching the cells; the caller encodes and sends them and
then settles each one (Aggregator.settle): sent (the version and content are recorded), failed
for good (a record that cannot be encoded, e.g. a GMV beyond decimal(18,2): not retried until
its content changes) or to retry (a failed send: published again at the next tick).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Callable, Iterable

from pipeline_core.errors import SchemaError

from .cells import Cell, CellKey
from .disclosure import (CellFacts, CountFacts, DisclosureRules, SuppressionReason, complementary,
                         hierarchy_equations, primary, primary_count)
from .errors import UnknownRate
from .noise import CENT, LaplaceNoise
from .rates import RateTable

SCHEMA = "com.powersell.pipeline.analytics.AnalyticsAggregate"
MEASURES = ("orders", "items_sold", "currency", "gmv", "gmv_reporting", "reporting_currency", "avg_order_value",
            "distinct_shops", "distinct_buyers", "new_products", "updated_products", "median_item_price",
            "p90_item_price", "dp_epsilon")
PRODUCT_FIGURES = ("new_products", "updated_products")


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def facts_of(cell: Cell) -> CellFacts:
    return CellFacts(cell.distinct_shops, cell.distinct_buyers, cell.gmv, cell.top_shop_gmv, cell.orders)


def decide(cells: dict[CellKey, Cell], rules: DisclosureRules) -> dict[CellKey, SuppressionReason | None]:
    """Primary then complementary suppression over the cells of one group."""
    # An empty cell (its orders cancelled or moved, no products) protects no one: published as zeros.
    status = {key: None if cell.is_empty else primary(facts_of(cell), rules) for key, cell in cells.items()}
    equations = hierarchy_equations(cells, lambda k: k.province, lambda k: k.category,
                                    lambda k, v: replace(k, province=v), lambda k, v: replace(k, category=v))
    return complementary(status, equations, lambda k: (cells[k].gmv, cells[k].orders, k.text()))


def count_facts(cell: Cell, figure: str) -> CountFacts:
    products = cell.new_products if figure == "new_products" else cell.updated_products
    per_shop = Counter(products.values())
    return CountFacts(len(products), len(per_shop), max(per_shop.values(), default=0))


def decide_products(cells: dict[CellKey, Cell], status: dict[CellKey, SuppressionReason | None],
                    rules: DisclosureRules) -> dict[CellKey, dict[str, SuppressionReason]]:
    """Product counts withheld in cells that are published: figure -> reason, per cell.

    Only country-level cells carry product counts; their category cells add up to the
    all-categories cell. A suppressed cell hides its counts too, so it starts as an unknown."""
    country = {key: cell for key, cell in cells.items() if key.province is None}
    equations = hierarchy_equations(country, lambda k: None, lambda k: k.category, lambda k, v: k,
                                    lambda k, v: replace(k, category=v))
    withheld: dict[CellKey, dict[str, SuppressionReason]] = {}
    for figure in PRODUCT_FIGURES:
        facts = {key: count_facts(cell, figure) for key, cell in country.items()}
        figure_status = {key: status[key] or primary_count(facts[key], rules) for key in country}
        figure_status = complementary(figure_status, equations, lambda k: (facts[k].total, k.text()))
        for key, reason in figure_status.items():
            if reason is not None and status[key] is None:
                withheld.setdefault(key, {})[figure] = reason
    return withheld


def _rate(rates: RateTable | None, cell: Cell, key: CellKey) -> Decimal | None:
    if rates is None or cell.currency is None:
        return None
    try:
        return rates.rate(cell.currency, key.window.start.date())
    except UnknownRate:
        return None  # published without gmv_reporting rather than not at all


def true_measures(key: CellKey, cell: Cell, rates: RateTable | None) -> dict[str, Any]:
    rate = _rate(rates, cell, key)
    orders, gmv, country_level = cell.orders, cell.gmv, key.province is None
    return {
        "orders": orders, "items_sold": cell.items_sold, "currency": cell.currency, "gmv": _cents(gmv),
        "gmv_reporting": _cents(gmv * rate) if rate is not None else None,
        "reporting_currency": rates.reporting_currency if rate is not None else None,
        "avg_order_value": _cents(gmv / orders) if orders else None,
        "distinct_shops": cell.distinct_shops, "distinct_buyers": cell.distinct_buyers,
        "new_products": len(cell.new_products) if country_level else None,
        "updated_products": len(cell.updated_products) if country_level else None,
        "median_item_price": _cents(cell.price_quantile(0.5)), "p90_item_price": _cents(cell.price_quantile(0.9)),
        "dp_epsilon": None,
    }


def noisy_measures(key: CellKey, cell: Cell, rates: RateTable | None, noise: LaplaceNoise) -> dict[str, Any]:
    rate = _rate(rates, cell, key)
    out = noise.measures(cell, rate, with_products=key.province is None)
    gmv, orders = out.pop("gmv"), out["orders"]
    out.update({
        "currency": cell.currency, "gmv": gmv,
        "gmv_reporting": _cents(gmv * rate) if gmv is not None and rate is not None else None,
        "reporting_currency": rates.reporting_currency if gmv is not None and rate is not None else None,
        "avg_order_value": _cents(gmv / orders) if gmv is not None and orders else None,
        "median_item_price": None, "p90_item_price": None,
    })
    out.setdefault("new_products", None)
    out.setdefault("updated_products", None)
    return out


def _fingerprint(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Pending:
    """A cell's record, ready to send; the cell is marked published only when it is settled as sent."""

    key: CellKey
    cell: Cell
    record: dict[str, Any]
    fingerprint: str

    @property
    def text(self) -> str:
        return self.key.text()


def _shown(cell: Cell, reason: SuppressionReason | None, withheld: dict[str, SuppressionReason],
           content: dict[str, Any]) -> SuppressionReason | None:
    """A cell without orders whose every non-zero product count is withheld shows nothing: suppressed."""
    if reason is not None or not withheld or cell.distinct_shops:
        return reason
    if any(content.get(figure) for figure in PRODUCT_FIGURES if figure not in withheld):
        return None
    return min(withheld.values(), key=list(SuppressionReason).index)


def publish_group(cells: dict[CellKey, Cell], rules: DisclosureRules, rates: RateTable | None,
                  noise: LaplaceNoise | None, now: datetime) -> list[Pending]:
    """A Pending record for every cell whose published content changed (or failed before with other content)."""
    status = decide(cells, rules)
    withheld_counts = decide_products(cells, status, rules)
    out = []
    for key in sorted(cells, key=CellKey.text):
        cell, reason, withheld = cells[key], status[key], withheld_counts.get(key, {})
        content = None if reason else {**true_measures(key, cell, rates), **dict.fromkeys(withheld)}
        reason = _shown(cell, reason, withheld, content or {})
        if reason:
            content = {"suppressed": reason.value}
        fingerprint = _fingerprint(content)
        if fingerprint in (cell.published, cell.failed):
            continue
        if reason:
            measures = dict.fromkeys(MEASURES)
        elif noise is not None:
            measures = {**noisy_measures(key, cell, rates, noise), **dict.fromkeys(withheld)}
        else:
            measures = content
        out.append(Pending(key, cell, record(key, cell.version + 1, reason, measures, now), fingerprint))
    return out


def record(key: CellKey, version: int, reason: SuppressionReason | None, measures: dict[str, Any],
           now: datetime) -> dict[str, Any]:
    window = key.window
    return {"window_start": window.start, "window_end": window.end, "granularity": key.granularity.value,
            "marketplace": key.marketplace, "country": key.country, "province": key.province, "category": key.category,
            "version": version, "suppressed": reason is not None,
            "suppression_reason": reason.value if reason else None,
            **{name: measures.get(name) for name in MEASURES}, "published_time": now}


def suppression_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Suppressed records by metrics label (small_cell, dominance, complementary)."""
    counts: dict[str, int] = {}
    for rec in records:
        if rec["suppressed"]:
            label = SuppressionReason(rec["suppression_reason"]).label
            counts[label] = counts.get(label, 0) + 1
    return counts


def encode_each(pending: Iterable[Pending], encode: Callable[[dict[str, Any]], bytes]
                ) -> tuple[list[tuple[Pending, bytes]], list[tuple[Pending, str]]]:
    """(pending, bytes) ready to send, and (pending, why) that cannot be encoded, record by record: a cell
    that breaks the schema (a GMV beyond decimal(18,2)) costs that cell only. Messages name fields, not values."""
    ready, failed = [], []
    for p in pending:
        try:
            ready.append((p, encode(p.record)))
        except SchemaError as exc:
            failed.append((p, str(exc)))
    return ready, failed
