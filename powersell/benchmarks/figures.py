"""Pure parts of `powersell-pipeline bench all` (tests/unit/test_bench_all.py): latency
summaries, peak RSS, rate pacing, the bench's event timeline, window latencies to the
analytics topic, stage rates from counter samples, and reading a worker's /metrics text.
No Kafka and no processes here."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Hashable, Iterable, Iterator, Mapping, Sequence

from powersell.benchmarks.workers import percentile

HOUR_MS = 3_600_000
CURRENCY_COUNTRY = {"VND": "VN", "THB": "TH"}  # as the aggregation falls back when an address has no country


# ---------------------------------------------------------------- latency
@dataclass(frozen=True)
class Latency:
    count: int
    p50: float
    p99: float
    max: float


def latency_summary(values_ms: Sequence[float]) -> Latency | None:
    """Nearest-rank p50 and p99 (powersell.benchmarks.workers.percentile) and the maximum; None for no values."""
    if not values_ms:
        return None
    return Latency(len(values_ms), percentile(values_ms, 50), percentile(values_ms, 99), max(values_ms))


# ---------------------------------------------------------------- peak RSS
def parse_proc_status(text: str) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS (now) in KiB from the text of /proc/<pid>/status."""
    units = {"kb": 1, "mb": 1024, "gb": 1024 * 1024}
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[name] = int(parts[0]) * units.get(parts[1].lower() if len(parts) > 1 else "kb", 1)
    return out


class PeakRss:
    """A process's peak resident set: the kernel's VmHWM where /proc has it; where it does not,
    the largest RSS psutil reported at the samples taken (`sample`), which can miss a short peak."""

    def __init__(self, read_status: Callable[[int], str | None], psutil_rss: Callable[[int], int | None]):
        self._read_status, self._psutil_rss = read_status, psutil_rss
        self.sampled_kib: int | None = None

    def sample(self, pid: int) -> None:
        status = self._read_status(pid)
        figures = parse_proc_status(status) if status else {}
        now = figures.get("VmHWM", figures.get("VmRSS"))
        if now is None:
            rss = self._psutil_rss(pid)
            now = None if rss is None else rss // 1024
        if now is not None:
            self.sampled_kib = now if self.sampled_kib is None else max(self.sampled_kib, now)

    def peak_kib(self, pid: int) -> int | None:
        self.sample(pid)
        return self.sampled_kib


def proc_status(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def psutil_rss(pid: int) -> int | None:
    """Resident bytes by psutil when it is installed (it is not a dependency)."""
    try:
        import psutil
        return psutil.Process(pid).memory_info().rss
    except Exception:  # not installed, or the process is gone
        return None


def peak_rss_tracker() -> PeakRss:
    return PeakRss(proc_status, psutil_rss)


# ---------------------------------------------------------------- pacing
def paced(count: int, rate: float, clock: Callable[[], float] = time.perf_counter,
          sleep: Callable[[float], None] = time.sleep) -> Iterator[int]:
    """Yield 0..count-1, item i not before start + i/rate: an open-loop fixed rate. When the caller
    falls behind, the late items go at once (the schedule, not the last send, sets the pace), so
    the offered rate over the run stays `rate` and a slow consumer shows as latency."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    start = clock()
    for i in range(count):
        delay = start + i / rate - clock()
        if delay > 0:
            sleep(delay)
        yield i


# ---------------------------------------------------------------- the bench's event timeline
def restamp(records: Sequence[tuple[str, dict]], start: datetime, step: timedelta) -> None:
    """Give record i the event, create, update and ingest time start + i*step, and the event id of
    that version (schemas.event_id), in place. Times in order make each phase's windows disjoint."""
    from schemas import event_id

    for i, (_, r) in enumerate(records):
        t = start + i * step
        r["event_time"] = r["update_time"] = r["create_time"] = t
        if "ingest_time" in r:
            r["ingest_time"] = t
        r["event_id"] = event_id(r["marketplace"], "order", r["order_id"], int(t.timestamp() * 1000))


def order_group(record: Mapping) -> tuple[int, str, str]:
    """(hourly window start ms, marketplace, country) of an order: the cell of the analytics
    topic's country total (province and category null) the order counts in."""
    created = int(record["create_time"].timestamp() * 1000)
    country = (record.get("recipient") or {}).get("address", {}).get("country") \
        or CURRENCY_COUNTRY.get(record.get("currency"), "unknown")
    return created - created % HOUR_MS, str(record["marketplace"]), country


@dataclass(frozen=True)
class WindowLatencies:
    latencies_ms: list[int]
    complete: int   # window groups whose full count appeared
    missing: int    # window groups whose full count never appeared (suppressed, late or too slow)


def window_latencies(events: Iterable[tuple[Hashable, int]], aggregates: Iterable[tuple[int, Hashable, int | None]]
                     ) -> WindowLatencies:
    """events: (group, raw publish ms) of every event published; aggregates: (record time ms, group,
    orders) of every analytics record read. Per group: the first aggregate whose orders equal the
    group's event count, minus the publish time of the group's last event."""
    expected: dict[Hashable, int] = {}
    last: dict[Hashable, int] = {}
    for group, ts in events:
        expected[group] = expected.get(group, 0) + 1
        last[group] = max(last.get(group, ts), ts)
    first_full: dict[Hashable, int] = {}
    for ts, group, orders in aggregates:
        if group in expected and orders == expected[group]:
            first_full[group] = min(first_full.get(group, ts), ts)
    latencies = [first_full[g] - last[g] for g in sorted(first_full, key=repr)]
    return WindowLatencies(latencies, len(first_full), len(expected) - len(first_full))


# ---------------------------------------------------------------- stage rates
@dataclass(frozen=True)
class StageRate:
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def stage_rate(samples: Sequence[tuple[float, float]], start_count: float, target: float) -> StageRate | None:
    """From (time s, counter) samples in time order: events from start_count to target over the
    time from the last sample still at start_count to the first sample at or past target. None
    when the counter never got there. The error is at most one sampling interval at each end."""
    began = done = None
    for t, value in samples:
        if value <= start_count:
            began = t
        elif began is None:
            began = t  # moved before the first sample: count from the first one
        if value >= target:
            done = t
            break
    if began is None or done is None or target <= start_count:
        return None
    return StageRate(int(target - start_count), done - began)


# ---------------------------------------------------------------- a worker's /metrics text
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric_value(text: str, name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The sum of the samples of `name` whose labels include `labels`, from Prometheus text; None if none."""
    total, found = 0.0, False
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        have = dict(_LABEL.findall(m.group(2) or ""))
        if all(have.get(k) == v for k, v in (labels or {}).items()):
            total += float(m.group(3))
            found = True
    return total if found else None


_METRICS_AT = re.compile(r"worker: metrics at http://[^:/\s]+:(\d+)/metrics")


def metrics_port(log_text: str) -> int | None:
    """The port a worker announced on stderr (`... worker: metrics at http://127.0.0.1:PORT/metrics`)."""
    found = _METRICS_AT.findall(log_text)
    return int(found[-1]) if found else None


# ---------------------------------------------------------------- verdicts
def share_verdict(value: float, baseline: float, target_share: float) -> str:
    """'62%, met' or '41%, missed by 19 points'."""
    if not baseline:
        return "n/a (no baseline)"
    share = value / baseline
    points = target_share * 100 - share * 100
    return f"{share:.0%}, met" if share >= target_share else f"{share:.0%}, missed by {points:.0f} points"


def limit_verdict(value: float | None, limit: float, unit: str) -> str:
    """'180 ms, met' or '2,400 ms, missed by 2,150 ms (9.6x the limit)'."""
    if value is None:
        return "n/a (not measured)"
    if value <= limit:
        return f"{value:,.0f} {unit}, met"
    return f"{value:,.0f} {unit}, missed by {value - limit:,.0f} {unit} ({value / limit:.1f}x the limit)"


@dataclass
class PipelineOptions:
    events: int = 20_000           # backlog events per backlog phase
    rate: float = 1_000.0          # offered events/s in phase 4
    paced_seconds: float = 20.0
    window_seconds: float = 2.0    # phase 4: seconds of sending per hourly window (its event times advance 1 h)
    stall_seconds: float = 90.0
    aggregation: bool = True       # False: `worker aggregation` is not there; phases 2-4 without it


@dataclass
class PipelineFigures:
    options: PipelineOptions
    privacy_alone: float = 0.0                    # phase 1, events/s
    aggregation_alone: StageRate | None = None    # phase 2
    max_privacy: float = 0.0                      # phase 3
    max_aggregation: StageRate | None = None
    max_pipeline: StageRate | None = None         # backlog events over first publish -> last aggregated
    paced_events: int = 0
    paced_offered: float = 0.0                    # the rate the producer achieved
    paced_privacy: float = 0.0
    paced_aggregation: StageRate | None = None
    paced_drain_seconds: float = 0.0              # after the last send, until the redacted topic had every event
    redacted_latency: Latency | None = None
    analytics_latency: WindowLatencies | None = None
    two_workers: float | None = None              # phase 5, events/s (None: it failed, see notes)
    rss_kib: dict[str, int | None] = field(default_factory=dict)
    cpu_share: dict[str, dict[str, float]] = field(default_factory=dict)   # phase -> process -> CPU s / wall s
    notes: list[str] = field(default_factory=list)
