"""The facade the Faust agent calls: add records, ask what is due, persist state as table entries.

State is one small entry per cell, per order and per product (see `changes`): a Faust table
holds them by key, so each update writes one small changelog record instead of a whole window.
- "c|<cell key>": a Cell (per-shop sums, buyer and price counts, product sets, last version);
- "o|<order hash>": the order's last contribution (replacement and dedup, until its DAILY
  window closes);
- "p|<product hash>": the product's category, for orders that reference it (kept indefinitely);
- "m|": the event-time watermark and the groups changed since their last publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Callable, Iterable

from .cells import Cell, CellKey, OrderContribution, contribution_of, order_key, product_facts
from .disclosure import DisclosureRules
from pipeline_core.errors import ConfigError

from .errors import BadState, ImplausibleTime
from .noise import LaplaceNoise
from .publish import Pending, publish_group
from .rates import RateTable, load_rates
from .windows import Granularity, WindowPolicy, to_ms, window_of

ORDERS_TOPIC = "redacted.orders"
PRODUCTS_TOPIC = "redacted.products"
MAX_CLOCK_SKEW_MS = 5 * 60_000  # an event stamped further ahead of the wall clock does not move the watermark past it
# An event stamped further than this ahead of the wall clock is not believed at all: it is refused (ImplausibleTime,
# dead-lettered) before it can move the watermark, e.g. an order dated in year 9999 on a fresh aggregator.
MAX_FUTURE = timedelta(days=1)   # `worker aggregation --max-future` sets it
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_max_future(text: str) -> timedelta:
    """`--max-future`: a positive duration with its unit, such as 90m, 12h or 2d (ConfigError otherwise)."""
    match = _DURATION.fullmatch(text.strip())
    try:
        limit = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}) if match else None
    except OverflowError:  # more days than a timedelta holds
        limit = None
    if limit is None or limit <= timedelta(0):
        raise ConfigError(f"--max-future must be a positive duration such as 12h or 2d (units s, m, h, d), "
                          f"got {text[:40]!r}")
    return limit


class AddOutcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"      # same event id as the order's last version, or a product already counted
    STALE = "stale"              # an older version of an order than the one already counted
    LATE = "late"                # every window it belongs to is closed
    IGNORED = "ignored"          # not a topic the aggregates read
    LOOKUP = "lookup"            # a product copy on a shard that does not hold its cells: category lookup only

    def __bool__(self) -> bool:
        return self is AddOutcome.APPLIED


Group = tuple[Granularity, int, str, str]


@dataclass
class Aggregator:
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    rates: RateTable | None = field(default_factory=load_rates)
    windows: WindowPolicy = field(default_factory=WindowPolicy)
    noise: LaplaceNoise | None = None  # differential privacy is off unless a LaplaceNoise is given
    max_future: timedelta = MAX_FUTURE
    # owns(marketplace, country): the groups this aggregator holds when it is one shard of several (shards.py);
    # None holds every group
    owns: Callable[[str, str], bool] | None = None

    def __post_init__(self):
        if self.max_future <= timedelta(0):  # every event would be "in the future"
            raise ValueError("max_future must be positive")
        self.cells: dict[CellKey, Cell] = {}
        self.orders: dict[str, OrderContribution] = {}
        self.products: dict[str, str] = {}
        self.watermark_ms = 0     # event time: decides lateness and eviction
        self.clock_ms = 0         # the last wall clock given: only makes idle windows ready and caps skew
        self.dirty: set[Group] = set()
        self._changed: set[str] = set()

    # -------------------------------------------------------------- input
    def add(self, topic: str, record: dict[str, Any], now: datetime | None = None) -> AddOutcome:
        """Aggregate one decoded record; `now` (default: the wall clock) bounds its times (ImplausibleTime)."""
        if topic == ORDERS_TOPIC:
            self._check_times(record, ("event_time", "create_time", "update_time"), now)
            return self._add_order(record)
        if topic == PRODUCTS_TOPIC:
            self._check_times(record, ("event_time", "created_time", "updated_time"), now)
            return self._add_product(record)
        return AddOutcome.IGNORED

    def _check_times(self, record: dict[str, Any], fields: tuple[str, ...], now: datetime | None) -> None:
        limit = (now or datetime.now(timezone.utc)) + self.max_future
        for name in fields:
            if record[name] > limit:  # the message names the field, never its value
                raise ImplausibleTime(f"{name} is more than {self.max_future} ahead of the clock")

    def _advance(self, event_ms: int) -> None:
        if self.clock_ms:
            event_ms = min(event_ms, self.clock_ms + MAX_CLOCK_SKEW_MS)
        if event_ms > self.watermark_ms:
            self.watermark_ms = event_ms
            self._changed.add("m|")

    def _open_windows(self, ms: int):
        for granularity in self.windows.granularities:
            window = window_of(ms, granularity)
            if not self.windows.is_closed(window, self.watermark_ms):
                yield window

    def _add_order(self, record: dict[str, Any]) -> AddOutcome:
        self._advance(to_ms(record["event_time"]))
        okey = order_key(record)
        new = contribution_of(record, self.products.get)
        old = self.orders.get(okey)
        if old is not None and old.event == new.event:
            return AddOutcome.DUPLICATE
        if old is not None and new.update_ms < old.update_ms:
            return AddOutcome.STALE
        windows = list(self._open_windows(new.create_ms))
        if not windows:
            return AddOutcome.LATE
        for window in windows:  # refuse before changing anything
            for key, _ in new.cells(window):
                if key in self.cells:
                    self.cells[key].check_currency(new.currency, key)
        if old is not None:
            for window in self._open_windows(old.create_ms):
                for key, part in old.cells(window):
                    if key in self.cells:
                        self.cells[key].apply(old, part, -1)
                        self._touch(key)
        for window in windows:
            for key, part in new.cells(window):
                self.cells.setdefault(key, Cell()).apply(new, part, 1)
                self._touch(key)
        self.orders[okey] = new
        self._changed.add("o|" + okey)
        return AddOutcome.APPLIED

    def _add_product(self, record: dict[str, Any]) -> AddOutcome:
        self._advance(to_ms(record["event_time"]))
        facts = product_facts(record)
        outcome = AddOutcome.LATE
        if self.products.get(facts.key) != facts.category:
            self.products[facts.key] = facts.category
            self._changed.add("p|" + facts.key)
            outcome = AddOutcome.APPLIED
        if self.owns is not None and not self.owns(facts.marketplace, facts.country):
            return AddOutcome.LOOKUP
        for granularity in self.windows.granularities:
            for key, kind in facts.cells(granularity):
                if self.windows.is_closed(key.window, self.watermark_ms):
                    continue
                if outcome is AddOutcome.LATE:
                    outcome = AddOutcome.DUPLICATE
                if self.cells.setdefault(key, Cell()).mark_product(facts, kind):
                    self._touch(key)
                    outcome = AddOutcome.APPLIED
        return outcome

    def _touch(self, key: CellKey) -> None:
        self.dirty.add(key.group)
        self._changed.add("c|" + key.text())
        self._changed.add("m|")

    # -------------------------------------------------------------- output
    def due(self, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        """(key, AnalyticsAggregate record) for every cell to (re)publish, all taken as sent; then evicts."""
        pending = self.pending(now)
        self.settle(sent=pending)
        return [(p.text, p.record) for p in pending]

    def pending(self, now: datetime) -> list[Pending]:
        """The records to (re)publish now; nothing is marked published until `settle`."""
        self.clock_ms = max(self.clock_ms, to_ms(now))
        ready_at = max(self.watermark_ms, self.clock_ms)
        by_group: dict[Group, dict[CellKey, Cell]] = {}
        for key, cell in self.cells.items():
            by_group.setdefault(key.group, {})[key] = cell
        out: list[Pending] = []
        for group in sorted(self.dirty, key=lambda g: (g[1], g[0].value, g[2], g[3])):
            window = window_of(group[1], group[0])
            if not self.windows.is_ready(window, ready_at):
                continue
            out.extend(publish_group(by_group.get(group, {}), self.rules, self.rates, self.noise, now))
            self.dirty.discard(group)
            self._changed.add("m|")
        return out

    def settle(self, sent: Iterable[Pending] = (), failed: Iterable[Pending] = (), retry: Iterable[Pending] = ()) -> None:
        """After sending `pending` records: sent ones are published (version, content); failed ones cannot be
        published as they are (not retried until their content changes); retry ones go out at the next tick.
        Then closed windows with nothing left to publish are evicted."""
        for p in sent:
            p.cell.version, p.cell.published, p.cell.failed = p.record["version"], p.fingerprint, None
            self._changed.add("c|" + p.text)
        for p in failed:
            p.cell.failed = p.fingerprint
            self._changed.add("c|" + p.text)
        for p in retry:
            self.dirty.add(p.key.group)
            self._changed.add("m|")
        self._evict()

    def _evict(self) -> None:
        for key in [k for k in self.cells if self.windows.is_closed(k.window, self.watermark_ms)
                    and k.group not in self.dirty]:
            del self.cells[key]
            self._changed.add("c|" + key.text())
        for okey in [k for k, o in self.orders.items() if not any(True for _ in self._open_windows(o.create_ms))]:
            del self.orders[okey]
            self._changed.add("o|" + okey)

    # -------------------------------------------------------------- table state
    def changes(self) -> dict[str, dict[str, Any] | None]:
        """Table entries changed since the last call: key -> value, or None to delete the key."""
        out = {key: self._entry(key) for key in sorted(self._changed)}
        self._changed.clear()
        return out

    def _entry(self, key: str) -> dict[str, Any] | None:
        kind, name = key[:2], key[2:]
        if kind == "c|":
            cell = self.cells.get(CellKey.parse(name))
            return cell.to_dict() if cell else None
        if kind == "o|":
            order = self.orders.get(name)
            return order.to_dict() if order else None
        if kind == "p|":
            return {"c": self.products[name]} if name in self.products else None
        return {"w": self.watermark_ms, "k": self.clock_ms,
                "d": [[g.value, ms, m, c] for g, ms, m, c in sorted(self.dirty, key=repr)]}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Every entry (what the table would hold)."""
        keys = (["m|"] + ["c|" + k.text() for k in self.cells] + ["o|" + k for k in self.orders]
                + ["p|" + k for k in self.products])
        return {key: self._entry(key) for key in keys}

    def load(self, entries: Iterable[tuple[str, dict[str, Any]]]) -> Aggregator:
        """Rebuild the state from table entries (after a restart); returns self."""
        try:
            for key, value in entries:
                kind, name = key[:2], key[2:]
                if kind == "c|":
                    self.cells[CellKey.parse(name)] = Cell.from_dict(value)
                elif kind == "o|":
                    self.orders[name] = OrderContribution.from_dict(value)
                elif kind == "p|":
                    self.products[name] = value["c"]
                elif kind == "m|":
                    self.watermark_ms, self.clock_ms = int(value["w"]), int(value["k"])
                    self.dirty = {(Granularity(g), int(ms), m, c) for g, ms, m, c in value["d"]}
                else:
                    raise BadState("a table key has an unknown prefix")
        except (KeyError, TypeError, ValueError):
            raise BadState("the aggregator's table state cannot be read") from None
        self._rebuild_open_cells()
        self._changed.clear()
        return self

    def _rebuild_open_cells(self) -> None:
        """Order sums of open windows are recomputed from the orders' own entries. A batch changes several
        table keys; a crash between those changelog writes can leave a cell that disagrees with the orders
        (then the batch's replay would be deduplicated away, or counted twice). Each order entry is whole,
        so the orders are the truth; cells keep their product marks and published versions."""
        for key, cell in self.cells.items():
            if not self.windows.is_closed(key.window, self.watermark_ms):
                cell.shops, cell.prices = {}, type(cell.prices)()
        for order in self.orders.values():
            for window in self._open_windows(order.create_ms):
                for key, part in order.cells(window):
                    self.cells.setdefault(key, Cell()).apply(order, part, 1)
