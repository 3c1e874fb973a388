"""The ledger's record of filtered decisions (`ops.outcomes`, schema EventOutcome).

A published record leaves a copy on its downstream topic and a dead letter leaves one on
`ops.dead-letters`, but a filtered record leaves nothing but a metric: without this topic
`powersell-pipeline reconcile` could not tell a filtered event from a lost one. The privacy
worker writes one EventOutcome per filtered record (event id, stage, reason, position,
time: ids only) and waits for the broker's acknowledgement before the batch is committed,
as it does for every other output; a record whose decision was not acknowledged is read
again after a restart (a duplicate at worst, never a hole). The aggregation worker does the same
for the records its owning shard filtered (late, duplicate, stale), with stage `aggregator`."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Awaitable, Callable

TOPIC = "ops.outcomes"
SCHEMA = "com.powersell.pipeline.ops.EventOutcome"
FILTERED = "FILTERED"
ATTEMPTS = 3

log = logging.getLogger(__name__)


def filtered_outcome(*, stage: str, reason: str, event_id: str | None, source_topic: str, source_partition: int,
                     source_offset: int, now: datetime | None = None) -> dict:
    """An EventOutcome record saying that the record at this position was filtered, and why."""
    return {"event_id": event_id, "stage": stage, "outcome": FILTERED, "reason": reason,
            "source_topic": source_topic, "source_partition": source_partition, "source_offset": source_offset,
            "decided_time": now or datetime.now(timezone.utc)}


def outcome_key(record: dict) -> bytes:
    """The record's Kafka key: its event id, else its position (a record without an id has one all the same)."""
    ident = record["event_id"] or f"{record['source_topic']}/{record['source_partition']}@{record['source_offset']}"
    return ident.encode("utf-8")


async def acknowledged(first: Awaitable, resend: Callable[[], Awaitable[Awaitable]], attempts: int = ATTEMPTS,
                       pause: float = 1.0) -> None:
    """Wait for a send's acknowledgement, sending again when it failed; raise after the last attempt, so the
    batch is not committed and its records are read again (the ledger then counts a duplicate, not a hole)."""
    pending = first
    for attempt in range(1, attempts + 1):
        try:
            await pending
            return
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("a ledger record was not acknowledged (%s); retrying", type(exc).__name__)
            await asyncio.sleep(pause * attempt)
            pending = await resend()


def filtered_entry(registry, stage: str, message, reason: str, event_id: str | None) -> tuple[bytes, bytes]:
    """(key, value) of the EventOutcome for a filtered Kafka `message` (anything with topic, partition, offset)."""
    return filtered_entry_at(registry, stage, (message.topic, message.partition, message.offset), reason, event_id)


def filtered_entry_at(registry, stage: str, position: tuple[str, int, int], reason: str,
                      event_id: str | None) -> tuple[bytes, bytes]:
    """(key, value) of the EventOutcome for the record read at `position` (topic, partition, offset)."""
    topic, partition, offset = position
    record = filtered_outcome(stage=stage, reason=reason, event_id=event_id, source_topic=topic,
                              source_partition=partition, source_offset=offset)
    return outcome_key(record), registry.encode(SCHEMA, record)


# A copy a worker hands on to its own next step (the aggregation worker's shard copies) says where the original was
# read, so that the next step's dead letters and filtered decisions name the record the ledger knows.
SOURCE_HEADER = "source-position"


def source_header(partition: int, offset: int) -> tuple[str, bytes]:
    return SOURCE_HEADER, f"{partition}@{offset}".encode("ascii")


def source_of(headers) -> tuple[int, int] | None:
    """(partition, offset) from a copy's headers (a mapping or (name, value) pairs), or None when it has none or
    it cannot be read."""
    if not headers:
        return None
    pairs = headers.items() if hasattr(headers, "items") else headers
    for name, value in pairs:
        if name == SOURCE_HEADER and isinstance(value, (bytes, bytearray)):
            partition, _, offset = bytes(value).partition(b"@")
            try:
                return int(partition), int(offset)
            except ValueError:
                return None
    return None
