"""The aggregation worker on real Kafka: a simulator's shops are synced by the real connector,
redacted by the real privacy worker and aggregated by the real aggregation worker; every
published country cell must equal the totals computed directly from the simulator's ground
truth, also after the aggregation worker is killed (SIGKILL) mid-stream and restarted.

Aggregates combine every shop, so these tests run on a broker of their own: another test's
orders on the shared broker would land in the same day cells."""

from __future__ import annotations

import os
import signal
import socket
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import admin_client, end_offsets, ensure_topics, read_since
from pipeline_core.lag import committed_offsets
from pipeline_core.security import principal_env, without_security_env
from pipeline_core.settings import Settings
from streams.aggregation.cells import CANCELLED_STATUSES
from streams.aggregation_app import APP_ID as AGGREGATOR_APP_ID
from tests.integration.connector_rig import Rig
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka
HOUR_MS, DAY_MS = 3_600_000, 86_400_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory):
    from pipeline_core.kafka_broker import LocalKafka
    data = tmp_path_factory.mktemp("aggregation-broker")
    env = {**os.environ, "POWERSELL_KAFKA_PORT": str(_free_port()), "POWERSELL_KAFKA_CONTROLLER_PORT": str(_free_port()),
           "POWERSELL_DATA_DIR": str(data)}
    env.pop("POWERSELL_BOOTSTRAP_SERVERS", None)
    env = without_security_env(env)  # this broker's own operator (auto), not the session's
    settings = Settings.from_env(env)
    broker = LocalKafka(settings)
    broker.up()
    ensure_topics(settings)
    yield settings, env
    broker.down()


def start(env, *args, log_name):
    return start_worker({**env, "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING"}, *args,
                        log_path=os.path.join(env["POWERSELL_DATA_DIR"], log_name))


def committed_on_shards(settings) -> int:
    """How many records of its input (the shards topic) the aggregation worker's group has committed."""
    tps = list(end_offsets(settings, (f"{AGGREGATOR_APP_ID}-shards",)))
    admin = admin_client(settings)
    try:
        return sum(max(0, o.offset) for o in committed_offsets(admin, AGGREGATOR_APP_ID, tps).values())
    finally:
        admin.close()


def expected_cells(world, now_ms):
    """(granularity, window_start_ms, country) -> orders, items_sold, gmv, distinct_shops: straight from the world,
    for every window that has ended (a window is published once it ends, then again for late events)."""
    cells = defaultdict(lambda: {"orders": 0, "items_sold": 0, "gmv": Decimal(0), "shops": set()})
    for order in world.orders.values():
        if order.status.upper() in CANCELLED_STATUSES:
            continue
        created_ms = order.create_time * 1000
        for granularity, size in (("HOURLY", HOUR_MS), ("DAILY", DAY_MS)):
            cell = cells[(granularity, created_ms - created_ms % size, order.recipient_address.country)]
            cell["orders"] += 1
            cell["items_sold"] += sum(i.quantity for i in order.items)
            cell["gmv"] += sum(i.quantity * i.unit_price for i in order.items)
            cell["shops"].add(order.shop_id)
    size = {"HOURLY": HOUR_MS, "DAILY": DAY_MS}
    return {k: (v["orders"], v["items_sold"], v["gmv"], len(v["shops"])) for k, v in cells.items()
            if k[1] + size[k[0]] <= now_ms}


class Published:
    """The analytics topic as a consumer that upserts by key sees it: the highest version per key."""

    def __init__(self, settings):
        self.settings, self.registry, self.latest = settings, default_registry(), {}
        self.since = {tp: 0 for tp in end_offsets(settings, ("analytics.aggregates",))}

    def refresh(self):
        for _, key, value, rec in read_since(self.settings, self.since):
            self.since[next(tp for tp in self.since if tp.partition == rec.partition)] = rec.offset + 1
            record = self.registry.decode(value)[1]
            current = self.latest.get(key)
            if current is None or record["version"] > current["version"]:
                self.latest[key] = record
        return self

    def country_cells(self, until_ms):
        return {k: v for k, v in self._country_cells().items() if k[1] + (HOUR_MS if k[0] == "HOURLY" else DAY_MS) <= until_ms}

    def _country_cells(self):
        return {(r["granularity"], int(r["window_start"].timestamp() * 1000), r["country"]):
                (r["orders"], r["items_sold"], r["gmv"], r["distinct_shops"])
                for r in self.latest.values() if r["marketplace"] == "SHOPEE" and r["province"] is None
                and r["category"] is None and not r["suppressed"] and r["orders"]}  # emptied cells: nothing to compare


@pytest.mark.slow
def test_every_published_cell_matches_the_ground_truth_after_a_kill_and_restart(own_broker, tmp_path):
    settings, env = own_broker
    rig = Rig(settings, tmp_path, "shopee")
    processes = []
    try:
        rig.authorise()
        # the workers share the connectors' data folder: the key store and pseudonym key that sealed the events
        env = {**env, "POWERSELL_DATA_DIR": str(rig.settings.data_dir)}
        privacy = start({**env, **principal_env(settings, "privacy-worker")}, "worker", "redaction",
                        log_name="privacy.log")
        processes.append(privacy)
        aggregation_args = ("worker", "aggregation", "--k", "1", "--dominance", "1.0", "--tick-seconds", "1",
                            "--hourly-lateness", str(24 * 62))  # the simulator's whole history, hour by hour
        aggregator = start({**env, **principal_env(settings, "aggregation-worker")}, *aggregation_args,
                           log_name="aggregator.log")
        processes.append(aggregator)
        rig.service.run_once()                                   # full sync: 45 days of orders
        published = Published(settings)
        now_ms = lambda: int(datetime.now(timezone.utc).timestamp() * 1000)  # noqa: E731

        def some_published_and_committed():
            assert aggregator.poll() is None and privacy.poll() is None, "a worker stopped"
            # committed too: its successor must rely on the changelog for those records, not read them again
            return len(published.refresh().country_cells(now_ms())) >= 3 and committed_on_shards(settings) > 0
        try:
            wait_for(some_published_and_committed, 180)
        except AssertionError:
            raise AssertionError(f"only {len(published.latest)} aggregate records, {len(published.country_cells(now_ms()))} "
                                 f"country cells, {committed_on_shards(settings)} input records committed") from None
        stop_worker(aggregator, signal.SIGKILL)                  # killed mid-stream: state only in its changelog
        rig.sim.world.tick(20)                                   # the world moves on while it is down
        rig.service.run_once()
        aggregator = start({**env, **principal_env(settings, "aggregation-worker")}, *aggregation_args,
                           log_name="aggregator.log")
        processes.append(aggregator)

        checked = {}

        def all_match():
            assert aggregator.poll() is None, "the restarted aggregation worker stopped"
            checked["at"] = at = now_ms() - 10_000   # a window that ended just now may be on its way
            return published.refresh().country_cells(at) == expected_cells(rig.sim.world, at)
        try:
            wait_for(all_match, 240)
        except AssertionError:
            got, expected = published.country_cells(checked["at"]), expected_cells(rig.sim.world, checked["at"])
            wrong = {k: (got.get(k), expected.get(k)) for k in set(expected) | set(got) if got.get(k) != expected.get(k)}
            extra = {(r["granularity"], int(r["window_start"].timestamp() * 1000), r["country"]): (r["suppression_reason"], r["orders"])
                     for r in published.latest.values() if r["province"] is None and r["category"] is None}
            hints = [(k, extra.get(k)) for k in list(wrong)[:5]]
            raise AssertionError(f"{len(wrong)} of {len(expected)} cells differ, e.g. {list(wrong.items())[:3]}; {hints}; "
                                 f"{len(published.latest)} records") from None
        # no identifier of any kind on the analytics topic: the shop ids and order ids of the world are absent
        records = [v for _, _, v, _ in read_since(settings, {tp: 0 for tp in published.since})]
        blob, decoded = b"\x00".join(records), "\n".join(str(default_registry().decode(v)[1]) for v in records)
        ids = set(rig.sim.world.shops) | {o.order_id for o in rig.sim.world.orders.values()} | \
            {o.buyer_user_id for o in rig.sim.world.orders.values()}
        # digits-only ids are looked for in the bytes only: decoded amounts are digits too
        assert [i for i in ids if i.encode() in blob or (not i.isdigit() and i in decoded)] == []
        assert all(r["published_time"] <= datetime.now(timezone.utc) for r in published.latest.values())
    finally:
        for proc in processes:
            stop_worker(proc)
        rig.close()
