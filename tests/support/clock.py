"""A clock a test moves on instead of sleeping, for the simulators and the marketplace APIs (both take
`clock=`): wall-clock time plus the steps the test took. A token's lifetime runs out at `advance`, while
everything that measures time passing (the simulators' rate limiters) keeps working."""

from __future__ import annotations

import time


class FakeClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
