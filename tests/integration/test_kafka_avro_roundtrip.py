"""Avro events through the real broker: the pipeline's own clients, a downstream team's
plain kafka-python + reference `avro` consumer, the catalog's topic settings, and the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import avro.io
import avro.schema
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from pipeline_core.avro_codec import SCHEMA_DIR, default_registry
from pipeline_core.kafka_io import AvroPublisher, admin_client, ensure_topics, partition_for, read_back
from pipeline_core.sample_events import sample_events
from pipeline_core.topics import CATALOG, consent_key, shop_key, topic
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env

pytestmark = pytest.mark.kafka


def publish(settings, events):
    publisher = AvroPublisher(settings, client_id="test")
    try:
        futures = [(name, publisher.send(name, key, record)) for name, key, record in events]
        publisher.flush()
        return [(name, fut.get(timeout=30)) for name, fut in futures]
    finally:
        publisher.close()


def test_when_topics_are_created_twice_then_nothing_changes_and_configs_follow_the_catalog(kafka):
    report = ensure_topics(kafka)
    assert report.created == () and set(report.existing) == {t.name for t in CATALOG}
    assert report.mismatched == ()
    admin = admin_client(kafka)
    try:
        described = {d["name"]: len(d["partitions"]) for d in admin.describe_topics([t.name for t in CATALOG])}
        assert described == {t.name: t.partitions for t in CATALOG}
        resources = [ConfigResource(ConfigResourceType.TOPIC, t.name) for t in CATALOG]
        configs = admin.describe_configs(resources, config_filter="all")
    finally:
        admin.close()
    text = json.dumps(configs, default=str)
    for t in CATALOG:
        assert t.name in text
    topic_configs = configs["topic"] if "topic" in configs else configs[next(iter(configs))]
    for t in CATALOG:
        entries = topic_configs[t.name]
        assert entries["cleanup.policy"]["value"] == t.cleanup, t.name
        assert entries["retention.ms"]["value"] == str(t.retention_ms), t.name


def test_when_samples_are_published_then_a_plain_kafka_python_and_avro_consumer_reads_them(kafka):
    events = sample_events()
    written = publish(kafka, events)
    assert len(written) == len(events)

    # The downstream way (README): plain kafka-python, the .avsc files and the reference library only.
    writers = {}
    for path in SCHEMA_DIR.glob("**/*.avsc"):
        schema = avro.schema.parse(path.read_text(encoding="utf-8"))
        writers[avro.schema.parse(schema.canonical_form).fingerprint("CRC-64-AVRO")] = schema
    reader = avro.schema.parse((SCHEMA_DIR / "raw_order_event.avsc").read_text(encoding="utf-8"))
    order_positions = {(md.partition, md.offset) for name, md in written if name == "raw.orders"}
    consumer = KafkaConsumer(**kafka_client_config(kafka, group_id=None, enable_auto_commit=False,
                                                   consumer_timeout_ms=10_000))
    got = {}
    try:
        parts = {p for p, _ in order_positions}
        consumer.assign([TopicPartition("raw.orders", p) for p in parts])
        for p in parts:
            consumer.seek(TopicPartition("raw.orders", p), min(o for q, o in order_positions if q == p))
        for message in consumer:
            if (message.partition, message.offset) not in order_positions:
                continue
            assert message.value[:2] == b"\xc3\x01"
            writer = writers[message.value[2:10]]
            order = avro.io.DatumReader(writer, reader).read(avro.io.BinaryDecoder(io.BytesIO(message.value[10:])))
            got[order["event_id"]] = (message.key.decode(), order)
            if len(got) == len(order_positions):
                break
    finally:
        consumer.close()
    sent = {rec["event_id"]: (key, rec) for name, key, rec in events if name == "raw.orders"}
    assert set(got) == set(sent)
    for event_id, (key, order) in got.items():
        sent_key, sent_order = sent[event_id]
        assert key == sent_key
        assert order["total_amount"] == sent_order["total_amount"]
        assert order["recipient"]["address"]["province"] == sent_order["recipient"]["address"]["province"]
        assert order["update_time"] == sent_order["update_time"]


def test_when_a_shop_publishes_then_its_events_and_consent_share_one_partition(kafka):
    events = [e for e in sample_events() if e[1] == shop_key("LAZADA", "100238771")]
    now = datetime.now(timezone.utc)
    consent = {"event_id": "c-1", "subject_type": "SHOP", "subject_id": events[0][1],
               "purpose": "SHOP_DATA_CONNECTION", "purpose_scope": "lazada", "status": "GRANTED",
               "legal_basis": "CONSENT", "policy_version": "2024-01", "effective_time": now,
               "recorded_time": now, "source": "POWERSELL_APP", "proof_ref": "app-consent-1"}
    key = consent_key(events[0][1], "SHOP_DATA_CONNECTION", "lazada")
    written = publish(kafka, events + [("consent.events", key, consent)])
    partitions = {md.partition for _, md in written}
    assert partitions == {partition_for(topic("raw.orders"), events[0][1])}


def test_when_the_reference_library_writes_then_the_pipeline_decodes(kafka):
    schema_text = (SCHEMA_DIR / "dead_letter.avsc").read_text(encoding="utf-8")
    schema = avro.schema.parse(schema_text)
    record = {"stage": "connector", "source_topic": None, "source_partition": None, "source_offset": None,
              "reason_code": "invalid_json", "error_message": "body is not JSON (412 bytes)",
              "original_key": None, "original_value": b"{not json", "failed_time": datetime.now(timezone.utc)}
    buf = io.BytesIO()
    buf.write(b"\xc3\x01" + avro.schema.parse(schema.canonical_form).fingerprint("CRC-64-AVRO"))
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(buf))
    producer = KafkaProducer(**kafka_client_config(kafka))
    try:
        md = producer.send("ops.dead-letters", value=buf.getvalue()).get(timeout=30)
    finally:
        producer.close()
    [(name, value)] = list(read_back(kafka, [("ops.dead-letters", md.partition, md.offset)]))
    full_name, decoded = default_registry().decode(value)
    assert full_name == "com.powersell.pipeline.ops.DeadLetter"
    assert decoded["original_value"] == b"{not json" and decoded["reason_code"] == "invalid_json"


def test_tail_prints_json_lines_and_survives_a_corrupt_record(kafka):
    producer = KafkaProducer(**kafka_client_config(kafka))
    try:
        bad = producer.send("ops.dead-letters", key=b"k", value=b"\xc3\x01garbage!").get(timeout=30)
    finally:
        producer.close()
    done = subprocess.run([sys.executable, "-m", "powersell.cli", "topics", "tail", "ops.dead-letters",
                           "--idle-timeout", "3"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                               **principal_env(kafka, OPERATOR)})
    assert done.returncode == 0, done.stderr
    assert "RESTRICTED" in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [l for l in lines if l["partition"] == bad.partition and l["offset"] == bad.offset]
    assert mine == [{"topic": "ops.dead-letters", "partition": bad.partition, "offset": bad.offset, "key": "k",
                     "error": "unknown_fingerprint"}]
    assert any(l.get("schema") == "com.powersell.pipeline.ops.DeadLetter" for l in lines)

