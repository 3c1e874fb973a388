"""Consent before data: a data event is decided only after every consent change already
written to its partition of `consent.events` has been applied.

Faust runs the consent agent and the data agent side by side; left alone, the data agent
could race ahead and let an event through that a withdrawal already written to Kafka
forbids. Before each batch the data agent takes the end offsets of the matching consent
partitions (co-partitioned by shop, so partition p of the data is partition p of consent)
as the consumer's last fetch reported them - the fetch that brought the data, on one
broker - and waits until the consent agent has applied up to them.
A withdrawal written after that moment cannot reach back to events already published;
it still stops every later one (the decision is by event time)."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Iterable, Mapping

log = logging.getLogger(__name__)

Offsets = Callable[[list[int]], Awaitable[Mapping[int, int]]]


class ConsentBarrier:
    def __init__(self, end_offsets: Offsets, start_offsets: Offsets, recheck_seconds: float = 1.0) -> None:
        """`end_offsets`: the broker's end offset per consent partition now; `start_offsets`: where the consent
        agent starts in a partition it has not processed yet (its committed offset, else the log start)."""
        self._end_offsets, self._start_offsets = end_offsets, start_offsets
        self._applied: dict[int, int] = {}
        self._changed = asyncio.Event()
        self._recheck = recheck_seconds

    def advanced(self, partition: int, next_offset: int) -> None:
        """The consent agent applied everything before `next_offset` in `partition`."""
        self._applied[partition] = max(next_offset, self._applied.get(partition, 0))
        self._changed.set()

    def forget(self) -> None:
        """On a rebalance: another worker may have applied records here meanwhile."""
        self._applied.clear()

    async def wait(self, partitions: Iterable[int]) -> None:
        partitions = sorted(set(partitions))
        while True:
            try:
                ends = await self._end_offsets(partitions)
                unknown = [p for p in partitions if p not in self._applied]
                if unknown:
                    for p, start in (await self._start_offsets(unknown)).items():
                        self._applied.setdefault(p, start)
                break
            except Exception as exc:  # the broker is unreachable for a moment: hold the data (fail closed), retry
                log.warning("consent offsets not read (%s); data held, retrying", type(exc).__name__)
                await asyncio.sleep(self._recheck)
        waited = 0.0
        while behind := [p for p in partitions if self._applied.get(p, 0) < ends[p]]:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self._recheck)
            except asyncio.TimeoutError:
                waited += self._recheck
                if waited >= 10 * self._recheck:  # fail closed: keep waiting, but say so
                    log.warning("consent partitions %s still behind their end offsets; data held", behind)
                    waited = 0.0
