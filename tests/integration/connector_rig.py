"""A simulator, a connector with its own data folder, and optionally a webhook receiver,
against the real broker; helpers to read back what a test wrote.

Each rig runs its own simulator with a fresh seed, so its shop ids (and therefore its
consent and checkpoint keys) are its own on the shared broker."""

from __future__ import annotations

import json
import os
import random
import urllib.request
from datetime import timedelta


from connectors.assembly import build_connector
from connectors.commands import authorise_simulated_shops, serve_simulator, simulator_env, simulator_for
from connectors.config import SyncConfig, marketplace_config
from connectors.metrics import ConnectorMetrics
from connectors.runner import ConnectorService
from connectors.webhook import WebhookReceiver
from pipeline_core.avro_codec import default_registry
from pipeline_core import kafka_io
from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.security import principal_env
from pipeline_core.settings import Settings
from pipeline_core.topics import shop_key
from tests.support.waiting import wait_for  # noqa: F401 (still imported from here by some tests)

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
    return kafka_io.end_offsets(settings, tuple(topics))


def read_since(settings, since, topics):
    """Every record written to topics after the offsets in since, decoded: [(topic, key, record)]."""
    registry = default_registry()
    wanted = {tp: o for tp, o in since.items() if tp.topic in topics}
    return [(t, k.decode() if k else None, registry.decode(v)[1]) for t, k, v, _ in kafka_io.read_since(settings, wanted)]


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

    def __init__(self, kafka: Settings, tmp_path, marketplace: str, webhook: bool = False, start_receiver: bool = True,
                 **sim_config):
        self.marketplace = marketplace
        self.settings = Settings.from_env({**os.environ, "POWERSELL_DATA_DIR": str(tmp_path / "data"),
                                           "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                                           **principal_env(kafka, "connectors")})
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
        self.server = serve_simulator(self.sim)
        market = marketplace_config(marketplace, simulator_env(marketplace, self.server))
        self.market = market
        self.publisher = AvroPublisher(self.settings, client_id="test-connector")
        self.metrics = ConnectorMetrics()
        self.connector = build_connector(self.settings, market, SyncConfig(lookback=timedelta(minutes=10),
                                                                           full_sync_days=60, request_timeout=5),
                                         self.publisher, self.metrics)
        self.service = ConnectorService(self.connector.syncer, poll_interval=0.5)
        self.webhook_port = webhook_port
        if webhook and start_receiver:
            self.start_receiver()

    def start_receiver(self):
        self.receiver = WebhookReceiver({self.marketplace: self.connector.syncer},
                                        f"http://127.0.0.1:{self.webhook_port}")
        self.webhook_server = self.receiver.serve(port=self.webhook_port)
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


def syncer_now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
