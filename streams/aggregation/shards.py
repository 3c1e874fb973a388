"""How the aggregation scales out: shards that each hold whole disclosure groups.

The promise: N aggregation workers publish exactly the cells one worker publishes (same
totals, same suppression). Disclosure decisions (small cell, dominance, complementary) are
made per group = window x marketplace x country: every province and category cell of a
group, and every order that touches them, must be in one place. So records are sharded by
(marketplace, country), the group's key without the window:

- an order goes to the one shard of its (marketplace, country) (the country the cells use);
- a product goes to every shard: orders look up their lines' categories in the products
  they have seen, and an order of any country may sell a product. Only the shard that owns
  the product's own group marks it as a new/updated product; on the other shards the copy
  only feeds the category lookup (a *lookup copy*: never counted, never dead-lettered twice).

A shard is a partition of the worker's internal input topic; Faust spreads the partitions
over the workers and a shard's state lives in the changelog partition of the same number,
so a shard moves between workers with its state. Each shard keeps its own watermark: the
published content depends only on the shard's own input, not on which worker holds it.

Where it stops: a single (marketplace, country) is never split, so one shard's worth of
orders (the biggest marketplace in the biggest country) bounds one worker's share; past
that, partial cells per input partition merged by a small merge stage would be the next
step. An order whose country changes between versions moves shard: its old version stays
counted in the old group until that window closes (one worker would move it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from .cells import country_of

LOOKUP_SUFFIX = "#lookup"  # appended to the internal record key of a product's lookup copy


def shard_of(marketplace: str, country: str, shards: int) -> int:
    """The shard of a group: a stable hash (crc32, the same in every process and version) modulo the count."""
    if shards < 1:
        raise ValueError("the aggregation needs at least one shard")
    return zlib.crc32(f"{marketplace}|{country}".encode("utf-8")) % shards


def order_group(record: dict[str, Any]) -> tuple[str, str]:
    """(marketplace, country) of a decoded RedactedOrderEvent: the country its cells use."""
    address = (record.get("recipient") or {}).get("address") or {}
    return record["marketplace"], country_of(record["currency"], address.get("country"))


def product_group(record: dict[str, Any]) -> tuple[str, str]:
    """(marketplace, country) of a decoded RedactedProductEvent, as its product cells use it."""
    return record["marketplace"], country_of(record["currency"], None)


@dataclass(frozen=True)
class Copy:
    """One record to forward: to this shard, as the owner's copy or as a lookup copy."""

    shard: int
    lookup: bool


def route(topic: str, record: dict[str, Any], shards: int) -> list[Copy]:
    """Where a decoded redacted record goes: an order to its group's shard; a product to every shard, the
    owner's copy first. Raises KeyError/TypeError on a record without its group's fields."""
    if topic == "redacted.orders":
        return [Copy(shard_of(*order_group(record), shards), False)]
    owner = shard_of(*product_group(record), shards)
    return [Copy(owner, False)] + [Copy(s, True) for s in range(shards) if s != owner]


@dataclass(frozen=True)
class ShardOwnership:
    """Which groups one shard holds; given to its Aggregator so a lookup copy marks no cell."""

    shard: int
    shards: int

    def __call__(self, marketplace: str, country: str) -> bool:
        return shard_of(marketplace, country, self.shards) == self.shard


def state_key(shard: int, key: str) -> str:
    """A table key of one shard's state: '<shard>/<aggregator key>' (the table's partition is the shard)."""
    return f"{shard}/{key}"


def split_state_key(key: str) -> tuple[int, str]:
    shard, _, rest = key.partition("/")
    if not shard.isdigit() or not rest:
        raise ValueError("a shard state key has the form <shard>/<key>")
    return int(shard), rest
