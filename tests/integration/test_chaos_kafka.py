"""Chaos on a three-node Kafka cluster (bounded, loopback only; replication factor 3, min.insync.replicas 2):
the leader of every raw partition SIGKILLed while the connectors publish and restarted, the privacy worker
SIGKILLed mid-batch and restarted, a second privacy worker joining and leaving mid-stream (two rebalances),
the aggregation worker SIGKILLed mid-window and restarted. Each test ends with the ledger (`reconcile`)
finding every raw event in its place (duplicates allowed, and counted) and with the analytics totals equal
to the ground truth: the totals of the raw orders the test published.

Aggregates combine every shop, so the module runs on a cluster of its own, started once (another module's
orders would land in the same cells), and each test has cells of its own: its own marketplace, or its own day."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
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
from pipeline_core.kafka_io import AvroPublisher, end_offsets, read_since
from pipeline_core.security import OPERATOR, principal_env, without_security_env
from pipeline_core.settings import Settings
from pipeline_core.topics import shop_key
from powersell.reconcile import privacy_ledger
from schemas import event_id
from tests.consent_helpers import LONG_AGO, change
from tests.integration.test_consent_kafka import TEMPLATES
from tests.support.cluster import leaders, move_leaders, private_cluster, replication
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
AGGREGATION_ARGS = ("worker", "aggregation", "--k", "1", "--dominance", "1.0", "--tick-seconds", "1",
                    "--hourly-lateness", str(24 * 62))  # every cell published, hourly windows of past days accepted
DAY = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------- processes
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
    """The module's cluster (`nodes` kills and restarts its nodes) and its workers: privacy workers (sharing one
    key store and pseudonym key, each its own data folder) and the aggregation worker."""

    def __init__(self, settings: Settings, nodes, env: dict, root):
        self.settings, self.nodes, self.root, self.procs = settings, nodes, root, []
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


CHECKED_TOPICS = ("raw.orders", "consent.events", "redacted.orders", "analytics.aggregates")


@pytest.fixture(scope="module")
def pipeline(settings, tmp_path_factory):
    data = tmp_path_factory.mktemp("chaos")
    with private_cluster(settings) as (operator, nodes):
        assert replication(operator, CHECKED_TOPICS) == {t: ({3}, "2") for t in CHECKED_TOPICS}
        env = {**without_security_env(os.environ), "POWERSELL_BOOTSTRAP_SERVERS": operator.bootstrap_servers}
        p = Pipeline(operator, nodes, env, data)
        try:
            wait_for(lambda: ready(p.privacy), 240)
            yield p
        finally:
            p.close()


# ---------------------------------------------------------------- data and ground truth
def shops(marketplace: str, n: int) -> list[str]:
    return [shop_key(marketplace, f"9{uuid.uuid4().int % 10**9:09d}") for _ in range(n)]


def grants(subjects) -> list[tuple[str, str, dict]]:
    return [("consent.events", *change(s, "GRANTED", LONG_AGO)) for s in subjects]


def orders(subjects: list[str], n: int, first: int = 0, day: datetime = DAY) -> list[tuple[str, str, dict]]:
    """n orders spread over the shops and the hours of `day`, with varied quantities and prices (all VND, VN)."""
    out = []
    for i in range(first, first + n):
        subject = subjects[i % len(subjects)]
        marketplace, shop_id = subject.split(":")
        created = day + timedelta(minutes=(i * 37) % (24 * 60), seconds=i % 60)
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

    def totals(self, marketplace: str, days: set[int] | None = None) -> dict:
        """The unsuppressed country cells of `marketplace` (of the days starting at `days`, ms, when given)."""
        for _, key, value, rec in read_since(self.settings, self.since):
            self.since[next(tp for tp in self.since if tp.partition == rec.partition)] = rec.offset + 1
            record = self.registry.decode(value)[1]
            if key not in self.latest or record["version"] > self.latest[key]["version"]:
                self.latest[key] = record
        return {(r["granularity"], int(r["window_start"].timestamp() * 1000), r["marketplace"], r["country"]):
                (r["orders"], r["items_sold"], r["gmv"]) for r in self.latest.values()
                if r["marketplace"] == marketplace and r["province"] is None and r["category"] is None
                and not r["suppressed"]
                and (days is None or int(r["window_start"].timestamp() * 1000) // DAY_MS * DAY_MS in days)}


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
    equal those of the published orders. Returns every stage's ledger counts (duplicates are allowed: at least once)."""
    workers = [p for p in pipeline.procs if p.poll() is None]

    seen = {}

    def ledger_complete():
        assert all(w.poll() is None for w in workers), "a worker stopped"
        seen["ledger"], seen["unread"] = privacy_ledger(pipeline.settings, since)
        return not seen["ledger"].missing
    try:
        wait_for(ledger_complete, 300, interval=1.0, what="every raw event found in its place by the ledger")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen['ledger'].as_dict() if seen else None}, of which "
                             f"not read by the group yet: {seen.get('unread')}") from None
    env, last = pipeline._env("reconcile", OPERATOR), {}

    def reconcile_clean():  # every stage, the aggregator's too (its ledger trails its commits by seconds)
        result = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat(),
                                 "--json"], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1), result.stderr[-2000:]
        last["stages"] = json.loads(result.stdout)["stages"]
        return result.returncode == 0
    try:
        wait_for(reconcile_clean, 180, interval=2.0, what="`reconcile` exit 0")
    except AssertionError as timeout:
        if "not within" not in str(timeout):
            raise
        raise AssertionError(f"{timeout}; reconcile still finds events missing: {last.get('stages')}") from None
    assert all(stage["missing"] == 0 for stage in last["stages"].values()), last["stages"]
    ledger = last["stages"]["redactor"]
    ids = {r["event_id"] for _, _, r in published}
    assert ledger["published"] >= len(ids) and ledger["in_several_places"] == 0

    expected, analytics, seen = truth(published), Analytics(pipeline.settings), {}
    days = {window // DAY_MS * DAY_MS for _, window, _, _ in expected}  # the module's other tests have other cells

    def totals_match():
        assert pipeline.aggregator.poll() is None, "the aggregation worker stopped"
        seen.update(got=analytics.totals(marketplace, days))
        return seen["got"] == expected
    try:
        wait_for(totals_match, 300, interval=1.0, what="analytics totals equal to the published orders'")
    except AssertionError:
        got = seen.get("got", {})
        wrong = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
        raise AssertionError(f"{len(wrong)} of {len(expected)} cells differ (got, expected): "
                             f"{list(wrong.items())[:3]}; extra: {sorted(set(got) - set(expected))[:3]}") from None
    return {name: {k: v for k, v in stage.items() if not k.endswith("_ids")} for name, stage in last["stages"].items()}


def raw_start(settings: Settings) -> dict:
    return end_offsets(settings, ("redacted.orders",))


# ---------------------------------------------------------------- the tests
def test_the_raw_partitions_leader_killed_while_publishing_loses_nothing(pipeline):
    from kafka import TopicPartition

    settings, victim = pipeline.settings, 2
    raw = [TopicPartition(t, p) for t in ("raw.shops", "raw.products", "raw.orders") for p in range(4)]
    move_leaders(settings, {tp: victim for tp in raw})          # one broker leads every raw partition
    wait_for(lambda: ready(pipeline.privacy), 240)
    subjects = shops("shopee", 8)
    day = DAY - timedelta(days=1)                               # SHOPEE of DAY is the next test's
    publishers = [AvroPublisher(settings, client_id="chaos-leader")]  # acks=all, idempotent: the connectors'
    published, resent, errors, stop_writing = [], [], [], threading.Event()

    def write():
        i = 0
        while not stop_writing.is_set():
            batch = orders(subjects, 20, first=i, day=day)
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
        assert pipeline.nodes.kill_node(victim), "the leader was not running"     # SIGKILL mid-stream
        killed_at = len(published)
        wait_for(lambda: len(published) >= killed_at + 300 or errors, 420)  # two replicas are in sync: on
        moved = leaders(settings, ("raw.orders",))
        pipeline.nodes.up(timeout=240)                                       # the node comes back, catches up
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
