"""The state of one aggregate cell, and what one order or product contributes to cells.

A cell is window x marketplace x country x province-or-None x category-or-None; None is the
roll-up (province None: the country total; category None: all categories). An order adds
the same contribution to every cell it belongs to, so roll-ups are computed exactly (distinct
counts included) instead of being summed from their children.

Definitions (what the published numbers mean):
- GMV is merchandise value: sum of quantity x unit price of the order's lines, in the order's
  currency; shipping and vouchers are left out, so category cells add up to their total. An
  order without lines counts total_amount - shipping_fee under category "unknown".
- An order counts in a category cell when one of its lines is in that category (so order
  counts of categories may add up to more than the total); cancelled orders count nothing.
- Median and p90 are nearest-rank statistics over the unit prices of order lines (one value
  per line), so each is a real price and needs no interpolation.
- New products: created in the window; updated products: changed in the window and not at
  creation. Products carry no address, so these two are given for province None only.

Removal must be exact (an order seen again replaces its earlier contribution), so a cell
keeps additive sums per shop and reference counts of buyers and prices, not just totals.
Ids are stored only as 64-bit hashes, and nothing here is ever published as is.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

from .errors import BadState, MixedCurrency
from .windows import Granularity, Window, to_ms, window_of

UNKNOWN = "unknown"
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned code, the usual "unknown country"
COUNTRY_BY_CURRENCY = {"VND": "VN", "THB": "TH"}
CANCELLED_STATUSES = frozenset({"CANCELLED", "CANCELED", "IN_CANCEL", "CANCEL"})
ZERO = Decimal("0.00")


def short_hash(*parts: str) -> str:
    """A 64-bit hash for state keys: enough to tell ids apart, not meant to be secret (never emitted)."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).hexdigest()


def group_name(value: str | None) -> str:
    """A province or category as a group label: trimmed, one space, no '|' (the key separator)."""
    text = " ".join((value or "").split()).replace("|", "/")
    return text or UNKNOWN


@dataclass(frozen=True)
class CellKey:
    granularity: Granularity
    window_start_ms: int
    marketplace: str
    country: str
    province: str | None
    category: str | None

    @property
    def window(self) -> Window:
        return Window(self.granularity, self.window_start_ms)

    @property
    def group(self) -> tuple[Granularity, int, str, str]:
        """The disclosure hierarchy a cell belongs to: all its parents and siblings share it."""
        return self.granularity, self.window_start_ms, self.marketplace, self.country

    def text(self) -> str:
        """granularity|window_start|marketplace|country|province|category (the topic's record key)."""
        return "|".join((self.granularity.value, _iso(self.window_start_ms), self.marketplace, self.country,
                         self.province or "", self.category or ""))

    @classmethod
    def parse(cls, text: str) -> CellKey:
        try:
            gran, start, marketplace, country, province, category = text.split("|")
            ms = to_ms(datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc))
            return cls(Granularity(gran), ms, marketplace, country, province or None, category or None)
        except ValueError:
            raise BadState("a cell key does not have the form granularity|window_start|...|category") from None


@functools.lru_cache(maxsize=4096)
def _iso(ms: int) -> str:  # on the hot path: every touched cell is named by its key
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ contributions
@dataclass(frozen=True)
class Part:
    """What one order adds to one cell."""

    items: int
    gmv: Decimal
    prices: tuple[Decimal, ...]

    def __add__(self, other: Part) -> Part:
        return Part(self.items + other.items, self.gmv + other.gmv, self.prices + other.prices)


@dataclass(frozen=True)
class OrderContribution:
    """An order reduced to what the aggregates need; kept (keyed by a hash of its id) to replace it later."""

    event: str
    update_ms: int
    create_ms: int
    marketplace: str
    country: str
    province: str
    currency: str
    shop: str
    buyer: str | None
    by_category: dict[str, Part]  # empty for a cancelled order

    def cells(self, window: Window) -> Iterator[tuple[CellKey, Part]]:
        if not self.by_category:
            return
        total = Part(0, ZERO, ())
        for part in self.by_category.values():
            total = total + part
        for province in (self.province, None):
            for category, part in [*self.by_category.items(), (None, total)]:
                yield CellKey(window.granularity, window.start_ms, self.marketplace, self.country, province, category), part

    def to_dict(self) -> dict[str, Any]:
        return {"e": self.event, "t": self.update_ms, "c": self.create_ms, "m": self.marketplace, "k": self.country,
                "p": self.province, "$": self.currency, "s": self.shop, "b": self.buyer,
                "l": {cat: [p.items, str(p.gmv), [str(x) for x in p.prices]] for cat, p in self.by_category.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OrderContribution:
        try:
            parts = {cat: Part(int(i), Decimal(g), tuple(Decimal(x) for x in xs)) for cat, (i, g, xs) in d["l"].items()}
            return cls(d["e"], int(d["t"]), int(d["c"]), d["m"], d["k"], d["p"], d["$"], d["s"], d["b"], parts)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise BadState("an order contribution in the table cannot be read") from None


def order_key(record: dict[str, Any]) -> str:
    return short_hash("order", record["marketplace"], record["order_id"])


def product_key(marketplace: str, item_id: str) -> str:
    return short_hash("product", marketplace, item_id)


def country_of(currency: str, address_country: str | None) -> str:
    return (address_country or "").strip().upper() or COUNTRY_BY_CURRENCY.get(currency, UNKNOWN_COUNTRY)


def contribution_of(record: dict[str, Any], category_of: Callable[[str], str | None],
                    cancelled: frozenset[str] = CANCELLED_STATUSES) -> OrderContribution:
    """A decoded RedactedOrderEvent -> its contribution. category_of(product_key) -> category or None."""
    marketplace, currency = record["marketplace"], record["currency"]
    address = (record.get("recipient") or {}).get("address") or {}
    by_category: dict[str, Part] = {}
    if str(record["status"]).upper() not in cancelled:
        for item in record.get("items") or ():
            category = group_name(category_of(product_key(marketplace, item["item_id"])))
            part = Part(item["quantity"], item["quantity"] * item["unit_price"], (item["unit_price"],))
            by_category[category] = by_category[category] + part if category in by_category else part
        if not by_category:
            merchandise = max(record["total_amount"] - (record.get("shipping_fee") or ZERO), ZERO)
            by_category[UNKNOWN] = Part(0, merchandise, ())
    buyer = (record.get("buyer") or {}).get("buyer_user_id")
    return OrderContribution(
        event=short_hash(record["event_id"]), update_ms=to_ms(record["update_time"]), create_ms=to_ms(record["create_time"]),
        marketplace=marketplace, country=country_of(currency, address.get("country")),
        province=group_name(address.get("province")), currency=currency,
        shop=short_hash("shop", marketplace, record["shop_id"]), buyer=short_hash("buyer", buyer) if buyer else None,
        by_category=by_category)


@dataclass(frozen=True)
class ProductFacts:
    """A product event reduced to what the aggregates need."""

    key: str
    shop: str
    marketplace: str
    country: str
    category: str
    created_ms: int
    updated_ms: int

    def cells(self, granularity: Granularity) -> Iterator[tuple[CellKey, str]]:
        """(cell, "new" | "updated") for the country-level cells this product counts in."""
        marks = [(self.created_ms, "new")]
        if self.updated_ms != self.created_ms:
            marks.append((self.updated_ms, "updated"))
        for ms, kind in marks:
            window = window_of(ms, granularity)
            for category in (self.category, None):
                yield CellKey(granularity, window.start_ms, self.marketplace, self.country, None, category), kind


def product_facts(record: dict[str, Any]) -> ProductFacts:
    """A decoded RedactedProductEvent -> its facts; the category is its name, else its id."""
    marketplace = record["marketplace"]
    return ProductFacts(product_key(marketplace, record["item_id"]), short_hash("shop", marketplace, record["shop_id"]),
                        marketplace,
                        country_of(record["currency"], None), group_name(record.get("category_name") or record["category_id"]),
                        to_ms(record["created_time"]), to_ms(record["updated_time"]))


# ------------------------------------------------------------------ the cell
@dataclass
class ShopPart:
    orders: int = 0
    items: int = 0
    gmv: Decimal = ZERO
    buyers: Counter = field(default_factory=Counter)  # buyer hash -> orders of this shop's in the cell


@dataclass
class Cell:
    """One cell's state: per-shop sums, price counts, product sets, and what was last published."""

    currency: str | None = None
    shops: dict[str, ShopPart] = field(default_factory=dict)
    prices: Counter = field(default_factory=Counter)  # unit price -> order lines
    new_products: dict[str, str] = field(default_factory=dict)      # product hash -> shop hash
    updated_products: dict[str, str] = field(default_factory=dict)
    version: int = 0
    published: str | None = None  # fingerprint of the last published content
    failed: str | None = None     # fingerprint of content that could not be published (not retried unchanged)

    def check_currency(self, currency: str, key: CellKey) -> None:
        if self.currency is not None and self.currency != currency:
            raise MixedCurrency(f"cell {key.granularity.value} {key.marketplace} {key.country} holds {self.currency}; "
                                f"refusing to add {currency}")

    def apply(self, contribution: OrderContribution, part: Part, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) one order's part."""
        self.currency = self.currency or contribution.currency
        shop = self.shops.setdefault(contribution.shop, ShopPart())
        shop.orders += sign
        shop.items += sign * part.items
        shop.gmv += sign * part.gmv
        if contribution.buyer:
            shop.buyers[contribution.buyer] += sign
            if shop.buyers[contribution.buyer] <= 0:
                del shop.buyers[contribution.buyer]
        if shop.orders <= 0:
            del self.shops[contribution.shop]
        for price in part.prices:
            self.prices[price] += sign
            if self.prices[price] <= 0:
                del self.prices[price]

    def mark_product(self, product: ProductFacts, kind: str) -> bool:
        target = self.new_products if kind == "new" else self.updated_products
        if product.key in target:
            return False
        target[product.key] = product.shop
        return True

    # -------------------------------------------------------------- measures (true values)
    @property
    def orders(self) -> int:
        return sum(s.orders for s in self.shops.values())

    @property
    def items_sold(self) -> int:
        return sum(s.items for s in self.shops.values())

    @property
    def gmv(self) -> Decimal:
        return sum((s.gmv for s in self.shops.values()), ZERO)

    @property
    def is_empty(self) -> bool:
        return not (self.shops or self.new_products or self.updated_products)

    @property
    def distinct_shops(self) -> int:
        return len(self.shops)

    @property
    def distinct_buyers(self) -> int:
        return len(set().union(*(s.buyers for s in self.shops.values())))

    @property
    def top_shop_gmv(self) -> Decimal:
        return max((s.gmv for s in self.shops.values()), default=ZERO)

    def price_quantile(self, q: float) -> Decimal | None:
        """Nearest rank: the smallest price with at least q of the order lines at or below it."""
        n = sum(self.prices.values())
        if n == 0:
            return None
        rank, seen = max(1, math.ceil(q * n)), 0
        for price in sorted(self.prices):
            seen += self.prices[price]
            if seen >= rank:
                return price
        raise AssertionError("unreachable: ranks are within the counts")

    # -------------------------------------------------------------- table value
    def to_dict(self) -> dict[str, Any]:
        return {"$": self.currency,
                "s": {h: [s.orders, s.items, str(s.gmv), dict(s.buyers)] for h, s in self.shops.items()},
                "p": {str(price): n for price, n in self.prices.items()},
                "n": dict(self.new_products), "u": dict(self.updated_products),
                "v": self.version, "f": self.published, "x": self.failed}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        try:
            shops = {h: ShopPart(int(o), int(i), Decimal(g), Counter(b)) for h, (o, i, g, b) in d["s"].items()}
            return cls(d["$"], shops, Counter({Decimal(p): int(n) for p, n in d["p"].items()}),
                       dict(d["n"]), dict(d["u"]), int(d["v"]), d["f"], d.get("x"))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise BadState("a cell in the table cannot be read") from None
