"""Consumer lag of a stage's consumer group, in records and in seconds, as gauges.

A daemon thread reads, every `interval` seconds, the group's committed offsets (admin
client) and each partition's log start and end offsets (a consumer outside the group);
for partitions with waiting records it fetches the first waiting record to learn its
timestamp. Values are never decoded: only offsets and timestamps are looked at, so no
personal data passes through here. `lag_by_topic` turns those offsets into the gauge
values and is pure, unit-tested without a broker.

    consumer_lag_records{stage,topic}  sum over partitions of end - committed
                                        (no commit yet, or a commit older than the log start:
                                        counted from the log start)
    consumer_lag_seconds{stage,topic}  now - timestamp of the oldest waiting record; 0 when caught up

A broker error is logged (its type only) and the next interval tries again with new
clients: the gauges keep their last values meanwhile, and the process never crashes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from .metrics import PipelineMetrics
from .settings import Settings

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds to wait for the first waiting record of every lagging partition


@dataclass(frozen=True)
class PartitionOffsets:
    topic: str
    partition: int
    start: int                        # log start offset (first offset still on the broker)
    end: int                          # end offset: where the next record will be written
    committed: int | None             # the group's committed offset; None: nothing committed yet
    first_waiting_ms: int | None = None   # timestamp of the first record at or after the position

    @property
    def position(self) -> int:
        """Where the group resumes reading: its commit, or the log start when there is none
        or retention deleted the records the commit points at."""
        return self.start if self.committed is None or self.committed < self.start else self.committed

    @property
    def waiting(self) -> int:
        return max(0, self.end - self.position)


@dataclass(frozen=True)
class TopicLag:
    records: int
    seconds: float


def lag_by_topic(partitions: Iterable[PartitionOffsets], now_ms: int) -> dict[str, TopicLag]:
    """Per topic: records waiting (summed over partitions) and the age of the oldest waiting record.
    A partition with waiting records whose timestamp is unknown adds to the records only. Clock
    skew between producer and here never makes the age negative."""
    records: dict[str, int] = {}
    oldest: dict[str, int | None] = {}
    for p in partitions:
        records[p.topic] = records.get(p.topic, 0) + p.waiting
        oldest.setdefault(p.topic, None)
        if p.waiting and p.first_waiting_ms is not None:
            current = oldest[p.topic]
            oldest[p.topic] = p.first_waiting_ms if current is None else min(current, p.first_waiting_ms)
    return {topic: TopicLag(records[topic], 0.0 if oldest[topic] is None else max(0.0, (now_ms - oldest[topic]) / 1000))
            for topic in records}


def committed_offsets(admin, group: str, tps: list) -> dict:
    """{TopicPartition: OffsetAndMetadata} of the group; offset -1 where it committed nothing."""
    if hasattr(admin, "list_group_offsets"):  # kafka-python 3
        return admin.list_group_offsets({group: tps}).get(group, {})
    return admin.list_consumer_group_offsets(group, partitions=tps)  # kafka-python 2


class LagReader:
    """The Kafka side: offsets and first-waiting timestamps of a group on some topics."""

    def __init__(self, settings: Settings, group: str, topics: tuple[str, ...]):
        from kafka import KafkaAdminClient, KafkaConsumer

        from .security import kafka_client_config

        self.group, self.topics = group, topics
        self.admin = KafkaAdminClient(**kafka_client_config(settings, client_id=f"{group}-lag", request_timeout_ms=10000))
        try:
            # Outside the group (group_id None): it never commits nor joins the stage's rebalances.
            # Small fetches: only each partition's first waiting record is wanted.
            self.consumer = KafkaConsumer(**kafka_client_config(
                settings, group_id=None, client_id=f"{group}-lag", enable_auto_commit=False,
                max_partition_fetch_bytes=64 * 1024, fetch_max_bytes=1024 * 1024, request_timeout_ms=10000))
        except Exception:
            self.admin.close()
            raise

    def read(self) -> list[PartitionOffsets]:
        from kafka import TopicPartition

        tps = [TopicPartition(t, p) for t in self.topics for p in sorted(self.consumer.partitions_for_topic(t) or ())]
        if not tps:
            return []
        committed = committed_offsets(self.admin, self.group, tps)
        starts, ends = self.consumer.beginning_offsets(tps), self.consumer.end_offsets(tps)
        offsets = []
        for tp in tps:
            meta = committed.get(tp)
            offsets.append(PartitionOffsets(tp.topic, tp.partition, starts[tp], ends[tp],
                                            meta.offset if meta is not None and meta.offset >= 0 else None))
        stamps = self._first_waiting_timestamps({TopicPartition(p.topic, p.partition): p.position
                                                 for p in offsets if p.waiting})
        return [PartitionOffsets(p.topic, p.partition, p.start, p.end, p.committed,
                                 stamps.get(TopicPartition(p.topic, p.partition))) for p in offsets]

    def _first_waiting_timestamps(self, positions: dict) -> dict:
        """Timestamp (ms) of the first record at or after each position (compaction may have removed
        the record at the position itself)."""
        if not positions:
            return {}
        self.consumer.assign(list(positions))
        for tp, offset in positions.items():
            self.consumer.seek(tp, offset)
        found: dict = {}
        deadline = time.monotonic() + FETCH_TIMEOUT
        while len(found) < len(positions) and time.monotonic() < deadline:
            for tp, batch in self.consumer.poll(timeout_ms=200).items():
                if tp not in found and batch:
                    found[tp] = batch[0].timestamp
                    self.consumer.pause(tp)
        self.consumer.assign([])
        return found

    def close(self) -> None:
        for client in (self.consumer, self.admin):
            try:
                client.close()
            except Exception:  # closing after a broker error must not raise
                pass


def start_lag_monitor(settings: Settings, metrics: PipelineMetrics, group: str, stage: str,
                      topics: tuple[str, ...], interval: float = 5.0,
                      reader_factory: Callable[[], LagReader] | None = None) -> Callable[[], None]:
    """Start the lag thread of one stage; returns a function that stops it (and waits for it).
    Call once per process and metrics: the gauges are declared here."""
    records = metrics.gauge("consumer_lag_records", "Records the stage's consumer group has not consumed yet.",
                            ["stage", "topic"])
    seconds = metrics.gauge("consumer_lag_seconds", "Age of the oldest record the stage's consumer group has not "
                            "consumed yet; 0 when caught up.", ["stage", "topic"])
    factory = reader_factory or (lambda: LagReader(settings, group, topics))
    stop = threading.Event()

    def update(reader: LagReader) -> None:
        for topic, lag in lag_by_topic(reader.read(), int(time.time() * 1000)).items():
            records.labels(stage=stage, topic=topic).set(lag.records)
            seconds.labels(stage=stage, topic=topic).set(lag.seconds)

    def run() -> None:
        reader = None
        while not stop.is_set():
            try:
                reader = reader or factory()
                update(reader)
            except Exception as exc:  # broker down, timeouts, rebalances: try again next interval
                # the type only: messages of client libraries may quote broker addresses or data
                log.warning("consumer lag of stage %s not read (%s); retrying in %.0f s",
                            stage, type(exc).__name__, interval)
                if reader is not None:
                    reader.close()
                reader = None
            stop.wait(interval)
        if reader is not None:
            reader.close()

    thread = threading.Thread(target=run, name=f"lag-{stage}", daemon=True)
    thread.start()

    def stop_monitor() -> None:
        stop.set()
        thread.join(timeout=interval + FETCH_TIMEOUT + 15)
    return stop_monitor
