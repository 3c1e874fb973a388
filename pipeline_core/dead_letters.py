"""Dead-letter records (schema DeadLetter on `ops.dead-letters`): every record a stage
cannot process is kept with its reason, never dropped. Messages carry no payload values."""

from __future__ import annotations

from datetime import datetime, timezone

TOPIC = "ops.dead-letters"
MAX_ORIGINAL_BYTES = 1024 * 1024  # the dead-letter topic keeps the first MiB of an oversize body


def dead_letter_record(*, stage: str, reason: str, message: str, original_value: bytes | None,
                       original_key: bytes | None = None, source_topic: str | None = None,
                       source_partition: int | None = None, source_offset: int | None = None) -> dict:
    return {
        "stage": stage, "source_topic": source_topic, "source_partition": source_partition,
        "source_offset": source_offset, "reason_code": reason, "error_message": message,
        "original_key": original_key,
        "original_value": None if original_value is None else original_value[:MAX_ORIGINAL_BYTES],
        "failed_time": datetime.now(timezone.utc),
    }
