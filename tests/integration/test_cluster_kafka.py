"""The pipeline on a three-node Kafka cluster (`kafka up --nodes 3`): replicated topics, a node restarted,
and the consent barrier with the consent partitions and the data partitions led by different brokers.

The barrier's promise: a data event is decided after every consent record written to its partition
before the data was read. With several brokers the data and the consent records come from different
leaders in different fetches, and the consumer's cached high watermark of a consent partition can be
older than a withdrawal written before the data (aiokafka does not fetch a partition while it still
holds records of it, nor a paused one). The barrier asks the consent partitions' leaders for their end
offsets instead; the backlog test below lets data through with the cached value."""

from __future__ import annotations

import copy
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaProducer, TopicPartition

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_broker import CLUSTER_NODES, LocalKafka, broker_answers
from pipeline_core.kafka_io import AvroPublisher, admin_client, partition_for
from pipeline_core.kafka_io import read_since as read_records
from pipeline_core.sample_events import sample_events
from pipeline_core.security import kafka_client_config, principal_env
from pipeline_core.topics import CATALOG, DATA_PARTITIONS, consent_key, shop_key, topic
from schemas import event_id
from tests.consent_helpers import LONG_AGO, change
from tests.integration.connector_rig import end_offsets
from tests.support.cluster import leaders, local_cluster, move_leaders
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]  # every test needs the three-node cluster (~100 s to start)
RAW = ("raw.shops", "raw.products", "raw.orders")
CONSENT_LEADER, DATA_LEADER = 3, 2
T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
TEMPLATES = {name: record for name, _, record in reversed(sample_events())}
BACKLOG = 20_000  # consent records ahead of the withdrawal: seconds of work for the consent agent


@pytest.fixture(scope="module")
def cluster(settings):
    with local_cluster(settings) as operator:
        yield operator


@pytest.fixture(scope="module")
def leaders_apart(cluster):
    """Every consent partition led by one broker, every raw data partition by another."""
    wanted = {TopicPartition("consent.events", p): CONSENT_LEADER for p in range(DATA_PARTITIONS)}
    wanted |= {TopicPartition(name, p): DATA_LEADER for name in RAW for p in range(DATA_PARTITIONS)}
    move_leaders(cluster, wanted)
    return cluster


@pytest.fixture(scope="module")
def worker(leaders_apart, tmp_path_factory):
    cluster = leaders_apart
    data = tmp_path_factory.mktemp("cluster-privacy-worker")
    env = {**os.environ, "POWERSELL_DATA_DIR": str(data), "POWERSELL_BOOTSTRAP_SERVERS": cluster.bootstrap_servers,
           "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(cluster, "privacy-worker")}
    proc = start_worker(env, "worker", "redaction", log_path=data / "worker.log")
    try:
        shop = new_shop()  # warm-up: wait until the worker decided a record instead of racing its start
        since = end_offsets(cluster, ("redacted.orders",))
        publish(cluster, grant(shop), event(shop, 1))
        redacted_after(cluster, since, proc, shop, 1)
        yield proc
    finally:
        stop_worker(proc)


def new_shop() -> str:
    return shop_key("shopee", f"8{uuid.uuid4().int % 10**9:09d}")


def same_partition(subject: str) -> str:
    want = partition_for(topic("raw.orders"), subject)
    while partition_for(topic("raw.orders"), candidate := new_shop()) != want:
        pass
    return candidate


def event(subject: str, seconds: float) -> tuple[str, str, dict]:
    marketplace, shop_id = subject.split(":")
    stamp = T0 + timedelta(seconds=seconds)
    record = copy.deepcopy(dict(TEMPLATES["raw.orders"], marketplace=marketplace.upper(), shop_id=shop_id,
                                event_time=stamp))
    record["event_id"] = event_id(marketplace, "raw.orders", f"{shop_id}-{seconds}", int(stamp.timestamp() * 1000))
    return "raw.orders", subject, record


def grant(subject: str, seconds: float | None = None, status: str = "GRANTED") -> tuple[str, str, dict]:
    return ("consent.events", *change(subject, status, LONG_AGO if seconds is None else T0 + timedelta(seconds=seconds)))


def publish(cluster, *items) -> None:
    """Each record acknowledged by the cluster (acks=all) before the next is sent."""
    publisher = AvroPublisher(cluster, client_id="cluster-tests")
    try:
        for item in items:
            publisher.send(*item).get(timeout=60)
    finally:
        publisher.close()


def redacted_after(cluster, since, proc, marker: str, count: int) -> dict[str, set[str]]:
    """Event ids on redacted.orders per shop since `since`, once `marker` has `count` of them."""
    registry, got = default_registry(), {}

    def ready():
        assert proc.poll() is None, "the worker stopped: see worker.log in its data dir"
        got.clear()
        for _, key, value, _ in read_records(cluster, since):
            if value is not None:
                got.setdefault(key.decode(), set()).add(registry.decode(value)[1]["event_id"])
        return len(got.get(marker, ())) >= count
    wait_for(ready, 180)
    return got


def ids(*events) -> set[str]:
    return {e[2]["event_id"] for e in events}


# ---------------------------------------------------------------- the cluster itself
def test_every_catalog_topic_is_on_three_brokers_and_needs_two_in_sync(cluster):
    admin = admin_client(cluster)
    try:
        described = {d["name"]: d for d in admin.describe_topics([t.name for t in CATALOG])}
        from kafka.admin import ConfigResource, ConfigResourceType
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t.name) for t in CATALOG])
    finally:
        admin.close()
    assert set(described) == {t.name for t in CATALOG}
    for d in described.values():
        assert {len(p["replica_nodes"]) for p in d["partitions"]} == {CLUSTER_NODES}, d["name"]
    min_isr = {name: c["min.insync.replicas"]["value"] for name, c in _topic_configs(configs).items()}
    assert min_isr == {t.name: "2" for t in CATALOG}


def _topic_configs(answer) -> dict[str, dict]:
    out = {}
    for response in answer if isinstance(answer, list) else [answer]:
        topics = response["topic"] if isinstance(response, dict) else {}
        out.update(topics)
    return out


def test_a_killed_node_is_started_again_by_up_and_the_cluster_keeps_serving(cluster):
    kafka = LocalKafka(cluster)
    assert len(kafka.nodes) == CLUSTER_NODES
    assert kafka.kill_node(1) is True and kafka.status().pids[0] is None
    publish(cluster, grant(new_shop()))  # two of three in sync: acks=all still succeeds
    kafka.up()
    st = kafka.status()
    assert all(st.pids) and broker_answers(kafka.bootstrap, brokers=CLUSTER_NODES, client_config=kafka.client_config())


# ---------------------------------------------------------------- consent before data, leaders apart
def test_consent_and_data_partitions_are_led_by_different_brokers(leaders_apart):
    led = leaders(leaders_apart, ("consent.events", *RAW))
    assert {b for tp, b in led.items() if tp.topic == "consent.events"} == {CONSENT_LEADER}
    assert {b for tp, b in led.items() if tp.topic in RAW} == {DATA_LEADER}


def test_a_withdrawal_written_before_the_data_is_honoured_across_brokers(leaders_apart, worker):
    cluster, shop = leaders_apart, new_shop()
    marker = same_partition(shop)
    before, after = event(shop, 1), event(shop, 10)  # the withdrawal is effective at T0 + 5
    since = end_offsets(cluster, ("redacted.orders",))
    publish(cluster, grant(shop), grant(marker), grant(shop, 5, "WITHDRAWN"), before, after, event(marker, 1))
    got = redacted_after(cluster, since, worker, marker, 1)
    assert got.get(shop, set()) == ids(before)


def test_a_withdrawal_behind_a_consent_backlog_is_honoured(leaders_apart, worker):
    """The consent agent is busy with a backlog in the shop's partition when the withdrawal and then the data
    are written: the consumer holds records of that partition, so it does not fetch it again, and its high
    watermark predates the withdrawal. The barrier must wait for the withdrawal anyway."""
    cluster, shop = leaders_apart, new_shop()
    marker = same_partition(shop)
    publish(cluster, grant(shop), grant(marker))
    partition = partition_for(topic("consent.events"), shop)
    fillers = [s for s in (new_shop() for _ in range(40 * DATA_PARTITIONS)) if partition_for(topic("raw.orders"), s) == partition]
    producer = KafkaProducer(**kafka_client_config(cluster, client_id="cluster-backlog", acks="all", linger_ms=20))
    try:  # tombstones of shops that never consented: work for the consent agent, no change to anyone's consent
        for i in range(BACKLOG):
            subject = fillers[i % len(fillers)]
            producer.send("consent.events", key=consent_key(subject, "SHOP_DATA_CONNECTION", "shopee").encode(),
                          value=None, partition=partition)
        producer.flush(60)
    finally:
        producer.close()
    since = end_offsets(cluster, ("redacted.orders",))
    after = event(shop, 10)
    publish(cluster, grant(shop, 5, "WITHDRAWN"), after, event(marker, 1))
    got = redacted_after(cluster, since, worker, marker, 1)
    assert after[2]["event_id"] not in got.get(shop, set())
