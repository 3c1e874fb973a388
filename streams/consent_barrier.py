"""Consent before data: a data event is decided only after every consent change already
written to its partition of `consent.events` has been applied.

Faust runs the consent agent and the data agent side by side; left alone, the data agent
could race ahead and let an event through that a withdrawal already written to Kafka
forbids. After each batch is read the data agent asks the leaders of the matching consent
partitions (co-partitioned by shop, so partition p of the data is partition p of consent)
for their end offsets, and waits until the consent book has applied up to them. So every
consent record acknowledged before the data was read is in the book first, on one broker
or several, whichever brokers lead the consent and the data partitions.

Not the consumer's cached high watermark: it is only as new as the last fetch of that
consent partition, and the consumer does not fetch a partition while it still holds
records of it (a consent backlog) or while it is paused, nor in the same request as the
data when another broker leads it; a withdrawal written before the data was then missed
(tests/integration/test_cluster_kafka.py). The question costs one ListOffsets round trip
per batch and is not cached, since an answer older than the batch could predate the
withdrawal. If the leaders cannot be asked, the data is held (fail closed).
A withdrawal written after that moment cannot reach back to events already published;
it still stops every later one (the decision is by event time).

"Applied up to" comes from the state itself (consent_follower.ConsentFollower.applied:
every record before it is in the book), never from the consumer group's committed offsets.
When the consent agent has not delivered the records within `recheck_seconds`, the barrier
has the follower read them from the topic directly, so a record Faust skips or holds back
cannot let data through, nor stall it."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Iterable, Mapping

from .consent_follower import ConsentFollower

log = logging.getLogger(__name__)

Offsets = Callable[[list[int]], Awaitable[Mapping[int, int]]]


class ConsentBarrier:
    def __init__(self, end_offsets: Offsets, state: ConsentFollower, recheck_seconds: float = 1.0) -> None:
        """`end_offsets`: each consent partition's end offset as its leader reports it now (asked after the batch was
        read, never a cached value); `state`: the book and how far it applied."""
        self._end_offsets, self.state = end_offsets, state
        self._recheck = recheck_seconds

    def forget(self) -> None:
        """On a rebalance: the assigned partitions are rebuilt from the topic before they are trusted."""
        self.state.forget()

    async def wait(self, partitions: Iterable[int]) -> None:
        partitions = sorted(set(partitions))
        while True:
            try:
                ends = await self._end_offsets(partitions)
                await self.state.ensure(partitions)
                break
            except Exception as exc:  # the broker is unreachable for a moment: hold the data (fail closed), retry
                log.warning("consent offsets not read (%s); data held, retrying", type(exc).__name__)
                await asyncio.sleep(self._recheck)
        waited = 0.0
        while behind := [p for p in partitions if self.state.applied.get(p, -1) < ends[p]]:
            self.state.changed.clear()
            try:
                await asyncio.wait_for(self.state.changed.wait(), self._recheck)
                continue
            except asyncio.TimeoutError:
                waited += self._recheck
            for p in behind:  # the consent agent is late: read the records from the topic (fail closed on errors)
                try:
                    await self.state.catch_up(p, ends[p])
                except Exception as exc:
                    log.warning("consent partition %d not read (%s); data held, retrying", p, type(exc).__name__)
            if waited >= 10 * self._recheck:
                log.warning("consent partitions %s still behind their end offsets; data held", behind)
                waited = 0.0
