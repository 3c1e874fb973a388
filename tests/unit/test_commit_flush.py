"""A commit waits for the table changes queued before it (streams.commit_flush): without Kafka, with the futures
a FutureMessage would be (resolved when the broker acknowledges)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from faust.transport.producer import ProducerBuffer

from streams.commit_flush import ChangesNotAcknowledged, UnacknowledgedSends


def run(coro):
    return asyncio.run(coro)


def test_fausts_own_buffer_flush_returns_with_messages_still_queued():
    """The premise: Faust's flush gives up after 0.1 s without a send, so it cannot be what a commit relies on.
    If a Faust release fixes this, the test fails and commit_flush can go."""
    async def scenario():
        buffer = ProducerBuffer()
        buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
        handed_on = asyncio.Event()

        async def stuck_send(fut):  # the client is busy (a full batch waiting for the broker)
            await handed_on.wait()
        buffer._send_pending = stuck_send
        await buffer.start()
        assert buffer.state == "running"  # what IdempotentProducer.flush takes for "can still send"
        try:
            for _ in range(3):
                buffer.put(asyncio.get_running_loop().create_future())
            await buffer.flush()
            still_queued = buffer.size
        finally:
            handed_on.set()
            while buffer.size:  # let the buffer drain, or its stop raises
                await asyncio.sleep(0.01)
            await buffer.stop()
        return still_queued
    assert run(scenario()) >= 2


def test_waits_until_every_queued_message_is_acknowledged():
    async def scenario():
        loop = asyncio.get_running_loop()
        sends = UnacknowledgedSends()
        futs = [loop.create_future() for _ in range(3)]
        for fut in futs:
            sends.track(fut)
        waiter = asyncio.ensure_future(sends.wait_acknowledged(lambda: True, check_every=0.05))
        acknowledged_while_waiting = []
        for fut in futs:
            await asyncio.sleep(0.01)  # the broker's acknowledgements come one by one
            acknowledged_while_waiting.append(waiter.done())
            fut.set_result("acked")
        await waiter
        return acknowledged_while_waiting, len(sends)
    done_early, left = run(scenario())
    assert done_early == [False, False, False] and left == 0


def test_messages_queued_after_the_wait_began_are_not_waited_for():
    async def scenario():
        loop = asyncio.get_running_loop()
        sends = UnacknowledgedSends()
        first = loop.create_future()
        sends.track(first)
        waiter = asyncio.ensure_future(sends.wait_acknowledged(lambda: True, check_every=0.05))
        await asyncio.sleep(0)
        sends.track(loop.create_future())  # a change of the next batch, never acknowledged here
        first.set_result("acked")
        await asyncio.wait_for(waiter, 5)
        return len(sends)
    assert run(scenario()) == 1


def test_a_refused_change_stops_every_later_commit():
    async def scenario():
        loop = asyncio.get_running_loop()
        sends = UnacknowledgedSends()
        refused, later = loop.create_future(), loop.create_future()
        sends.track(refused)
        refused.set_exception(OSError("broker refused"))
        await asyncio.sleep(0)
        errors = []
        for _ in range(2):
            try:
                await sends.wait_acknowledged(lambda: True)
            except ChangesNotAcknowledged as exc:
                errors.append(str(exc))
            sends.track(later)
            later.set_result("acked") if not later.done() else None
        return errors
    errors = run(scenario())
    assert len(errors) == 2 and "1 queued messages were not acknowledged" in errors[0]


def test_a_stopped_buffer_with_queued_changes_raises_instead_of_waiting_for_ever():
    async def scenario():
        sends = UnacknowledgedSends()
        sends.track(asyncio.get_running_loop().create_future())
        await sends.wait_acknowledged(lambda: False, check_every=0.01)
    with pytest.raises(ChangesNotAcknowledged, match="1 queued messages can no longer be sent"):
        run(scenario())


def test_nothing_queued_returns_at_once():
    run(asyncio.wait_for(UnacknowledgedSends().wait_acknowledged(lambda: False), 1))


@pytest.fixture
def workers_producer(tmp_path, monkeypatch):
    """The workers' producer, not started: Faust's own flush stubbed out (it needs a broker), the buffer taken as
    running, so only the waiting that commit_flush adds is exercised."""
    from faust.transport.drivers.aiokafka import Producer as AIOKafkaDriverProducer

    from pipeline_core.settings import Settings
    from streams.app import faust_app

    async def faust_flush(self):
        return None
    monkeypatch.setattr(AIOKafkaDriverProducer, "flush", faust_flush)
    monkeypatch.setattr(ProducerBuffer, "state", property(lambda self: "running"))
    return faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "commit-flush-test").producer


def test_the_workers_producer_flush_waits_for_a_table_change_queued_before_it(workers_producer):
    async def scenario():
        change = asyncio.get_running_loop().create_future()
        workers_producer.send_soon(change)  # as Table.send_changelog does
        flushing = asyncio.ensure_future(workers_producer.flush())
        await asyncio.sleep(0.05)
        waited = not flushing.done()
        change.set_result("acked")
        await asyncio.wait_for(flushing, 5)
        return waited
    assert run(scenario()) is True


def test_the_workers_producer_flush_raises_on_a_refused_table_change(workers_producer):
    async def scenario():
        change = asyncio.get_running_loop().create_future()
        workers_producer.send_soon(change)
        change.set_exception(OSError("refused"))
        await workers_producer.flush()
    with pytest.raises(ChangesNotAcknowledged):
        run(scenario())
