"""The aggregation scales out on real Kafka: one worker, then two workers of one group, read the
same redacted orders and products; both runs must publish exactly the cells a single in-process
Aggregator computes from those records (same totals, same suppression: small cell, dominance,
complementary), and each of the two workers must have published cells of its own shards.

Each run's group starts at the redacted topics' current end (its offsets are committed there
before it starts) and the input is produced once the run's workers have joined: products first,
then orders once the products went through, so no order is aggregated before the category of
the product it sells is known (the one ordering the result depends on)."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from datetime import timedelta

import pytest
from kafka import TopicPartition

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, admin_client, end_offsets, read_since
from pipeline_core.security import principal_env
from pipeline_core.settings import free_ports
from pipeline_core.topics import DATA_PARTITIONS, shop_key
from streams.aggregation import DisclosureRules, Granularity, WindowPolicy
from tests.support.groups import start_group_at_the_end
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker
from tests.unit.test_aggregation_shards import run_single, topic_of, workload

pytestmark = pytest.mark.kafka
INPUTS = ("redacted.orders", "redacted.products")
RULES = DisclosureRules(k=3, dominance=0.6)
# Lateness long enough that no record of the workload is late whatever order the partitions interleave in
WINDOWS = WindowPolicy({Granularity.HOURLY: timedelta(hours=48), Granularity.DAILY: timedelta(days=62)})
WORKER_ARGS = ("worker", "aggregation", "--k", "3", "--dominance", "0.6", "--tick-seconds", "1",
               "--hourly-lateness", "48", "--daily-lateness", "62")


def start_aggregator(settings, app_id: str, port: int, folder) -> subprocess.Popen:
    folder = folder / f"worker-{port}"  # a worker's own RocksDB files
    folder.mkdir()
    env = {**os.environ, **principal_env(settings, "aggregation-worker"), "POWERSELL_LOG_LEVEL": "WARNING",
           "POWERSELL_DATA_DIR": str(folder)}
    return start_worker(env, *WORKER_ARGS, "--app-id", app_id, "--metrics-port", str(port),
                        log_path=folder / "worker.log")


def start_at_end(settings, group: str) -> None:
    """Commit the group's offsets at the inputs' end: the run reads only what is produced from now on."""
    start_group_at_the_end(settings, group, INPUTS)


def members(settings, group: str) -> int:
    """Members of the group once it is stable (every member assigned), else 0."""
    admin = admin_client(settings)
    try:
        described = admin.describe_groups([group])[group]
    finally:
        admin.close()
    return len(described.get("members") or ()) if described.get("group_state") == "Stable" else 0


def consumed(settings, group: str, ends: dict) -> bool:
    """The group's committed offsets reached `ends` (offsets taken once the records to wait for were there: the
    live end keeps moving with the timer's ticks, which are committed every few seconds)."""
    admin = admin_client(settings)
    try:
        committed = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    return all(committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items() if end)


class Copies:
    """The forwarded copies on the shards' topic from a given point: `aggregated(prefix, n)` is true once `n` copies
    whose internal key starts with `prefix` are there and the group has consumed everything up to them."""

    def __init__(self, settings, group: str):
        self.settings, self.group = settings, group
        self.since = dict(end_offsets(settings, (f"{group}-shards",)))
        self.seen, self.ends = 0, None

    def aggregated(self, prefix: bytes, copies: int) -> bool:
        if self.ends is None:
            for _, key, _, rec in read_since(self.settings, self.since):
                self.since[TopicPartition(rec.topic, rec.partition)] = rec.offset + 1
                self.seen += bool(key and key.startswith(prefix))
            if self.seen >= copies:
                self.ends = dict(self.since)
        return self.ends is not None and consumed(self.settings, self.group, self.ends)


def wait_for_cells(output, expected: dict, when: str) -> None:
    """Wait until the published cells are exactly `expected`; else say how many differ, with two of them."""
    try:
        wait_for(lambda: output.refresh().content() == expected, 180)
    except AssertionError:
        got = output.content()
        wrong = [k for k in set(got) | set(expected) if got.get(k) != expected.get(k)]
        raise AssertionError(f"{len(wrong)} of {len(expected)} cells differ {when}, e.g. "
                             f"{[(k, got.get(k), expected.get(k)) for k in wrong[:2]]}") from None


def published_count(port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("powersell_aggregates_published_total{"))


class Output:
    """analytics.aggregates from a given point, as an upserting consumer sees it; also every (key, version) seen."""

    def __init__(self, settings):
        self.settings, self.registry = settings, default_registry()
        self.since = dict(end_offsets(settings, ("analytics.aggregates",)))
        self.latest, self.versions = {}, []

    def refresh(self):
        for _, key, value, rec in read_since(self.settings, self.since):
            self.since[TopicPartition(rec.topic, rec.partition)] = rec.offset + 1
            record = self.registry.decode(value)[1]
            self.versions.append((key, record["version"]))
            if key not in self.latest or record["version"] > self.latest[key]["version"]:
                self.latest[key] = record
        return self

    def content(self):
        return {key.decode(): {k: v for k, v in rec.items() if k not in ("version", "published_time")}
                for key, rec in self.latest.items() if rec["window_start"].year == 2026 and rec["window_start"].month == 11
                and rec["window_start"].day == 20}


def run(settings, tmp_path, app_id: str, workers: int, records, expected) -> list[int]:
    """Start `workers` workers of one group, feed the records, wait for the expected cells; returns their ports."""
    start_at_end(settings, app_id)
    ports = free_ports(workers)
    procs = [start_aggregator(settings, app_id, port, tmp_path) for port in ports]
    try:
        def joined():
            assert all(p.poll() is None for p in procs), "a worker stopped"
            return members(settings, app_id) == workers
        wait_for(joined, 180)
        output, copies = Output(settings), Copies(settings, app_id)
        publisher = AvroPublisher(settings)
        try:
            products = [r for r in records if topic_of(r) == "redacted.products"]
            for record in products:
                publisher.send("redacted.products", shop_key(record["marketplace"], record["shop_id"]), record)
            publisher.flush()
            wait_for(lambda: copies.aggregated(b"redacted.products", len(products) * DATA_PARTITIONS), 120)  # one per shard
            for record in (r for r in records if topic_of(r) == "redacted.orders"):
                publisher.send("redacted.orders", shop_key(record["marketplace"], record["shop_id"]), record)
            publisher.flush()
        finally:
            publisher.close()
        wait_for_cells(output, expected, f"with {workers} worker(s)")
        # every version of a cell is published once: two shards never publish the same cell
        assert len(output.versions) == len(set(output.versions))
        if workers > 1:
            counts = [published_count(port) for port in ports]
            assert all(n > 0 for n in counts), f"a worker published nothing: {counts}"
        return ports
    finally:
        for proc in procs:
            stop_worker(proc)


@pytest.mark.slow
def test_two_aggregation_workers_publish_exactly_the_cells_of_one(kafka, tmp_path):
    settings = kafka
    assert DATA_PARTITIONS >= 2, "two workers need at least two shards"
    records = workload(seed=11, orders=500)
    expected = run_single(records, RULES, WINDOWS)
    reasons = {rec["suppression_reason"] for rec in expected.values()}
    assert {"SMALL_CELL", "DOMINANCE", "COMPLEMENTARY"} <= reasons  # the comparison covers every decision
    suffix = str(int(time.time()))  # a fresh group and fresh internal topics per test run
    run(settings, tmp_path, f"powersell-aggregator-solo-{suffix}", 1, records, expected)
    run(settings, tmp_path, f"powersell-aggregator-pair-{suffix}", 2, records, expected)


def send(settings, records) -> None:
    publisher = AvroPublisher(settings)
    try:
        for record in records:
            publisher.send(topic_of(record), shop_key(record["marketplace"], record["shop_id"]), record)
        publisher.flush()
    finally:
        publisher.close()


@pytest.mark.slow
def test_shards_that_move_to_a_new_worker_keep_their_state(kafka, tmp_path):
    """A worker aggregates the products and half the orders; a second worker with empty local stores joins (the
    rebalance moves shards to it) and the first one leaves (it gets the rest). Its shards' state comes from their
    changelog partitions into its local databases of the same numbers, so the second half of the orders (updates
    and cancellations of the first half's among them) still gives exactly the cells of one uninterrupted run."""
    settings = kafka
    records = workload(seed=12, orders=400)
    expected = run_single(records, RULES, WINDOWS)
    products = [r for r in records if topic_of(r) == "redacted.products"]
    orders = [r for r in records if topic_of(r) == "redacted.orders"]
    first_half, second_half = orders[:len(orders) // 2], orders[len(orders) // 2:]
    app_id = f"powersell-aggregator-move-{int(time.time())}"
    start_at_end(settings, app_id)
    first_port, second_port = free_ports(2)
    first = start_aggregator(settings, app_id, first_port, tmp_path)
    procs = [first]

    def stable(*alive: subprocess.Popen):
        def check() -> bool:
            assert all(p.poll() is None for p in alive), "a worker stopped"
            return members(settings, app_id) == len(alive)
        return check
    try:
        wait_for(stable(first), 180)
        output, copies = Output(settings), Copies(settings, app_id)
        send(settings, products)
        wait_for(lambda: copies.aggregated(b"redacted.products", len(products) * DATA_PARTITIONS), 120)
        copies = Copies(settings, app_id)
        send(settings, first_half)
        wait_for(lambda: copies.aggregated(b"redacted.orders", len(first_half)), 120)  # in the first worker's state
        second = start_aggregator(settings, app_id, second_port, tmp_path)
        procs.append(second)
        wait_for(stable(first, second), 180)  # the rebalance moved some shards to the second worker
        stop_worker(first)
        wait_for(stable(second), 180)  # and now every shard
        send(settings, second_half)
        wait_for_cells(output, expected, "after the shards moved")
        assert published_count(second_port) > 0
    finally:
        for proc in procs:
            stop_worker(proc)
