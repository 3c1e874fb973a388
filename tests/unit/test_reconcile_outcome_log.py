"""The privacy worker's record of filtered decisions (streams.outcome_log): what it writes, and that an
unacknowledged write is sent again and, if the broker keeps refusing, raised so the batch is not committed."""

from __future__ import annotations

import asyncio
from argparse import Namespace

import pytest

from pipeline_core.avro_codec import default_registry
from streams.outcome_log import SCHEMA, acknowledged, filtered_entry


def failed(exc: Exception) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_exception(exc)
    return future


def done() -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


def test_a_filtered_decision_carries_ids_reason_and_position_only():
    registry = default_registry()
    message = Namespace(topic="raw.orders", partition=3, offset=17, key=b"shopee:1", value=b"personal bytes")
    key, value = filtered_entry(registry, "redactor", message, "consent_withdrawn", "e1")
    name, record = registry.decode(value)
    assert key == b"e1" and name == SCHEMA
    assert {k: v for k, v in record.items() if k != "decided_time"} == {
        "event_id": "e1", "stage": "redactor", "outcome": "FILTERED", "reason": "consent_withdrawn",
        "source_topic": "raw.orders", "source_partition": 3, "source_offset": 17}
    assert b"personal bytes" not in value and b"shopee:1" not in value


def test_when_the_first_send_is_refused_then_it_is_sent_again_until_acknowledged():
    sends = []

    async def run():
        async def resend():
            sends.append(1)
            return failed(TimeoutError()) if len(sends) < 2 else done()
        await acknowledged(failed(ConnectionError()), resend, attempts=3, pause=0)
    asyncio.run(run())
    assert len(sends) == 2


def test_when_the_broker_keeps_refusing_then_the_error_is_raised_and_the_batch_is_not_committed():
    sends = []

    async def run():
        async def resend():
            sends.append(1)
            return failed(ConnectionError())
        await acknowledged(failed(ConnectionError()), resend, attempts=3, pause=0)
    with pytest.raises(ConnectionError):
        asyncio.run(run())
    assert len(sends) == 2  # three attempts in all


def test_a_copys_source_position_is_read_back_from_its_headers_in_either_form():
    from streams.outcome_log import SOURCE_HEADER, source_header, source_of
    assert source_header(3, 1200) == (SOURCE_HEADER, b"3@1200")
    assert source_of([("other", b"x"), source_header(3, 1200)]) == (3, 1200)
    assert source_of({SOURCE_HEADER: b"0@0"}) == (0, 0)
    assert source_of([]) is None and source_of(None) is None
    assert source_of([(SOURCE_HEADER, b"not a position")]) is None
