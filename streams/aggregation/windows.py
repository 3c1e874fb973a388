"""Event-time tumbling windows (UTC) and when each stops accepting late data.

A window is [start, end). It is *ready* (first published) once the watermark passes its end
and *closed* once the watermark passes end + allowed lateness: later events for it are
dropped (and counted), and its state is evicted after a last publication.

Default lateness, and why: the connectors poll every 30 s with a 10 min look-back and
webhooks push within seconds, so on a healthy day data is minutes late at most. The budget
is for bad days: a worker restart with changelog recovery, a marketplace outage or a
rate-limit backoff. HOURLY keeps 1 h (a window is republished at most for one more hour;
state stays small); DAILY keeps 6 h, so what the hourly windows missed during a short outage
still lands in the day's totals, and an order's dedup/replacement state lives ~30 h.
Backfills (a newly connected shop's 60-day full sync) are beyond any lateness: they are
counted as late, not aggregated; raise the lateness to include history on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class Granularity(str, Enum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"

    @property
    def size_ms(self) -> int:
        return HOUR_MS if self is Granularity.HOURLY else DAY_MS


DEFAULT_LATENESS = {Granularity.HOURLY: timedelta(hours=1), Granularity.DAILY: timedelta(hours=6)}


def to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:  # the codec always returns aware datetimes; a naive one is a caller's bug
        raise ValueError("timestamps must be timezone-aware")
    return int(ts.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


@dataclass(frozen=True, order=True)
class Window:
    granularity: Granularity
    start_ms: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.granularity.size_ms

    @property
    def start(self) -> datetime:
        return from_ms(self.start_ms)

    @property
    def end(self) -> datetime:
        return from_ms(self.end_ms)


def window_of(ts: datetime | int, granularity: Granularity) -> Window:
    """The window holding ts (a datetime or epoch milliseconds). UTC days start at 00:00 UTC."""
    ms = ts if isinstance(ts, int) else to_ms(ts)
    size = granularity.size_ms
    return Window(granularity, ms - ms % size)  # Python's % floors, so pre-1970 works too


@dataclass(frozen=True)
class WindowPolicy:
    """Which granularities are aggregated and how late each may be."""

    lateness: dict[Granularity, timedelta] = field(default_factory=lambda: dict(DEFAULT_LATENESS))

    def __post_init__(self):
        if any(v < timedelta(0) for v in self.lateness.values()):
            raise ValueError("allowed lateness must not be negative")

    @property
    def granularities(self) -> tuple[Granularity, ...]:
        return tuple(g for g in Granularity if g in self.lateness)

    def closes_at_ms(self, window: Window) -> int:
        return window.end_ms + int(self.lateness[window.granularity].total_seconds() * 1000)

    def is_ready(self, window: Window, watermark_ms: int) -> bool:
        return watermark_ms >= window.end_ms

    def is_closed(self, window: Window, watermark_ms: int) -> bool:
        """Closed windows accept nothing more; an event exactly at the close is still on time."""
        return watermark_ms > self.closes_at_ms(window)
