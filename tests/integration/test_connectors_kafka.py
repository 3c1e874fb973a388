"""Connectors end to end: simulator -> connector -> real Kafka.

Each test runs its own simulator with a fresh seed, so its shop ids (and therefore its
consent and checkpoint keys) are its own on the shared broker."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from kafka import KafkaConsumer, TopicPartition

from connectors import MARKETPLACES
from connectors.assembly import build_connector
from connectors.commands import authorise_simulated_shops, simulator_for
from connectors.config import SyncConfig, marketplace_config
from connectors.metrics import ConnectorMetrics
from connectors.runner import ConnectorService
from connectors.webhook import WebhookReceiver
from pipeline_core.aiohttp_thread import serve_in_thread
from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.settings import Settings
from pipeline_core.topics import shop_key

pytestmark = pytest.mark.kafka
RAW = ("raw.shops", "raw.products", "raw.orders")


def post(url, payload=None):
    req = urllib.request.Request(url, data=json.dumps(payload or {}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as reply:
        body = reply.read()
    return json.loads(body) if body else None


def get(url):
    with urllib.request.urlopen(url, timeout=30) as reply:
        return json.load(reply)


def end_offsets(settings, topics=RAW + ("ops.dead-letters", "consent.events")):
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t)]
        return consumer.end_offsets(tps)
    finally:
        consumer.close()


def read_since(settings, since, topics):
    """Every record written to topics after the offsets in since, decoded: [(topic, key, record)]."""
    registry = default_registry()
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    out = []
    try:
        tps = [tp for tp in since if tp.topic in topics]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, since[tp])
        end = consumer.end_offsets(tps)
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=300).items():
                for r in records:
                    out.append((tp.topic, r.key.decode() if r.key else None, registry.decode(r.value)[1]))
    finally:
        consumer.close()
    return out


def truth_pairs(truth, marketplace):
    """{(entity, shop key, entity id, update_time_s)} from the simulator's ground truth."""
    symbol = marketplace.upper()
    # No platform gives a shop's update time: the shop event is stamped when it was read.
    pairs = {("shop", shop_key(symbol, sid), sid, None) for sid in truth["shops"]}
    for entity in ("products", "orders"):
        for composite, t in truth[entity].items():
            sid, eid = composite.split(":", 1)
            pairs.add((entity, shop_key(symbol, sid), eid, t))
    return pairs


def published_pairs(records):
    out = set()
    for topic, key, rec in records:
        entity = topic.split(".")[1]
        eid = {"shops": rec["shop_id"], "products": rec.get("item_id"), "orders": rec.get("order_id")}[entity]
        when = None if entity == "shops" else int(rec["event_time"].timestamp())
        out.add(({"shops": "shop"}.get(entity, entity), key, eid, when))
    return out


class Rig:
    """One simulator, one connector (own data dir), optional webhook receiver."""

    def __init__(self, kafka: Settings, tmp_path, marketplace: str, webhook: bool = False, **sim_config):
        self.marketplace = marketplace
        self.settings = Settings.from_env({**os.environ, "POWERSELL_DATA_DIR": str(tmp_path / "data"),
                                           "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers})
        self.receiver = self.webhook_server = None
        webhook_port = None
        if webhook:
            import socket
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                webhook_port = s.getsockname()[1]
        self.sim = simulator_for(marketplace, seed=random.randrange(10**6), shops=3,
                                 webhook_url=f"http://127.0.0.1:{webhook_port}/webhooks/{marketplace}" if webhook else None,
                                 **sim_config)
        self.server = serve_in_thread(self.sim.app())
        market = marketplace_config(marketplace, {f"POWERSELL_{marketplace.upper()}_BASE_URL": self.server.url})
        self.market = market
        self.publisher = AvroPublisher(self.settings, client_id="test-connector")
        self.metrics = ConnectorMetrics()
        self.connector = build_connector(self.settings, market, SyncConfig(lookback=timedelta(minutes=10),
                                                                           full_sync_days=60, request_timeout=5),
                                         self.publisher, self.metrics)
        self.service = ConnectorService(self.connector.syncer, poll_interval=0.5)
        if webhook:
            self.receiver = WebhookReceiver({marketplace: self.connector.syncer}, f"http://127.0.0.1:{webhook_port}")
            self.webhook_server = serve_in_thread(self.receiver.app(), port=webhook_port)
            self.receiver.start()

    def authorise(self):
        return authorise_simulated_shops(self.connector, self.server.url)

    def truth(self):
        return get(f"{self.server.url}/_sim/ground_truth")

    def mine(self, records):
        """Only this rig's records: other tests and processes write to the same topics."""
        keys = {shop_key(self.marketplace.upper(), sid) for sid in self.truth()["shops"]}
        return [r for r in records if r[1] in keys or (r[0] == "ops.dead-letters"
                                                        and r[2]["stage"] == f"connector.{self.marketplace}")]

    def close(self):
        if self.receiver:
            self.receiver.stop()
            self.webhook_server.stop()
        self.connector.close()
        self.publisher.close()
        self.server.stop()


@pytest.fixture
def rig_factory(kafka, tmp_path):
    rigs = []

    def make(marketplace, **kw):
        rig = Rig(kafka, tmp_path / f"rig{len(rigs)}", marketplace, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.mark.parametrize("marketplace", list(MARKETPLACES))
def test_when_a_shop_is_synced_then_kafka_holds_exactly_the_simulators_records(rig_factory, kafka, marketplace):
    rig = rig_factory(marketplace)
    assert rig.authorise() == 3
    since = end_offsets(kafka)
    reports = rig.service.run_once()
    assert [r.skipped for r in reports] == [None, None, None] and not any(r.failed for r in reports)
    records = rig.mine(read_since(kafka, since, RAW))
    truth = rig.truth()
    assert published_pairs(records) == truth_pairs(truth, marketplace)
    # one event per record version: no duplicates in a clean full sync
    assert len(records) == len(truth_pairs(truth, marketplace))
    for topic, key, rec in records:
        assert key == shop_key(marketplace.upper(), rec["shop_id"])

    # incremental: the world changes (new orders, status and price changes, late updates)
    changes = []
    for _ in range(20):  # tick until the changes include a late update (15% of changes are)
        changes += post(f"{rig.server.url}/_sim/tick", {"changes": 10})
        if any(c["kind"] == "late_update" for c in changes):
            break
    assert any(c["kind"] == "late_update" for c in changes)
    since = end_offsets(kafka)
    rig.service.run_once()
    later = rig.mine(read_since(kafka, since, RAW))
    truth = rig.truth()
    assert truth_pairs(truth, marketplace) <= published_pairs(records + later)
    latest = {}  # an entity changed twice in one tick is visible only in its last version
    for c in changes:
        latest[(c["entity"], c["entity_id"])] = max(c["update_time"], latest.get((c["entity"], c["entity_id"]), 0))
    changed = {(entity, eid, t) for (entity, eid), t in latest.items()}
    got = {(e.rstrip("s") if e != "shop" else e, eid, t) for e, _, eid, t in published_pairs(later)}
    assert changed <= got, "every change, late ones included, is picked up by the next incremental sync"


def test_when_consent_is_withdrawn_then_the_shop_is_no_longer_polled_nor_its_pushes_used(rig_factory, kafka):
    rig = rig_factory("shopee", webhook=True)
    rig.authorise()
    rig.service.run_once()
    shops = sorted(rig.truth()["shops"])
    gone = shops[0]
    post(f"{rig.server.url}/_sim/shops/{gone}/cancel")
    deadline = time.monotonic() + 30
    syncer = rig.connector.syncer
    while time.monotonic() < deadline:
        syncer.consent.refresh()
        if not syncer.consent.is_active("shopee", gone, syncer_now()):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the cancellation push did not withdraw consent")
    since = end_offsets(kafka)
    post(f"{rig.server.url}/_sim/tick", {"changes": 30})
    wait_for(lambda: rig.receiver.work.empty(), 30)
    reports = {r.shop_id: r for r in rig.service.run_once()}
    # its tokens were dropped with the withdrawal; had they not been, the consent gate skips it
    assert gone not in reports or reports[gone].skipped == "no_consent"
    assert all(r.skipped is None for sid, r in reports.items() if sid != gone)
    later = rig.mine(read_since(kafka, since, RAW))
    assert all(rec["shop_id"] != gone for _, _, rec in later)
    assert any(rec["shop_id"] != gone for _, _, rec in later)


def syncer_now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


@pytest.mark.parametrize("fault", ["malformed_json", "invalid_utf8", "missing_field", "wrong_type", "http_500",
                                   "oversize"])
def test_when_faults_are_injected_then_they_end_in_retries_or_dead_letters_and_nothing_is_lost(rig_factory, kafka, fault):
    rig = rig_factory("lazada")
    rig.authorise()
    post(f"{rig.server.url}/_sim/faults", {"kind": fault, "count": 2})
    since = end_offsets(kafka)
    reports = rig.service.run_once()
    records = rig.mine(read_since(kafka, since, RAW + ("ops.dead-letters",)))
    data = [r for r in records if r[0] != "ops.dead-letters"]
    dead = [r[2] for r in records if r[0] == "ops.dead-letters"]
    truth = truth_pairs(rig.truth(), "lazada")
    published = published_pairs(data)
    dead_reasons = {d["reason_code"] for d in dead}
    if fault in ("missing_field", "wrong_type"):
        # the broken records are dead-lettered with the reason; every other record arrived
        assert dead_reasons == {fault}
        assert len(truth - published) <= 2
    else:
        assert published == truth and not any(r.failed for r in reports)
        if fault != "http_500":
            assert fault.replace("malformed_json", "invalid_json") in dead_reasons
    for d in dead:
        assert d["original_value"] is not None and d["stage"] == "connector.lazada"


def test_when_the_connector_is_killed_mid_sync_then_a_restart_loses_nothing(kafka, tmp_path):
    rig = Rig(kafka, tmp_path, "tiktok_shop")
    try:
        rig.authorise()
        post(f"{rig.server.url}/_sim/faults", {"kind": "slow", "count": 1000, "delay": 0.05})
        since = end_offsets(kafka)
        env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path / "data"),
               "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "POWERSELL_TIKTOK_SHOP_BASE_URL": rig.server.url,
               "POWERSELL_METRICS_PORT": "0"}
        cmd = [sys.executable, "-m", "pipeline_core.cli", "connect", "tiktok_shop", "--once", "--webhook-port", "0"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: len(rig.mine(read_since(kafka, since, ("raw.orders",)))) >= 20 or first.poll() is not None, 120)
        assert first.poll() is None, "the sync finished before it could be killed: make it slower"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert second.returncode == 0, second.stderr[-2000:]
        published = published_pairs(rig.mine(read_since(kafka, since, RAW)))
        assert truth_pairs(rig.truth(), "tiktok_shop") <= published
    finally:
        rig.close()
