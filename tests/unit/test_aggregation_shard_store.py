"""The aggregation's table keeps each shard's state in the local RocksDB database of the shard's number, the
changelog partition its changes go to, with no current event (Faust sets none per event inside a
`take_events` batch): reads, writes, deletes and a changelog recovery all meet in the same database."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP

from pipeline_core.settings import Settings
from streams.aggregation.shards import state_key
from streams.aggregation.shardstore import ShardStore
from streams.aggregation_app import ShardTable
from streams.app import JSON, faust_app

SHARDS = 4


@pytest.fixture
def table(tmp_path):
    app = faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "shard-store-test", store="rocksdb://")
    return ShardTable(app, name="shard_state", schema=JSON, partitions=SHARDS)


def database(store: RocksDBStore, shard: int):
    return store._db_for_partition(shard)


def test_the_shard_table_uses_the_shard_store_with_faust_s_file_names(table):
    assert type(table.data) is ShardStore
    assert table.data.partition_path(2).name == "shard_state-2.db"  # a worker's local state from before is reused


def test_each_shard_database_is_opened_with_bounded_memory(table):
    """Faust's defaults (three 64 MiB write buffers, a 2 GiB block cache per database) let the worker's memory grow
    with its backlog; a shard's state is small."""
    options = table.data.rocksdb_options
    assert options.write_buffer_size * options.max_write_buffer_number + options.block_cache_size <= 16 * 1024**2
    options.open(table.data.partition_path(0)).close()  # and RocksDB takes them


def test_a_write_outside_any_event_goes_to_the_database_of_the_keys_shard(table):
    store = table.data
    for shard in range(SHARDS):
        store[state_key(shard, "orders/o-1")] = {"shard": shard}
    for shard in range(SHARDS):
        mine = store._encode_key(state_key(shard, "orders/o-1"))
        assert database(store, shard).get(mine) is not None
        assert all(database(store, other).get(mine) is None for other in range(SHARDS) if other != shard)
        assert store[state_key(shard, "orders/o-1")] == {"shard": shard}


def test_reads_look_only_in_the_keys_shard(table):
    store = table.data
    key = state_key(1, "orders/o-2")
    database(store, 0).put(store._encode_key(key), store._encode_value({"misplaced": True}))
    assert key not in store
    with pytest.raises(KeyError):
        store[key]
    store[key] = {"placed": True}
    assert key in store and store[key] == {"placed": True}


def test_a_delete_removes_the_key_from_its_shards_database(table):
    store = table.data
    key = state_key(3, "products/p-1")
    store[key] = {"name": "x"}
    del store[key]
    assert key not in store
    assert database(store, 3).get(store._encode_key(key)) is None


def test_what_changelog_partition_p_recovers_is_read_as_shard_ps_state(table):
    store = table.data
    topic = table.changelog_topic.get_topic_name()
    key = state_key(2, "orders/o-3")
    events = [SimpleNamespace(message=SimpleNamespace(tp=TP(topic, 2), partition=2, offset=7,
                                                      key=store._encode_key(key), value=store._encode_value({"n": 1})))]
    store.apply_changelog_batch(events, to_key=None, to_value=None)
    assert store[key] == {"n": 1}
    assert store.persisted_offset(TP(topic, 2)) == 7


def test_the_local_database_and_the_changelog_partition_of_a_key_are_the_same(table):
    for shard in range(SHARDS):
        for name in ("orders/o-1", "products/p/1", "meta/watermark"):
            key = state_key(shard, name)
            assert table.data.shard_of(table.data._encode_key(key)) == table.partition_for_key(key) == shard


def test_a_key_without_a_shard_is_refused(table):
    with pytest.raises(ValueError):
        table.data["no-shard"] = {}


def test_the_stock_rocksdb_store_cannot_write_outside_an_event(tmp_path):
    """Why the shard store exists: Faust's own store needs a current event to pick the database."""
    app = faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "stock-store-test", store="rocksdb://")
    stock = app.Table("stock_state", schema=JSON, partitions=SHARDS).data
    assert type(stock) is RocksDBStore
    with pytest.raises(AssertionError):
        stock[state_key(1, "orders/o-1")] = {}
