"""Kafka clients configured the one way the pipeline uses them.

Producers are idempotent with acks=all (a record the broker acknowledged is not
lost, a retried send is not duplicated) and choose partitions from the catalog's
partition key, so that consent records land beside their shop's data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Iterator

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, RetriableError, UnknownBrokerIdError
from kafka.partitioner.default import murmur2

from .avro_codec import SchemaRegistry, default_registry
from .errors import BrokerError, TopicError
from .security import kafka_client_config
from .settings import Settings
from .partitions import refuse_repartitioning
from .topics import (CATALOG, DATA_PARTITIONS, SHOP_KEY, AccessClass, Topic, partition_key, replication_for,
                     topic)

log = logging.getLogger(__name__)


def partition_for(t: Topic, key: str) -> int:
    """Kafka's default (murmur2) partitioner applied to the catalog's partition key."""
    return (murmur2(partition_key(t, key).encode("utf-8")) & 0x7FFFFFFF) % t.partitions


def admin_client(settings: Settings) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(**kafka_client_config(settings, client_id="powersell-admin", request_timeout_ms=15000))
    except KafkaError as exc:
        raise BrokerError(f"cannot reach Kafka at {settings.bootstrap_servers} ({type(exc).__name__}); "
                          "start it with `powersell-pipeline kafka up`") from None


@dataclass(frozen=True)
class TopicsReport:
    created: tuple[str, ...]
    existing: tuple[str, ...]
    mismatched: tuple[str, ...]  # exist with another partition count than the catalog's
    not_permitted: tuple[str, ...] = ()  # neither visible to this principal nor its to create


_TOPIC_EXISTS, _TOPIC_NOT_PERMITTED = 36, 29  # Kafka error codes of CreateTopics


def ensure_topics(settings: Settings, topics: tuple[Topic, ...] = CATALOG, timeout: float = 60.0) -> TopicsReport:
    """Create every catalog topic that is missing; idempotent. On a secured broker a principal sees only
    the topics it may use: the others, which its rules do not let it create, are reported as not
    permitted, not as an error (a service checks its own topics; the operator creates them all).
    A cluster that is electing leaders or has a node restarting answers with transient errors (a controller
    or leader the client's metadata does not know yet): tried again with fresh metadata until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _ensure_topics(settings, topics)
        except (RetriableError, UnknownBrokerIdError) as exc:
            if time.monotonic() > deadline:
                raise
            log.info("topics not checked yet (%s); trying again", type(exc).__name__)
            time.sleep(1.0)


def _ensure_topics(settings: Settings, topics: tuple[Topic, ...]) -> TopicsReport:
    admin = admin_client(settings)
    try:
        present = {d["name"]: len(d["partitions"]) for d in admin.describe_topics()}
        # the shop-keyed topics and the workers' own that follow them: another count on the cluster is refused
        refuse_repartitioning({t.name: present[t.name] for t in topics if t.name in present and t.partitions ==
                               DATA_PARTITIONS and (t.key == SHOP_KEY or t.partition_by == "subject"
                                                    or t.access is AccessClass.INTERNAL)}, DATA_PARTITIONS)
        missing = [t for t in topics if t.name not in present]
        created: list[str] = []
        refused: list[str] = []
        if missing:
            # replicated on a cluster of three brokers (topics.replication_for); the count the broker reports
            factor, min_isr = replication_for(len(admin.describe_cluster().get("brokers") or ()))
            request = {t.name: {"num_partitions": t.partitions, "replication_factor": factor,
                                "configs": {**t.configs, "min.insync.replicas": str(min_isr)}} for t in missing}
            answer = admin.create_topics(request, timeout_ms=30000, raise_errors=False)
            for result in answer["topics"]:
                code = result["error_code"]
                if code == 0:
                    created.append(result["name"])
                elif code == _TOPIC_NOT_PERMITTED:
                    refused.append(result["name"])
                elif code != _TOPIC_EXISTS:  # exists: another process created it between our look and our request
                    raise TopicError(f"cannot create topic {result['name']}: Kafka error {code} "
                                     f"{result.get('error_message') or ''}".rstrip())
            if created:
                admin.wait_for_topics(created)
        mismatched = tuple(t.name for t in topics if t.name in present and present[t.name] != t.partitions)
        return TopicsReport(tuple(t.name for t in topics if t.name in created),
                            tuple(t.name for t in topics if t.name in present), mismatched,
                            tuple(t.name for t in topics if t.name in refused))
    finally:
        admin.close()


class AvroPublisher:
    """Encodes records with the topic's schema and sends them keyed and partitioned as the catalog says."""

    def __init__(self, settings: Settings, registry: SchemaRegistry | None = None, client_id: str = "powersell"):
        self.registry = registry or default_registry()
        try:
            self.producer = KafkaProducer(**kafka_client_config(settings, client_id=client_id, acks="all",
                                                                enable_idempotence=True, linger_ms=5))
        except KafkaError as exc:
            raise BrokerError(f"cannot reach Kafka at {settings.bootstrap_servers} ({type(exc).__name__})") from None

    def send(self, topic_name: str, key: str | None, record: dict, headers: list[tuple[str, bytes]] | None = None):
        t = topic(topic_name)
        value = self.registry.encode(t.value_schema, record)
        partition = partition_for(t, key) if key is not None else None
        return self.producer.send(t.name, value=value, key=None if key is None else key.encode("utf-8"),
                                  partition=partition, headers=headers or [])

    def flush(self, timeout: float | None = 30.0) -> None:
        self.producer.flush(timeout=timeout)

    def close(self) -> None:
        self.producer.close()


def read_topic(settings: Settings, topic_name: str, *, max_records: int | None = None,
               idle_timeout: float = 5.0, group_id: str | None = None,
               stop_at_end: bool = False) -> Iterator[tuple[bytes | None, bytes, object]]:
    """Yield (key, value, ConsumerRecord) from the beginning of a topic until max_records or idle_timeout
    seconds pass without a new record, or (stop_at_end, no group) once every partition is read up to its
    end offset at the start: a busy topic then still ends. Without group_id nothing is committed."""
    t = topic(topic_name)
    consumer = KafkaConsumer(**kafka_client_config(settings, group_id=group_id, auto_offset_reset="earliest",
                                                   enable_auto_commit=group_id is not None, client_id="powersell-reader"))
    try:
        if group_id is None:  # no group: read every partition from the start
            partitions = consumer.partitions_for_topic(t.name) or set()
            if not partitions:
                raise TopicError(f"topic {t.name} does not exist on the broker; run `powersell-pipeline topics create`")
            consumer.assign([TopicPartition(t.name, p) for p in sorted(partitions)])
            consumer.seek_to_beginning()
        else:
            consumer.subscribe([t.name])
        ends = consumer.end_offsets(list(consumer.assignment())) if stop_at_end and group_id is None else None
        seen = 0
        deadline = time.monotonic() + idle_timeout
        while time.monotonic() < deadline:
            if ends is not None and all(consumer.position(tp) >= end for tp, end in ends.items()):
                return
            batch = consumer.poll(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    yield rec.key, rec.value, rec
                    seen += 1
                    if max_records is not None and seen >= max_records:
                        return
                deadline = time.monotonic() + idle_timeout
    finally:
        consumer.close()


def read_back(settings: Settings, positions: list[tuple[str, int, int]],
              timeout: float = 30.0) -> Iterator[tuple[str, bytes]]:
    """Yield (topic, value) of exactly the records at the given (topic, partition, offset) positions."""
    wanted: dict[TopicPartition, set[int]] = {}
    for name, partition, offset in positions:
        wanted.setdefault(TopicPartition(name, partition), set()).add(offset)
    consumer = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                   client_id="powersell-readback"))
    try:
        consumer.assign(list(wanted))
        for tp, offsets in wanted.items():
            consumer.seek(tp, min(offsets))
        deadline = time.monotonic() + timeout
        while any(wanted.values()) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                for rec in records:
                    if rec.offset in wanted[tp]:
                        wanted[tp].discard(rec.offset)
                        yield tp.topic, rec.value
    finally:
        consumer.close()


class TopicFollower:
    """Reads a (compacted) topic from its beginning and, on each catch_up(), everything
    written since, up to the end offsets of that moment. For state kept on topics:
    consent, connector checkpoints."""

    def __init__(self, settings: Settings, topic_name: str, client_id: str = "powersell-follower"):
        self.topic = topic(topic_name)
        self.consumer = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                            client_id=client_id))
        partitions = self.consumer.partitions_for_topic(self.topic.name)
        if not partitions:
            self.consumer.close()
            raise TopicError(f"topic {self.topic.name} does not exist; run `powersell-pipeline topics create`")
        self.partitions = [TopicPartition(self.topic.name, p) for p in sorted(partitions)]
        self.consumer.assign(self.partitions)
        self.consumer.seek_to_beginning()

    def catch_up(self, timeout: float = 30.0) -> list[tuple[bytes | None, bytes | None]]:
        """(key, value) of every record up to the current end; value None is a tombstone."""
        end = self.consumer.end_offsets(self.partitions)
        out: list[tuple[bytes | None, bytes | None]] = []
        deadline = time.monotonic() + timeout
        while any(self.consumer.position(tp) < end[tp] for tp in self.partitions):
            if time.monotonic() > deadline:
                raise BrokerError(f"timed out reading {self.topic.name} to its end")
            for records in self.consumer.poll(timeout_ms=200).values():
                out.extend((r.key, r.value) for r in records)
        return out

    def close(self) -> None:
        self.consumer.close()


def end_offsets(settings: Settings, topic_names: tuple[str, ...]) -> dict[TopicPartition, int]:
    """The current end offset of every partition of the topics (where the next record will go)."""
    consumer = KafkaConsumer(**kafka_client_config(settings, client_id="powersell-offsets"))
    try:
        tps = [TopicPartition(t, p) for t in topic_names for p in sorted(consumer.partitions_for_topic(t) or ())]
        return consumer.end_offsets(tps)
    finally:
        consumer.close()


def read_since(settings: Settings, since: dict[TopicPartition, int],
               timeout: float = 60.0) -> list[tuple[str, bytes | None, bytes | None, object]]:
    """(topic, key, value, ConsumerRecord) of every record written after the given offsets, up to the
    ends of that moment."""
    consumer = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                   client_id="powersell-reader"))
    out = []
    try:
        tps = list(since)
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, since[tp])
        end = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=300).items():
                out += [(tp.topic, r.key, r.value, r) for r in records if r.offset < end[tp]]
    finally:
        consumer.close()
    return out
