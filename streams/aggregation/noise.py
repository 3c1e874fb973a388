"""Optional differential privacy (off by default): Laplace noise with per-shop contribution bounding.

The unit of privacy is one shop: each shop's contribution to a cell is clipped (orders, items,
GMV, buyers, products), so adding or removing a shop moves each clipped sum by at most its
bound, the sensitivity. Each published record spends `epsilon`, split equally over the
measures it carries (sequential composition); dp_epsilon records it. A shop appears in up to
four cells per window (its province x category, province, category and country cells) and in
every version of them, so its total loss is that many times epsilon: size epsilon with that in
mind. Median and p90 need another mechanism and are not released when noise is on; average
order value and GMV in the reporting currency are computed from the noisy values (post-processing,
no extra cost). Suppression decisions still use true values (thresholding is not itself DP).

Randomness: the standard library (numpy is present in the venv only as a dependency of the
benchmark's presidio/spacy, not of this project). Laplace(b) = b * (E1 - E2) with E1, E2
exponential; SystemRandom by default, a seeded random.Random in tests. Floating-point Laplace
has known precision attacks (Mironov 2012); rounding counts to integers and sums to cents
blunts them but is not a proof.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .cells import ZERO, Cell

CENT = Decimal("0.01")


@dataclass(frozen=True)
class NoiseConfig:
    epsilon: float = 1.0                        # per published record
    max_orders_per_shop: int = 50               # per cell
    max_items_per_shop: int = 200
    max_buyers_per_shop: int = 50
    max_products_per_shop: int = 50
    max_gmv_per_shop: Decimal = Decimal("5000")  # in the reporting currency

    def __post_init__(self):
        if not self.epsilon > 0:
            raise ValueError("epsilon must be positive")


class LaplaceNoise:
    def __init__(self, config: NoiseConfig = NoiseConfig(), rng: random.Random | None = None):
        self.config = config
        self.rng = rng or random.SystemRandom()

    def laplace(self, scale: float) -> float:
        return scale * (self.rng.expovariate(1.0) - self.rng.expovariate(1.0))

    def measures(self, cell: Cell, rate: Decimal | None, with_products: bool) -> dict[str, Any]:
        """Noisy orders, items_sold, gmv, distinct_shops, distinct_buyers (and products), plus dp_epsilon."""
        c = self.config
        shops = cell.shops.values()
        kept_buyers: set[str] = set()
        for shop in shops:  # each shop's first buyers by hash: independent of other shops, so removal moves <= the bound
            kept_buyers.update(sorted(shop.buyers)[: c.max_buyers_per_shop])
        counts = {
            "orders": (sum(min(s.orders, c.max_orders_per_shop) for s in shops), c.max_orders_per_shop),
            "items_sold": (sum(min(s.items, c.max_items_per_shop) for s in shops), c.max_items_per_shop),
            "distinct_shops": (len(cell.shops), 1),
            "distinct_buyers": (len(kept_buyers), c.max_buyers_per_shop),
        }
        if with_products:
            for name, products in (("new_products", cell.new_products), ("updated_products", cell.updated_products)):
                per_shop: dict[str, int] = {}
                for shop in products.values():
                    per_shop[shop] = per_shop.get(shop, 0) + 1
                counts[name] = (sum(min(n, c.max_products_per_shop) for n in per_shop.values()), c.max_products_per_shop)
        gmv_bound = (c.max_gmv_per_shop / rate) if rate else None  # without a rate the bound is unknown: GMV withheld
        share = c.epsilon / (len(counts) + (gmv_bound is not None))
        out: dict[str, Any] = {name: max(0, round(true + self.laplace(bound / share)))
                               for name, (true, bound) in counts.items()}
        out["gmv"] = None
        if gmv_bound is not None:
            clipped = sum((min(s.gmv, gmv_bound) for s in shops), ZERO)
            noisy = clipped + Decimal(repr(self.laplace(float(gmv_bound) / share)))
            out["gmv"] = max(noisy, ZERO).quantize(CENT)
        out["dp_epsilon"] = c.epsilon
        return out
