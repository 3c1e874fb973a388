"""A commit waits until every table change queued before it is acknowledged by the broker.

Faust writes a table change to its changelog through the producer's buffer (`send_soon`) and,
before it commits the input offsets, flushes that buffer. Faust 0.15's flush gives up as soon as
0.1 s pass without a message leaving the buffer (`ProducerBuffer.flush_atmost`), which a batch of
a few thousand changes on a busy machine easily reaches, and the commit goes on. A worker killed
then has committed inputs whose changes never reached the changelog: its successor recovers
without them and never reads those inputs again. CI saw it: after a SIGKILL and restart, 63 of
223 aggregate cells were republished from a state missing most of their orders.

`UnacknowledgedSends` remembers every message handed to the buffer until the broker acknowledged
it; the producer's flush (streams.app.IdempotentProducer) waits for the ones queued before it
began, and raises when one failed or can no longer be sent, so the commit does not happen: the
worker stops and its successor reads those inputs again (at least once, never lost)."""

from __future__ import annotations

import asyncio
from typing import Callable


class ChangesNotAcknowledged(RuntimeError):
    """A message queued before the commit was refused or cannot be sent: the commit must not happen."""


class UnacknowledgedSends:
    """The futures of queued messages the broker has not acknowledged yet (a FutureMessage resolves on the ack)."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future] = set()
        self._failed = 0

    def __len__(self) -> int:
        return len(self._pending)

    def track(self, fut: asyncio.Future) -> None:
        self._pending.add(fut)
        fut.add_done_callback(self._settled)

    def _settled(self, fut: asyncio.Future) -> None:
        self._pending.discard(fut)
        if fut.cancelled() or fut.exception() is not None:
            self._failed += 1

    async def wait_acknowledged(self, can_send: Callable[[], bool], check_every: float = 1.0) -> None:
        """Wait until every message queued so far is acknowledged (later ones are not waited for). Raises
        ChangesNotAcknowledged when any ever failed, or when `can_send()` turns false with
        some still queued (a stopped buffer never sends them)."""
        waiting = set(self._pending)
        while waiting:
            _, waiting = await asyncio.wait(waiting, timeout=check_every)
            if waiting and not can_send():
                raise ChangesNotAcknowledged(f"{len(waiting)} queued messages can no longer be sent")
        if self._failed:  # for good: Faust does not send a lost change again, so no later commit may pass it
            raise ChangesNotAcknowledged(f"{self._failed} queued messages were not acknowledged by the broker")
