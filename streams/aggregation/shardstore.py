"""The shards' local RocksDB store: each key lives in the database of its own shard.

Faust's RocksDB store keeps one database per changelog partition and, on a write, picks the one
of the *current event*'s partition (reads too, when there is one). Inside a `take_events` batch
Faust sets no current event per event, so the aggregation worker's writes need another rule.
This store takes the partition from the key itself, '<shard>/...' (shards.state_key), the same
rule `ShardTable.partition_for_key` gives the changelog: a shard's state is written to changelog
partition <shard> and to local database <shard>, and a recovery (which replays changelog
partition p into database p) rebuilds exactly what the shard wrote. No current event is read.

Faust picks a table's store by URL (`Table(store=...)`), whose scheme may be a class's dotted path. URL
schemes are lower case without '_', hence this module's name and the `rocksdb` alias (`store_url`).
"""

from __future__ import annotations

from typing import Optional

from faust.stores.rocksdb import Store as RocksDBStore

from .shards import split_state_key


class ShardStore(RocksDBStore):
    """RocksDB store of a table keyed by shards.state_key: reads, writes and deletes go to the key's shard's
    database, whatever event (if any) is being processed. Keys are the table's serialized keys."""

    def shard_of(self, key: bytes) -> int:
        """The shard of a serialized table key; ValueError for a key without one (none is ever written)."""
        return split_state_key(self._decode_key(key))[0]

    def _set(self, key: bytes, value: Optional[bytes]) -> None:
        self._db_for_partition(self.shard_of(key)).put(key, value)

    def _get(self, key: bytes) -> Optional[bytes]:
        return self._db_for_partition(self.shard_of(key)).get(key)

    def _contains(self, key: bytes) -> bool:
        return self._get(key) is not None

    def _del(self, key: bytes) -> None:
        self._db_for_partition(self.shard_of(key)).delete(key)


rocksdb = ShardStore  # the name store_url's scheme resolves to

# Faust opens every RocksDB database with up to three 64 MiB write buffers and a 2 GiB block cache; one
# database per shard made the aggregation worker's memory grow with its backlog (peak RSS 384 MiB in `bench all`,
# target 300). A shard's state is a few MiB, so small buffers cost only more frequent flushes.
STORE_OPTIONS = {"write_buffer_size": 4 * 1024**2, "max_write_buffer_number": 2, "block_cache_size": 8 * 1024**2}


def store_url(table_name: str) -> str:
    """The store URL of a table kept in a ShardStore. It names the table, as Faust's own store would (its files,
    '<table>-<shard>.db', are the same): a URL with a scheme only counts as no URL, and the app's store is used."""
    return f"{__name__}.rocksdb:{table_name}"
