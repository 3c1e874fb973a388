"""Outputs that fit: the size Kafka gives one record, checked before it is sent.

Every topic takes records up to `MAX_MESSAGE_BYTES` (max.message.bytes, pipeline_core.topics)
and the workers' producer is set to the same limit. Redaction can grow a record (free text
full of `1.2.3.4 ` becomes `[IP_ADDRESS]`), so an output is measured before it is sent: one
that would not fit is dead-lettered as `oversize_output` instead of being refused by the
producer in the middle of a batch (issue 15)."""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from pipeline_core.topics import MAX_MESSAGE_BYTES

Headers = list[tuple[str, bytes]]


def record_size(key: bytes | None, value: bytes | None, headers: Headers | None = None) -> int:
    """Bytes of a batch holding this record alone: what the producer and the broker compare with their limits."""
    return DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers or [])


def fits(key: bytes | None, value: bytes | None, headers: Headers | None = None, limit: int = MAX_MESSAGE_BYTES) -> bool:
    return record_size(key, value, headers) <= limit
