"""A dead letter fits on its topic whatever it keeps (issue 15: a >= 1,000,000-byte bad frame once made
a dead letter the producer refused)."""

from __future__ import annotations

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.topics import MAX_MESSAGE_BYTES
from streams.delivery import fits, record_size

DEAD_LETTER = "com.powersell.pipeline.ops.DeadLetter"


@pytest.mark.parametrize("key_size, value_size", [(10, 100), (10, 1_000_000), (10, 3_000_000), (900_000, 900_000)])
def test_when_the_original_is_large_then_the_dead_letter_still_fits_and_says_what_it_kept(key_size, value_size):
    record = dead_letter_record(stage="redactor", reason="oversize_output", message="x" * 5000,
                                original_key=b"k" * key_size, original_value=b"v" * value_size,
                                source_topic="raw.orders", source_partition=3, source_offset=10**12)
    value = default_registry().encode(DEAD_LETTER, record)
    headers = [("reason", b"oversize_output"), ("stage", b"redactor")]
    assert fits(record["original_key"], value, headers)
    assert record_size(record["original_key"], value, headers) <= MAX_MESSAGE_BYTES
    if value_size > 1_000_000 or key_size > 4096:
        assert "kept: first" in record["error_message"]
    else:
        assert record["original_value"] == b"v" * value_size
