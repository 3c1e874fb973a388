"""Dead-letter records (schema DeadLetter on `ops.dead-letters`): every record a stage
cannot process is kept with its reason, never dropped. Messages carry no payload values.

A dead letter must itself fit on its topic (max.message.bytes, pipeline_core.topics): the
original key and value are cut to sizes that leave room for the rest of the record and for
Kafka's own framing, and the message says so when they were cut."""

from __future__ import annotations

from datetime import datetime, timezone

from .topics import MAX_MESSAGE_BYTES

TOPIC = "ops.dead-letters"
MAX_KEY_BYTES = 4 * 1024          # the key is sent twice: as the dead letter's Kafka key and inside the record
MAX_MESSAGE_CHARS = 1000
_FRAMING = 16 * 1024              # schema header, stage, reason, topic names, headers, record and batch overhead
MAX_ORIGINAL_BYTES = MAX_MESSAGE_BYTES - 2 * MAX_KEY_BYTES - 4 * MAX_MESSAGE_CHARS - _FRAMING


def dead_letter_record(*, stage: str, reason: str, message: str, original_value: bytes | None,
                       original_key: bytes | None = None, source_topic: str | None = None,
                       source_partition: int | None = None, source_offset: int | None = None) -> dict:
    """A DeadLetter record that fits on ops.dead-letters; send it under its own `original_key` (cut to size)."""
    cut = [f"{name} kept: first {limit} of {len(data)} bytes"
           for name, data, limit in (("key", original_key, MAX_KEY_BYTES), ("value", original_value, MAX_ORIGINAL_BYTES))
           if data is not None and len(data) > limit]
    message = message[:MAX_MESSAGE_CHARS]
    if cut:  # after the cut, so the note is never lost
        message = f"{message} ({'; '.join(cut)})"
    return {
        "stage": stage, "source_topic": source_topic, "source_partition": source_partition,
        "source_offset": source_offset, "reason_code": reason, "error_message": message,
        "original_key": None if original_key is None else bytes(original_key[:MAX_KEY_BYTES]),
        "original_value": None if original_value is None else bytes(original_value[:MAX_ORIGINAL_BYTES]),
        "failed_time": datetime.now(timezone.utc),
    }
