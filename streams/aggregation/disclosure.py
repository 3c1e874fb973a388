"""Disclosure control: which cells of one hierarchy may be published.

Primary suppression, per cell:
- SMALL_CELL: fewer than k distinct shops, or a cell with orders from fewer than k distinct buyers;
- DOMINANCE: one shop has more than `dominance` of the cell's GMV.
Every published figure must come from at least k shops that contributed *that* figure: the
order figures from the ordering shops (above), each product count (new, updated products)
from the shops whose products it counts (`primary_count`, the same k and dominance). A cell
with orders from enough shops but one shop's new product publishes its order figures and
withholds that count; a cell with nothing else to show is published suppressed.

Complementary suppression, per hierarchy. The additive measures (GMV, items) satisfy
parent = sum of children, with children that are exhaustive (every order has a province,
"unknown" included, and every line a category). Two kinds of equation are considered in a
window x marketplace x country group: a country cell (province None) with its province
cells, for each category and for all categories; and an all-categories cell with its
category cells, for each province and for the country total. An equation with exactly one
suppressed member gives that member away by subtraction. So, repeated until nothing
changes: where an equation has exactly one suppressed member, the smallest published other
member (by GMV, then orders, then key) is suppressed as COMPLEMENTARY, a child in
preference to the parent. At the fixed point every equation has 0 or >= 2 suppressed
members. That quick rule is not enough in two dimensions (in random tables about 2% of
patterns still let a cell be solved from several equations together), so an exact audit
follows: the suppressed cells are the unknowns of the linear system of all equations, and a
cell is exposed when the system determines it (reduced row echelon form).
For an exposed cell the smallest published cell sharing an equation with it is suppressed,
then the quick rule and the audit run again. It terminates: each round suppresses one more
cell of a finite set.

Product counts are given for country-level cells only (products carry no address), where the
category cells add up to the all-categories cell: the same complementary suppression runs over
that one equation per group, for each count, starting from the withheld counts and the
suppressed cells (publish.decide_products).

Not covered (documented residual risk): interval bounds from non-negativity, hourly cells
against their daily cell, and the difference between two versions of a cell (a late
event's contribution). The optional noise (noise.py) is the answer to the last two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Callable, Hashable, Iterable, Mapping, TypeVar

K = TypeVar("K", bound=Hashable)


class SuppressionReason(str, Enum):
    SMALL_CELL = "SMALL_CELL"
    DOMINANCE = "DOMINANCE"
    COMPLEMENTARY = "COMPLEMENTARY"

    @property
    def label(self) -> str:  # the metrics label value
        return self.value.lower()


@dataclass(frozen=True)
class DisclosureRules:
    k: int = 10
    dominance: float = 0.5

    def __post_init__(self):
        if self.k < 1 or not 0 < self.dominance <= 1:
            raise ValueError("k must be at least 1 and dominance in (0, 1]")


@dataclass(frozen=True)
class CellFacts:
    """What the rules look at, for one cell (true values, before any noise)."""

    distinct_shops: int
    distinct_buyers: int
    gmv: Decimal
    top_shop_gmv: Decimal
    orders: int = 0


@dataclass(frozen=True)
class CountFacts:
    """One count figure (new or updated products) by the shops that contributed it."""

    total: int
    shops: int      # distinct shops among the counted products
    top_shop: int   # the largest number counted for one shop


def primary(facts: CellFacts, rules: DisclosureRules) -> SuppressionReason | None:
    """The rules for a cell's order figures (the ordering shops and buyers); product counts: primary_count."""
    if facts.distinct_shops == 0:
        return None  # no order figure here (emptied, or products only): zeros hold nobody's data
    # A cell without orders tells nothing about buyers: only its shops count.
    if facts.distinct_shops < rules.k or (facts.orders > 0 and facts.distinct_buyers < rules.k):
        return SuppressionReason.SMALL_CELL
    if facts.gmv > 0 and facts.top_shop_gmv > Decimal(str(rules.dominance)) * facts.gmv:
        return SuppressionReason.DOMINANCE
    return None


def primary_count(facts: CountFacts, rules: DisclosureRules) -> SuppressionReason | None:
    """The rules for one count figure, by the shops that contributed to it."""
    if facts.total == 0:
        return None  # a zero comes from no shop
    if facts.shops < rules.k:
        return SuppressionReason.SMALL_CELL
    if facts.top_shop > Decimal(str(rules.dominance)) * facts.total:
        return SuppressionReason.DOMINANCE
    return None


def hierarchy_equations(keys: Iterable[K], province_of: Callable[[K], object], category_of: Callable[[K], object],
                        with_province: Callable[[K, object], K], with_category: Callable[[K, object], K]
                        ) -> list[tuple[K, list[K]]]:
    """(parent, children) for both dimensions among keys of one group; parents missing from keys are skipped."""
    keys = set(keys)
    children: dict[tuple[K, str], list[K]] = defaultdict(list)  # (parent, dimension): the total cell has two sums
    for key in keys:
        if province_of(key) is not None:
            children[(with_province(key, None), "province")].append(key)
        if category_of(key) is not None:
            children[(with_category(key, None), "category")].append(key)
    return [(parent, sorted(kids, key=repr)) for (parent, _), kids in sorted(children.items(), key=repr)
            if parent in keys]


def complementary(status: Mapping[K, SuppressionReason | None], equations: list[tuple[K, list[K]]],
                  size: Callable[[K], tuple]) -> dict[K, SuppressionReason | None]:
    """Add COMPLEMENTARY suppressions until no suppressed value follows from the published ones."""
    result = dict(status)
    while True:
        _pairs(result, equations, size)
        exposed = derivable(result, equations)
        if not exposed:
            return result
        # a combination of equations pins a cell down: suppress the smallest published cell sharing an equation with it
        near = {m for parent, kids in equations if exposed & {parent, *kids} for m in (*kids, parent) if result[m] is None}
        if not near:
            return result  # cannot happen with non-empty equations: a pinned cell's equations have a published member
        result[min(near, key=size)] = SuppressionReason.COMPLEMENTARY


def _pairs(result: dict[K, SuppressionReason | None], equations: list[tuple[K, list[K]]],
           size: Callable[[K], tuple]) -> None:
    """The quick rule, to its fixed point: no equation with exactly one suppressed member."""
    changed = True
    while changed:
        changed = False
        for parent, kids in equations:
            members = [*kids, parent]  # children first: a child is preferred over the parent
            if sum(result[m] is not None for m in members) != 1:
                continue
            candidates = [m for m in kids if result[m] is None] or [parent]
            if result[candidates[0]] is not None:
                continue  # only the parent was left and it is the one suppressed: a lone equation of one
            result[min(candidates, key=size)] = SuppressionReason.COMPLEMENTARY
            changed = True


_PRIME = (1 << 61) - 1  # a Mersenne prime: exact integer arithmetic modulo it, fast in Python


def derivable(status: Mapping[K, SuppressionReason | None], equations: list[tuple[K, list[K]]]) -> set[K]:
    """Suppressed cells whose value is a linear combination of published values.

    Unknowns are the suppressed cells; each equation, with published values moved to the
    right, is a row. x is determined exactly when the unit vector of x lies in the row space,
    i.e. when the reduced row echelon form has a row with x alone. Computed modulo a 61-bit
    prime (sparse rows): a cell determined over the rationals is determined modulo p too, so
    errors can only be extra suppressions, and even those need p to divide a minor of a 0/1
    matrix (the unit tests check the result with exact fractions).
    """
    index = {key: i for i, key in enumerate(k for k, r in status.items() if r is not None)}
    pivots: dict[int, dict[int, int]] = {}
    for parent, kids in equations:
        row: dict[int, int] = defaultdict(int)
        for member, sign in ((parent, -1), *((kid, 1) for kid in kids)):
            if member in index:
                row[index[member]] += sign
        for col, prow in pivots.items():  # reduce by the pivots found so far (each holds its column alone)
            factor = row.get(col, 0) % _PRIME
            if factor:
                for c, v in prow.items():
                    row[c] = (row[c] - factor * v) % _PRIME
        row = {c: v % _PRIME for c, v in row.items() if v % _PRIME}
        if not row:
            continue
        col = min(row)
        inverse = pow(row[col], -1, _PRIME)
        row = {c: v * inverse % _PRIME for c, v in row.items()}
        for other in pivots.values():  # keep earlier rows reduced
            factor = other.get(col, 0)
            if factor:
                for c, v in row.items():
                    other[c] = (other.get(c, 0) - factor * v) % _PRIME
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        pivots[col] = row
    keys = {i: key for key, i in index.items()}
    return {keys[col] for col, row in pivots.items() if len(row) == 1}


def exposed_equations(status: Mapping[K, SuppressionReason | None], equations: list[tuple[K, list[K]]]) -> list[K]:
    """Parents of equations with exactly one suppressed member (empty when the pairwise rule holds)."""
    return [p for p, kids in equations if sum(status[m] is not None for m in [*kids, p]) == 1]
