"""The consent book, kept partition by partition in offset order: no consent record is skipped.

The consent barrier (consent_barrier.py) promises that a data event is decided only after every
consent record before its partition's end offset is in the book. That holds only if "applied up
to N" means every record before N was applied. Neither Faust's stream nor the consumer group
promises it: records written within about a second of the worker starting were once not
delivered (issue 15: a shop's first GRANT skipped, the three records after it applied), and a
committed offset says what some earlier worker processed, not what this process's book holds.

So the state answers for itself:
- on assignment the book is rebuilt from `consent.events` (compacted: the topic is the state's
  changelog), read directly from the log start to the end, partition by partition;
- `applied[p]` is the next offset of partition p the book has not applied; it advances record
  by record, never past a record that was not applied (or found unreadable);
- a record that arrives past a gap first has the gap read from the topic; the barrier reads
  directly too when Faust's stream is late, so a record Faust never delivers cannot stall it.
The Faust agent still sees every record it delivers (audience changes, dead letters); a record
below `applied[p]` is already in the book and changes nothing there.

Unreadable records (not a ConsentEvent, no key) are skipped with a counted, logged reason while
reading directly; the agent dead-letters them when Faust delivers them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from typing import Any, Awaitable, Callable, Iterable

from pipeline_core.errors import BrokerError, DecodeError

from .consent import ConsentBook

log = logging.getLogger(__name__)

CONSENT_TOPIC = "consent.events"
CONSENT_EVENT = "com.powersell.pipeline.consent.ConsentEvent"
Record = tuple[int, bytes | None, bytes | None]  # offset, key, value
# reader(partition, start, end): the records with start <= offset < end (end None: the end now), and the offset reached
Reader = Callable[[int, int, int | None], Awaitable[tuple[list[Record], int]]]


def read_consent(registry, key: bytes | None, value: bytes | None) -> tuple[str, dict[str, Any] | None]:
    """(consent key, ConsentEvent or None for a tombstone); DecodeError for anything else (e.g. a RawShopEvent)."""
    if key is None:
        raise DecodeError("missing_field", "a consent record has no key")
    text = key.decode("utf-8", "replace")
    if value is None:
        return text, None
    return text, registry.decode(value, reader=CONSENT_EVENT)[1]


class ConsentFollower:
    def __init__(self, book: ConsentBook, read: Reader, decode: Callable[[bytes | None, bytes | None], tuple]):
        self.book, self._read, self._decode = book, read, decode
        self.applied: dict[int, int] = {}
        self.skipped: Counter = Counter()  # reason -> unreadable records passed over while reading directly
        self.changed = asyncio.Event()     # set whenever `applied` moves
        self._keys: dict[int, set[str]] = defaultdict(set)
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def forget(self, partitions: Iterable[int] | None = None) -> None:
        """On a rebalance: the partitions are rebuilt from the topic before they are trusted again."""
        for p in list(self.applied) if partitions is None else partitions:
            self.applied.pop(p, None)

    async def ensure(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            if p not in self.applied:
                async with self._locks[p]:
                    if p not in self.applied:
                        await self._rebuild(p)

    async def catch_up(self, partition: int, end: int) -> None:
        """Apply everything before `end` in `partition`, reading the topic directly."""
        await self.ensure((partition,))
        async with self._locks[partition]:
            if self.applied[partition] < end:
                await self._fill(partition, end)

    async def offer(self, partition: int, offset: int, key: bytes | None, value: bytes | None) -> str:
        """A record as the Faust agent got it: applied if the book does not hold it yet. Returns its subject;
        raises DecodeError for an unreadable record (the book has moved past it: dead-letter it)."""
        await self.ensure((partition,))
        async with self._locks[partition]:
            if offset > self.applied[partition]:  # records not delivered (or compacted away): read them first
                await self._fill(partition, offset)
            fresh = offset >= self.applied[partition]
            try:
                consent_key, record = self._decode(key, value)
                if fresh:
                    self._apply(partition, consent_key, record)
            finally:
                if fresh:
                    self._advance(partition, offset + 1)
        return consent_key.split("|", 1)[0]

    # ------------------------------------------------------------------ internals
    async def _rebuild(self, partition: int) -> None:
        for key in self._keys.pop(partition, ()):
            self.book.store.pop(key, None)
        records, reached = await self._read(partition, 0, None)
        self._apply_read(partition, records)
        self._advance(partition, reached)

    async def _fill(self, partition: int, end: int) -> None:
        records, reached = await self._read(partition, self.applied[partition], end)
        self._apply_read(partition, [r for r in records if r[0] >= self.applied[partition]])
        self._advance(partition, reached)

    def _apply_read(self, partition: int, records: list[Record]) -> None:
        for offset, key, value in records:
            try:
                consent_key, record = self._decode(key, value)
            except DecodeError as exc:
                self.skipped[exc.reason] += 1
                log.warning("unreadable consent record skipped (%s) at partition %d offset %d", exc.reason, partition,
                            offset)
                continue
            self._apply(partition, consent_key, record)

    def _apply(self, partition: int, consent_key: str, record: dict[str, Any] | None) -> None:
        self.book.apply(consent_key, record)
        if record is None:
            self._keys[partition].discard(consent_key)
        else:
            self._keys[partition].add(consent_key)

    def _advance(self, partition: int, next_offset: int) -> None:
        self.applied[partition] = max(next_offset, self.applied.get(partition, 0))
        self.changed.set()


class KafkaConsentReader:
    """Reads ranges of consent.events partitions with its own consumer (no group, no commits), in one
    thread of its own: the book's source of truth, independent of the Faust consumer's position.
    It also answers the barrier's question "where does each consent partition end now?" by asking the
    partitions' leaders (ListOffsets: the high watermark, below which every record is acknowledged)."""

    def __init__(self, settings, timeout: float = 30.0):
        from concurrent.futures import ThreadPoolExecutor
        self.settings, self.timeout = settings, timeout
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="consent-reader")
        self._consumer = None

    async def __call__(self, partition: int, start: int, end: int | None) -> tuple[list[Record], int]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._read, partition, start, end)

    async def end_offsets(self, partitions: list[int]) -> dict[int, int]:
        """The end offset of each consent partition as its leader reports it now. Asked afresh every time, not
        cached: a value read before the data was fetched could predate a withdrawal written before that data."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._end_offsets, partitions)

    def _end_offsets(self, partitions: list[int]) -> dict[int, int]:
        from kafka import TopicPartition
        # bounded: while a leader is being elected the barrier holds the data and asks again
        ends = self._ensure_consumer().end_offsets([TopicPartition(CONSENT_TOPIC, p) for p in partitions],
                                                   timeout_ms=int(min(self.timeout, 15.0) * 1000))
        return {tp.partition: offset for tp, offset in ends.items()}

    def _ensure_consumer(self):
        from kafka import KafkaConsumer

        from pipeline_core.security import kafka_client_config
        if self._consumer is None:
            self._consumer = KafkaConsumer(**kafka_client_config(
                self.settings, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                client_id="powersell-consent-reader"))
        return self._consumer

    def _read(self, partition: int, start: int, end: int | None) -> tuple[list[Record], int]:
        from kafka import TopicPartition
        consumer, tp = self._ensure_consumer(), TopicPartition(CONSENT_TOPIC, partition)
        consumer.assign([tp])
        bounded = int(self.timeout * 1000)
        if end is None:
            end = consumer.end_offsets([tp], timeout_ms=bounded)[tp]
        start = max(start, consumer.beginning_offsets([tp], timeout_ms=bounded)[tp])  # below the log start: compacted
        if start >= end:
            return [], end
        consumer.seek(tp, start)
        out: list[Record] = []
        # The timeout bounds a read that stopped moving, not a long one: a whole partition read on a busy machine
        # may take longer than `timeout`, and a rebuild that always timed out would hold the data for ever.
        deadline = time.monotonic() + self.timeout
        reached = start
        while reached < end:
            if time.monotonic() > deadline:
                raise BrokerError(f"no progress reading {CONSENT_TOPIC} partition {partition} for {self.timeout:g} s")
            for records in consumer.poll(timeout_ms=200).values():
                out.extend((r.offset, r.key, r.value) for r in records if r.offset < end)
            position = consumer.position(tp, timeout_ms=bounded)
            if position is not None and position > reached:
                reached, deadline = position, time.monotonic() + self.timeout
        return out, end

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        self._executor.shutdown(wait=False)
