"""The ledger's record of filtered decisions (`ops.outcomes`, schema EventOutcome).

A published record leaves a copy on its downstream topic and a dead letter leaves one on
`ops.dead-letters`, but a filtered record leaves nothing but a metric: without this topic
`powersell-pipeline reconcile` could not tell a filtered event from a lost one. The privacy
worker writes one EventOutcome per filtered record (event id, stage, reason, position,
time: ids only) and waits for the broker's acknowledgement before the batch is committed,
as it does for every other output; a record whose decision was not acknowledged is read
again after a restart (a duplicate at worst, never a hole)."""

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
    record = filtered_outcome(stage=stage, reason=reason, event_id=event_id, source_topic=message.topic,
                              source_partition=message.partition, source_offset=message.offset)
    return outcome_key(record), registry.encode(SCHEMA, record)
