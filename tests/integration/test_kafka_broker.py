"""The real local broker: up, idempotent up, status, produce/consume, down, wipe.

It runs its own broker on ports 19092/19093 with a data dir in tmp_path, so it never
touches a broker started by `powersell-pipeline kafka up`; the jar cache is the usual
one, shared with it (the first run resolves the jars with Maven, later runs are offline).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from pipeline_core.errors import MissingToolError
from pipeline_core.kafka_broker import LocalKafka, broker_answers, check_tools
from pipeline_core.settings import SECURITY_VARIABLES, Settings

pytestmark = pytest.mark.kafka


@pytest.fixture
def local_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    # The same cache dir as `kafka up` (so the jars are shared); our own ports and data dir.
    env = {k: v for k, v in os.environ.items() if k != "POWERSELL_BOOTSTRAP_SERVERS" and k not in SECURITY_VARIABLES}
    env.update(POWERSELL_KAFKA_PORT="19092", POWERSELL_KAFKA_CONTROLLER_PORT="19093", POWERSELL_DATA_DIR=str(tmp_path))
    local = LocalKafka(Settings.from_env(env), progress=lambda msg: print("kafka:", msg))
    try:
        check_tools(need_maven=not local.jars_cached())
    except MissingToolError as exc:
        pytest.skip(str(exc))
    try:
        yield local
    finally:
        local.down(wipe=True)


def _roundtrip(config: dict, topic: str) -> list[bytes]:
    admin = KafkaAdminClient(**config)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(**config, acks="all")
    try:
        producer.send(topic, b"hello").get(timeout=10)
        producer.send(topic, b"world").get(timeout=10)
    finally:
        producer.close()
    consumer = KafkaConsumer(topic, **config, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=10_000)
    try:
        values: list[bytes] = []
        for record in consumer:
            values.append(record.value)
            if len(values) == 2:
                break
        return values
    finally:
        consumer.close()


def _topics(config: dict) -> list[str]:
    admin = KafkaAdminClient(**config)
    try:
        return list(admin.list_topics())
    finally:
        admin.close()


@pytest.mark.slow
def test_lifecycle(local_kafka: LocalKafka) -> None:
    kafka = local_kafka
    bootstrap = kafka.up(timeout=90)
    operator = kafka.client_config()  # the secured broker's operator (SASL_SSL, SCRAM, the local CA)
    assert bootstrap == "127.0.0.1:19092" and broker_answers(bootstrap, client_config=operator)
    assert not broker_answers(bootstrap)  # an anonymous client gets nothing
    first = kafka.status()
    assert first.running and first.answering and first.jars_cached and first.pid
    assert first.data_dir == kafka.home

    assert kafka.up() == bootstrap and kafka.status().pid == first.pid  # idempotent
    cluster_id = kafka.cluster_file.read_text()

    topic = f"test.broker.{uuid.uuid4().hex[:8]}"
    assert _roundtrip(operator, topic) == [b"hello", b"world"]

    assert kafka.down() is True
    assert not Path(f"/proc/{first.pid}").exists() and not kafka.pid_file.exists()
    assert not broker_answers(bootstrap, client_config=operator) and not kafka.status().running
    assert kafka.down() is False  # nothing runs: fine

    kafka.up(timeout=90)  # restarts on the kept storage: same cluster, topic still there
    assert kafka.status().pid != first.pid and kafka.cluster_file.read_text() == cluster_id
    assert topic in _topics(kafka.client_config())

    assert kafka.down(wipe=True) is True
    assert not kafka.home.exists() and kafka.jars_cached()  # the jar cache is never wiped
