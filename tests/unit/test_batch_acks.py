"""A batch the agent did not finish keeps its messages unacknowledged (streams/batch_acks.py)."""

import asyncio

import pytest
from faust.types.tuples import Message

from streams.batch_acks import acknowledged_when_finished


class Consumer:
    """Records the offsets whose final acknowledgement Faust reports (the consumer may then commit them)."""
    def __init__(self):
        self.acked = []


class Event:
    def __init__(self, offset):
        self.message = Message("raw.orders", 0, offset, 0.0, 0, None, b"k", b"v", None)
        self.message.incref()  # the one stream reading it


def take_events_ack(events, consumer):
    """What take_events' `finally` does with the batch, however the agent left it."""
    for event in events:
        if event.message.ack(consumer):  # the last reference: Faust marks the offset safe to commit
            consumer.acked.append(event.message.offset)


def run_batch(body):
    consumer, events = Consumer(), [Event(o) for o in range(3)]

    async def agent():
        try:
            with acknowledged_when_finished(events):
                await body()
        finally:
            take_events_ack(events, consumer)
    return consumer, events, agent


async def finishes():
    await asyncio.sleep(0)


async def raises():
    raise RuntimeError("a send failed for good")


def test_a_finished_batch_is_acknowledged():
    consumer, _, agent = run_batch(finishes)
    asyncio.run(agent())
    assert consumer.acked == [0, 1, 2]


def test_a_batch_that_raised_is_not_acknowledged():
    consumer, events, agent = run_batch(raises)
    with pytest.raises(RuntimeError):
        asyncio.run(agent())
    assert consumer.acked == [] and all(e.message.refcount == 1 for e in events)


def test_a_batch_cancelled_mid_way_by_a_stop_is_not_acknowledged():
    started = None

    async def waits():
        started.set()
        await asyncio.Event().wait()  # a send still unacknowledged when the worker stops

    consumer, _, agent = run_batch(waits)

    async def stop_mid_batch():
        nonlocal started
        started = asyncio.Event()
        task = asyncio.create_task(agent())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(stop_mid_batch())
    assert consumer.acked == []
