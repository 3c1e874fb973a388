"""Chaos on real Kafka (bounded, loopback only): the privacy worker SIGKILLed mid-batch and restarted, a
second privacy worker joining and leaving mid-stream (two rebalances), the aggregation worker SIGKILLed
mid-window and restarted. Each test ends with the ledger (`reconcile`) finding every raw event in its
place (duplicates allowed, and counted) and with the analytics totals equal to the ground truth: the
totals of the raw orders the test published.

Aggregates combine every shop, so the module runs on a broker of its own (another module's orders would
land in the same cells), and each test uses its own marketplace: its cells are its own."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, end_offsets, ensure_topics, read_since
from pipeline_core.security import OPERATOR, principal_env, without_security_env
from pipeline_core.settings import Settings
from pipeline_core.topics import shop_key
from powersell.reconcile import privacy_ledger
from schemas import event_id
from tests.consent_helpers import LONG_AGO, change
from tests.integration.test_consent_kafka import TEMPLATES
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
AGGREGATION_ARGS = ("worker", "aggregation", "--k", "1", "--dominance", "1.0", "--tick-seconds", "1",
                    "--hourly-lateness", str(24 * 62))  # every cell published, hourly windows of past days accepted
DAY = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------- processes
def free_ports(count: int) -> int:
    """A port P with P .. P + count - 1 free on loopback, below the kernel's ephemeral range: outgoing connections
    take their ports from that range, so a port found free there can be taken before a broker binds it (seen: a
    node of the cluster died on "Address already in use")."""
    def free(port: int) -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True
    for _ in range(200):
        base = random.randrange(21000, 32000, 2)
        if all(free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no free loopback ports")


def start(env: dict, *args: str) -> subprocess.Popen:
    return start_worker(env, *args, log_path=os.path.join(env["POWERSELL_DATA_DIR"], "worker.log"))


def ready(proc: subprocess.Popen) -> bool:
    """The worker answers /readyz (Faust assigned it its partitions)."""
    assert proc.poll() is None, f"a worker stopped: see {proc.log_path}"
    with open(proc.log_path, encoding="utf-8", errors="replace") as f:
        ports = re.findall(r"metrics at http://127\.0\.0\.1:(\d+)/metrics", f.read())
    if not ports:
        return False
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{ports[-1]}/readyz", timeout=5).status == 200
    except OSError:
        return False


class Pipeline:
    """The module's broker and its workers: privacy workers (sharing one key store and pseudonym key, each its
    own data folder) and the aggregation worker."""

    def __init__(self, settings: Settings, env: dict, root):
        self.settings, self.root, self.procs = settings, root, []
        keys = root / "keys"
        keys.mkdir()
        (keys / "pseudonym.key").write_bytes(os.urandom(32))
        os.chmod(keys / "pseudonym.key", 0o600)
        self.env = {**env, "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING",
                    "POWERSELL_KEYSTORE_DIR": str(keys / "keystore"),
                    "POWERSELL_PSEUDONYM_KEY_FILE": str(keys / "pseudonym.key")}
        self.privacy = self.start_privacy("privacy-1")
        self.aggregator = self.start_aggregator()

    def _env(self, name: str, principal: str) -> dict:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        return {**self.env, "POWERSELL_DATA_DIR": str(folder), **principal_env(self.settings, principal)}

    def start_privacy(self, name: str) -> subprocess.Popen:
        proc = start(self._env(name, "privacy-worker"), "worker", "redaction")
        self.procs.append(proc)
        return proc

    def start_aggregator(self) -> subprocess.Popen:
        proc = start(self._env("aggregation", "aggregation-worker"), *AGGREGATION_ARGS)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            stop_worker(proc)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from pipeline_core.kafka_broker import LocalKafka

    data, port = tmp_path_factory.mktemp("chaos"), free_ports(2)
    env = {**os.environ, "POWERSELL_KAFKA_PORT": str(port), "POWERSELL_KAFKA_CONTROLLER_PORT": str(port + 1),
           "POWERSELL_DATA_DIR": str(data / "broker")}
    env.pop("POWERSELL_BOOTSTRAP_SERVERS", None)
    env = without_security_env(env)  # this broker's own operator (auto), not the session's
    settings = Settings.from_env(env)
    broker = LocalKafka(settings)
    broker.up()
    try:
        ensure_topics(settings)
        env = {**env, "POWERSELL_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
        p = Pipeline(settings, env, data)
        try:
            yield p
        finally:
            p.close()
    finally:
        broker.down(wipe=True)


# ---------------------------------------------------------------- data and ground truth
def shops(marketplace: str, n: int) -> list[str]:
    return [shop_key(marketplace, f"9{uuid.uuid4().int % 10**9:09d}") for _ in range(n)]


def grants(subjects) -> list[tuple[str, str, dict]]:
    return [("consent.events", *change(s, "GRANTED", LONG_AGO)) for s in subjects]


def orders(subjects: list[str], n: int, first: int = 0) -> list[tuple[str, str, dict]]:
    """n orders spread over the shops and the hours of DAY, with varied quantities and prices (all VND, VN)."""
    out = []
    for i in range(first, first + n):
        subject = subjects[i % len(subjects)]
        marketplace, shop_id = subject.split(":")
        created = DAY + timedelta(minutes=(i * 37) % (24 * 60), seconds=i % 60)
        record = copy.deepcopy(TEMPLATES["raw.orders"])
        order_id = f"CH{uuid.uuid4().hex[:12].upper()}"
        record.update(marketplace=marketplace.upper(), shop_id=shop_id, order_id=order_id, status="COMPLETED",
                      currency="VND", create_time=created, update_time=created + timedelta(minutes=5),
                      event_time=created + timedelta(minutes=5),
                      event_id=event_id(marketplace, "order", order_id, int(created.timestamp() * 1000)))
        record["items"][0].update(quantity=1 + i % 4, unit_price=Decimal(10_000 * (1 + i % 7)))
        record["total_amount"] = record["items"][0]["quantity"] * record["items"][0]["unit_price"]
        record["recipient"]["address"]["country"] = "VN"
        out.append(("raw.orders", subject, record))
    return out


def truth(published: list[tuple[str, str, dict]]) -> dict:
    """(granularity, window start ms, marketplace, country) -> (orders, items sold, GMV) of the raw orders."""
    cells = defaultdict(lambda: [0, 0, Decimal(0)])
    for _, _, r in published:
        created_ms = int(r["create_time"].timestamp() * 1000)
        for granularity, size in (("HOURLY", HOUR_MS), ("DAILY", DAY_MS)):
            cell = cells[(granularity, created_ms - created_ms % size, r["marketplace"], "VN")]
            cell[0] += 1
            cell[1] += sum(item["quantity"] for item in r["items"])
            cell[2] += sum(item["quantity"] * item["unit_price"] for item in r["items"])
    return {k: tuple(v) for k, v in cells.items()}


class Analytics:
    """analytics.aggregates as a consumer that upserts by key sees it: the highest version per key."""

    def __init__(self, settings: Settings):
        self.settings, self.registry, self.latest = settings, default_registry(), {}
        self.since = {tp: 0 for tp in end_offsets(settings, ("analytics.aggregates",))}

    def totals(self, marketplace: str) -> dict:
        for _, key, value, rec in read_since(self.settings, self.since):
            self.since[next(tp for tp in self.since if tp.partition == rec.partition)] = rec.offset + 1
            record = self.registry.decode(value)[1]
            if key not in self.latest or record["version"] > self.latest[key]["version"]:
                self.latest[key] = record
        return {(r["granularity"], int(r["window_start"].timestamp() * 1000), r["marketplace"], r["country"]):
                (r["orders"], r["items_sold"], r["gmv"]) for r in self.latest.values()
                if r["marketplace"] == marketplace and r["province"] is None and r["category"] is None
                and not r["suppressed"]}


def send(publisher: AvroPublisher, items, timeout: float = 60.0) -> None:
    futures = [publisher.send(*item) for item in items]
    for f in futures:
        f.get(timeout=timeout)


def redacted_count(settings: Settings, since: dict, ids: set[str]) -> int:
    registry = default_registry()
    return sum(1 for _, _, v, _ in read_since(settings, since) if v is not None and registry.decode(v)[1]["event_id"] in ids)


# ---------------------------------------------------------------- the end of every test
def assert_nothing_lost(pipeline: Pipeline, since: datetime, published: list, marketplace: str) -> dict:
    """The ledger finds every raw event since `since` in its place, and the analytics totals of `marketplace`
    equal those of the published orders. Returns the ledger (duplicates are allowed: at least once)."""
    workers = [p for p in pipeline.procs if p.poll() is None]

    def ledger_complete():
        assert all(w.poll() is None for w in workers), "a worker stopped"
        return not privacy_ledger(pipeline.settings, since)[0].missing
    wait_for(ledger_complete, 300, interval=1.0, what="every raw event found in its place by the ledger")
    env = {**pipeline.env, "POWERSELL_DATA_DIR": str(pipeline.root / "broker"), **principal_env(pipeline.settings, OPERATOR)}
    result = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat(), "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    ledger = json.loads(result.stdout)["stages"]["redactor"]
    assert result.returncode == 0 and ledger["missing"] == 0, ledger
    ids = {r["event_id"] for _, _, r in published}
    assert ledger["published"] >= len(ids) and ledger["in_several_places"] == 0

    expected, analytics, seen = truth(published), Analytics(pipeline.settings), {}

    def totals_match():
        assert pipeline.aggregator.poll() is None, "the aggregation worker stopped"
        seen.update(got=analytics.totals(marketplace))
        return seen["got"] == expected
    try:
        wait_for(totals_match, 300, interval=1.0, what="analytics totals equal to the published orders'")
    except AssertionError:
        got = seen.get("got", {})
        wrong = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
        raise AssertionError(f"{len(wrong)} of {len(expected)} cells differ (got, expected): "
                             f"{list(wrong.items())[:3]}; extra: {sorted(set(got) - set(expected))[:3]}") from None
    return ledger


def raw_start(settings: Settings) -> dict:
    return end_offsets(settings, ("redacted.orders",))


# ---------------------------------------------------------------- the tests
def cluster_missing() -> str | None:
    """Why the three-node test cannot run here, or None."""
    from pipeline_core import kafka_broker
    if getattr(kafka_broker, "CLUSTER_NODES", None) != 3 or not hasattr(kafka_broker.LocalKafka, "kill_node"):
        return "this checkout's `kafka up` has no --nodes 3 (three-node cluster) to kill a leader of"
    return None


def test_the_raw_partitions_leader_killed_while_publishing_loses_nothing(tmp_path):
    # First in the module: its three nodes run before the module's single-node broker exists (memory).
    if (reason := cluster_missing()) is not None:
        pytest.skip(reason)
    from kafka import TopicPartition

    from pipeline_core.kafka_broker import LocalKafka
    from pipeline_core.security import as_principal
    from tests.support.cluster import leaders, move_leaders

    port = free_ports(6)                                        # node n: client port + 2(n-1), controller + 1
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path / "broker"), "POWERSELL_KAFKA_PORT": str(port),
           "POWERSELL_KAFKA_CONTROLLER_PORT": str(port + 1), "POWERSELL_KAFKA_HEAP": "256m"}
    env.pop("POWERSELL_BOOTSTRAP_SERVERS", None)
    env = without_security_env(env)
    cluster = LocalKafka(Settings.from_env(env), nodes=3)
    try:
        env["POWERSELL_BOOTSTRAP_SERVERS"] = cluster.up(timeout=240)
        settings = Settings.from_env(env)
        ensure_topics(settings)
        operator, victim = as_principal(settings, OPERATOR), 2
        raw = [TopicPartition(t, p) for t in ("raw.shops", "raw.products", "raw.orders") for p in range(4)]
        move_leaders(operator, {tp: victim for tp in raw})      # one broker leads every raw partition
        pipeline = Pipeline(settings, env, tmp_path)
        try:
            wait_for(lambda: ready(pipeline.privacy), 240)
            subjects = shops("shopee", 8)
            publishers = [AvroPublisher(settings, client_id="chaos-leader")]  # acks=all, idempotent: the connectors'
            published, resent, errors, stop_writing = [], [], [], threading.Event()

            def write():
                i = 0
                while not stop_writing.is_set():
                    batch = orders(subjects, 20, first=i)
                    while True:
                        try:  # the producer retries for up to its delivery timeout (120 s) while leadership moves
                            send(publishers[-1], batch, timeout=200)
                            break
                        except Exception as exc:  # Kafka's texts name topics and partitions, no values
                            # What a connector does: its checkpoint stays, it publishes the same events again
                            # (same ids) with a new producer. Bounded: a cluster that never recovers fails the test.
                            resent.append(f"{type(exc).__name__}: {exc}"[:200])
                            if len(resent) > 5:
                                errors.append("the cluster kept refusing sends")
                                return
                            publishers[-1].close()
                            publishers.append(AvroPublisher(settings, client_id="chaos-leader"))
                    published.extend(batch)
                    i += 20
                    stop_writing.wait(0.5)
            try:
                send(publishers[0], grants(subjects))
                since = datetime.now(timezone.utc) - timedelta(seconds=1)
                writer = threading.Thread(target=write, daemon=True)
                writer.start()
                wait_for(lambda: len(published) >= 200 or errors, 120)
                assert cluster.kill_node(victim), "the leader was not running"     # SIGKILL mid-stream
                killed_at = len(published)
                wait_for(lambda: len(published) >= killed_at + 300 or errors, 420)  # two replicas are in sync: on
                moved = leaders(operator, ("raw.orders",))
                cluster.up(timeout=240)                                              # the node comes back, catches up
                wait_for(lambda: len(published) >= killed_at + 500 or errors, 420)
                stop_writing.set()
                writer.join(60)
            finally:
                stop_writing.set()
                publishers[-1].close()
            assert errors == [] and victim not in moved.values()
            ledger = assert_nothing_lost(pipeline, since, published, "SHOPEE")
            print(f"{len(published)} orders, node {victim} killed after {killed_at}; sends given up by the producer "
                  f"and sent again: {resent}; ledger: {ledger}")
        finally:
            pipeline.close()
    finally:
        cluster.down(wipe=True)


def test_privacy_worker_killed_mid_batch_and_restarted_loses_nothing(pipeline):
    settings = pipeline.settings
    wait_for(lambda: ready(pipeline.privacy), 180)
    subjects = shops("shopee", 8)
    publisher = AvroPublisher(settings, client_id="chaos-kill")
    try:
        send(publisher, grants(subjects))
        since, start_offsets = datetime.now(timezone.utc) - timedelta(seconds=1), raw_start(settings)
        first = orders(subjects, 1500)
        send(publisher, first)
        ids = {r["event_id"] for _, _, r in first}
        wait_for(lambda: redacted_count(settings, start_offsets, ids) > 0, 180)
        stop_worker(pipeline.privacy, signal.SIGKILL)                  # mid-batch: some orders out, the batch uncommitted
        done_at_kill = redacted_count(settings, start_offsets, ids)
        second = orders(subjects, 300, first=1500)              # written while no worker runs
        send(publisher, second)
        pipeline.privacy = pipeline.start_privacy("privacy-1")
    finally:
        publisher.close()
    ledger = assert_nothing_lost(pipeline, since, first + second, "SHOPEE")
    print(f"killed with {done_at_kill} of {len(first)} orders redacted; ledger: {ledger}")
    assert done_at_kill < len(first), "the kill came after the whole batch: nothing was in flight"


def test_a_second_privacy_worker_joining_and_leaving_mid_stream_loses_nothing(pipeline):
    settings = pipeline.settings
    wait_for(lambda: ready(pipeline.privacy), 180)
    subjects = shops("lazada", 8)
    publisher = AvroPublisher(settings, client_id="chaos-rebalance")
    published, stop_writing = [], threading.Event()

    def write():  # a steady stream while the group changes under it
        i = 0
        while not stop_writing.is_set():
            batch = orders(subjects, 20, first=i)
            send(publisher, batch)
            published.extend(batch)
            i += 20
            stop_writing.wait(0.5)
    try:
        send(publisher, grants(subjects))
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        wait_for(lambda: len(published) >= 200, 120)
        second = pipeline.start_privacy("privacy-2")            # joins: the partitions are split between two
        wait_for(lambda: ready(second), 180)
        joined_at = len(published)
        wait_for(lambda: len(published) >= joined_at + 200, 120)
        stop_worker(second)                                            # leaves: its partitions go back to the first
        wait_for(lambda: len(published) >= joined_at + 400, 120)
        stop_writing.set()
        writer.join(60)
    finally:
        stop_writing.set()
        publisher.close()
    ledger = assert_nothing_lost(pipeline, since, published, "LAZADA")
    print(f"{len(published)} orders; the second worker joined after {joined_at}; ledger: {ledger}")


def test_aggregation_worker_killed_mid_window_and_restarted_loses_nothing(pipeline):
    settings = pipeline.settings
    wait_for(lambda: ready(pipeline.privacy), 180)
    subjects = shops("tiktok_shop", 6)
    analytics = Analytics(settings)
    publisher = AvroPublisher(settings, client_id="chaos-aggregator")
    try:
        send(publisher, grants(subjects))
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        first = orders(subjects, 600)
        send(publisher, first)
        wait_for(lambda: any(k[0] == "DAILY" for k in analytics.totals("TIKTOK_SHOP")), 240)  # the day's cell is out
        stop_worker(pipeline.aggregator, signal.SIGKILL)               # state only in its changelog, the window still open
        partial = analytics.totals("TIKTOK_SHOP")
        second = orders(subjects, 600, first=600)
        send(publisher, second)
        pipeline.aggregator = pipeline.start_aggregator()
    finally:
        publisher.close()
    ledger = assert_nothing_lost(pipeline, since, first + second, "TIKTOK_SHOP")
    daily = {k: v for k, v in partial.items() if k[0] == "DAILY"}
    print(f"killed with daily cells {daily}; ledger: {ledger}")
    assert daily, "the aggregator had published nothing of the window when it was killed"
