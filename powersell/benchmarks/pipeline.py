"""The full pipeline under load, for `bench all`: the privacy worker and the aggregation worker,
each `powersell-pipeline worker ...` in its own process, on a scratch broker of their own, so
the catalog's real topic names hold only the bench's events (consent granted for its shops).

Phases, in one session (the workers stay up between phases):
 1. one privacy worker alone drains a backlog                  -> its events/s (scaling, 1 worker)
 2. the aggregation worker starts on that redacted backlog      -> its events/s alone
 3. both running, a new backlog                                -> events/s per stage and end to end
 4. both running, events at a fixed rate                        -> latency to redacted.orders and to
                                                                  analytics.aggregates, events/s per stage
 5. the aggregation worker stopped, a second privacy worker in the same group, the backlog of 1 again
                                                                -> events/s with 2 workers
Peak RSS per process over its life. Event times: warm-ups, then each phase in its own hours, in order,
so no phase's windows mix with another's (the aggregation windows by order create time)."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from powersell.benchmarks.workers import BenchError, BenchEvent, bench_order_records, encode_events, events_per_second

from powersell.benchmarks.figures import (Latency, StageRate, WindowLatencies, latency_summary, order_group, restamp, stage_rate,
                            window_latencies)
from powersell.benchmarks.figures import PipelineFigures, PipelineOptions
from powersell.benchmarks.session import RAW, REDACTED, PipelineSession
from pipeline_core.settings import Settings

PRIVACY_GROUP = "powersell-redactor"    # streams.app.APP_ID: the group of every privacy worker
ANALYTICS = "analytics.aggregates"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the events
@dataclass(frozen=True)
class EventSet:
    events: list[BenchEvent]
    groups: list[tuple]             # order_group() of each event
    partitions: list[int]           # raw.orders partition of each event (the connectors' partitioner)


def build_event_sets(options: PipelineOptions, start: datetime) -> tuple[dict[str, EventSet], set[tuple[str, str]]]:
    """warmup, backlog1, backlog3, paced: one generated run of orders, restamped per phase; and the
    (shop key, marketplace) of every shop, for its consent."""
    from pipeline_core.kafka_io import partition_for
    from pipeline_core.topics import topic

    n_paced = max(1, int(options.rate * options.paced_seconds))
    per_window = max(1, int(options.rate * options.window_seconds))
    sizes = {"warmup": 64, "backlog1": options.events, "backlog3": options.events, "paced": n_paced}
    records = bench_order_records(sum(sizes.values()))
    out, at, offset = {}, start, 0
    for name, size in sizes.items():
        part = records[offset:offset + size]
        offset += size
        step = timedelta(hours=1) / per_window if name == "paced" else timedelta(hours=1) / size
        restamp(part, at, step)
        hours = -(-(size * step) // timedelta(hours=1))  # whole hours, rounded up
        at += timedelta(hours=hours + 1)
        raw = topic(RAW)
        out[name] = EventSet(encode_events(part), [order_group(r) for _, r in part],
                             [partition_for(raw, key) for key, _ in part])
    shops = {(key, r["marketplace"].lower()) for key, r in records}
    return out, shops


def warmup_events(warmup: EventSet, partitions: int) -> tuple[list[BenchEvent], list[int]]:
    """One event per partition (and those partitions): together they reach every worker of the group."""
    chosen: dict[int, BenchEvent] = {}
    for event, p in zip(warmup.events, warmup.partitions):
        chosen.setdefault(p, event)
    if len(chosen) < partitions:
        raise BenchError(f"the warm-up events reach {len(chosen)} of {partitions} partitions; generate more")
    return [chosen[p] for p in sorted(chosen)], sorted(chosen)


MACHINE = "the machine, every process"


def _cpu_seconds(session: PipelineSession) -> dict[str, float | None]:
    """CPU seconds of each worker so far, and the whole machine's busy seconds (every core, every process: how much
    of the host was left for a worker to use)."""
    from powersell.benchmarks.workers import machine_busy

    return {**session.cpu_seconds(), MACHINE: (machine_busy() or (None, None))[0]}


def _cpu_shares(before: dict[str, float | None], after: dict[str, float | None], seconds: float) -> dict[str, float]:
    return {k: (after[k] - v) / seconds for k, v in before.items()
            if v is not None and after.get(k) is not None and seconds > 0}


def _redacted_rate(session: PipelineSession, since: dict[int, int], wanted: set[str]) -> tuple[float, dict[str, int]]:
    """events/s from the CreateTime span of the redacted records of `wanted` events; their times by event id."""
    from pipeline_core.avro_codec import default_registry

    registry = default_registry()
    out: dict[str, int] = {}
    for ts, value in session.read(REDACTED, since)[0]:
        eid = registry.decode(value)[1]["event_id"]
        if eid in wanted and eid not in out:
            out[eid] = ts
    return events_per_second(out.values()), out


# ---------------------------------------------------------------- the phases
def run_pipeline_bench(settings: Settings, workdir: Path, options: PipelineOptions) -> PipelineFigures:
    figures = PipelineFigures(options)
    start = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    _say(f"[pipeline] building and encoding {2 * options.events + int(options.rate * options.paced_seconds):,} "
         "raw order events...")
    sets, shops = build_event_sets(options, start)
    session = PipelineSession(settings, workdir, options)
    try:
        _say(f"[pipeline] topics and consent for {len(shops)} bench shops")
        session.setup(shops, start - timedelta(days=1))
        warmups, warm_parts = warmup_events(sets["warmup"], settings_partitions())

        def warm_up(label: str) -> None:
            before = session.count(REDACTED)
            session.send(warmups, warm_parts)
            session.wait_until(f"{label}: warm-up", lambda r, a: r >= before + len(warmups), stall=120)

        def backlog(phase: str, events: EventSet) -> tuple[float, float]:
            """Send a backlog flat out, wait for the privacy worker(s); (events/s, monotonic start)."""
            since = session.end_offsets(REDACTED)
            cpu0, t0 = _cpu_seconds(session), time.monotonic()
            session.send(events.events, events.partitions)
            target = sum(since.values()) + len(events.events)
            session.wait_until(phase, lambda r, a: r >= target)
            figures.cpu_share[phase] = _cpu_shares(cpu0, _cpu_seconds(session), time.monotonic() - t0)
            rate, seen = _redacted_rate(session, since, {e.event_id for e in events.events})
            if len(seen) != len(events.events):
                figures.notes.append(f"{phase}: {len(events.events) - len(seen)} events missing on {REDACTED}")
            return rate, t0

        # 1. one privacy worker alone
        session.start_worker("redaction", "privacy worker 1")
        session.wait_group(PRIVACY_GROUP, 1)
        warm_up("privacy worker 1")
        _say(f"[pipeline] 1/5 one privacy worker drains {options.events:,} events")
        figures.privacy_alone, _ = backlog("1 privacy worker", sets["backlog1"])

        # 2. the aggregation worker alone, on what phase 1 redacted
        if options.aggregation:
            total = session.count(REDACTED)
            _say(f"[pipeline] 2/5 the aggregation worker drains the {total:,} redacted events")
            session.aggregator = session.start_worker("aggregation", "aggregation worker")
            cpu0, t0 = _cpu_seconds(session), time.monotonic()
            mark = len(session.samples)
            session.wait_until("aggregation alone", lambda r, a: a is not None and a >= total, stall=180)
            figures.cpu_share["aggregation alone"] = _cpu_shares(cpu0, _cpu_seconds(session), time.monotonic() - t0)
            agg = [(t, a) for t, _, a in session.samples[mark:] if a is not None]
            figures.aggregation_alone = stage_rate(agg, agg[0][1] if agg else 0, total) if agg else None
        else:
            figures.notes.append("the aggregation worker is not available: phases 2-4 ran the privacy worker alone")

        # 3. both, flat out
        _say(f"[pipeline] 3/5 the full pipeline drains {options.events:,} new events")
        agg0 = session.aggregated()
        mark = len(session.samples)
        figures.max_privacy, t_send = backlog("full pipeline, max rate", sets["backlog3"])
        if options.aggregation and agg0 is not None:
            target = agg0 + options.events
            session.wait_until("full pipeline, aggregation", lambda r, a: a is not None and a >= target)
            agg = [(t, a) for t, _, a in session.samples[mark:] if a is not None]
            figures.max_aggregation = stage_rate(agg, agg0, target)
            done = next((t for t, a in agg if a >= target), None)
            if done is not None:
                figures.max_pipeline = StageRate(options.events, done - t_send)
        else:
            figures.max_pipeline = StageRate(options.events, len(sets["backlog3"].events) / figures.max_privacy) \
                if figures.max_privacy else None

        # 4. both, at a fixed rate
        paced_set = sets["paced"]
        n = len(paced_set.events)
        _say(f"[pipeline] 4/5 {n:,} events at {options.rate:,.0f} events/s ({options.paced_seconds:g} s)")
        since, analytics_since = session.end_offsets(REDACTED), session.end_offsets(ANALYTICS)
        agg0, mark = session.aggregated(), len(session.samples)
        cpu0, t0 = _cpu_seconds(session), time.monotonic()
        raw_ts = session.send(paced_set.events, paced_set.partitions, rate=options.rate)
        t_sent = time.monotonic()
        figures.paced_events = n
        figures.paced_offered = (n - 1) / ((max(raw_ts) - min(raw_ts)) / 1000) if n > 1 and max(raw_ts) > min(raw_ts) \
            else float(options.rate)
        target = sum(since.values()) + n
        session.wait_until("fixed rate", lambda r, a: r >= target)
        figures.paced_drain_seconds = time.monotonic() - t_sent
        if options.aggregation and agg0 is not None:
            session.wait_until("fixed rate, aggregation", lambda r, a: a is not None and a >= agg0 + n)
            agg = [(t, a) for t, _, a in session.samples[mark:] if a is not None]
            figures.paced_aggregation = stage_rate(agg, agg0, agg0 + n)
        figures.cpu_share["fixed rate"] = _cpu_shares(cpu0, _cpu_seconds(session), time.monotonic() - t0)
        figures.paced_privacy, out_ts = _redacted_rate(session, since, {e.event_id for e in paced_set.events})
        figures.redacted_latency = latency_summary([out_ts[e.event_id] - t for e, t in zip(paced_set.events, raw_ts)
                                                    if e.event_id in out_ts])
        if options.aggregation:
            figures.analytics_latency = wait_for_windows(session, paced_set, raw_ts, analytics_since)

        # 5. two privacy workers on the backlog of phase 1
        if session.aggregator is not None:
            session.stop_worker(session.aggregator, figures)
            session.aggregator = None
        try:
            session.start_worker("redaction", "privacy worker 2")
            session.wait_group(PRIVACY_GROUP, 2)
            warm_up("privacy workers 1 and 2")
            _say(f"[pipeline] 5/5 two privacy workers drain the {options.events:,} events of phase 1 again")
            figures.two_workers, _ = backlog("2 privacy workers", sets["backlog1"])
        except BenchError as exc:  # the figures of phases 1-4 stand; say why this one is missing
            _say(f"[pipeline] 5/5 failed: {exc}")
            figures.notes.append(f"two privacy workers: no figure, {last_error_line(str(exc))}")
    finally:
        session.close(figures)
    return figures


def last_error_line(text: str) -> str:
    """The first line of a failure and the last exception line of the log tail it quotes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no message"
    errors = [line for line in lines[1:] if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line)]
    return lines[0].rstrip(":") + (f" ({errors[-1]})" if errors else "")


def settings_partitions() -> int:
    from pipeline_core.topics import topic
    return topic(RAW).partitions


def wait_for_windows(session: PipelineSession, paced_set: EventSet, raw_ts: list[int], since: dict[int, int],
                     timeout: float = 40.0) -> WindowLatencies:
    """Read analytics.aggregates until every window group of the paced events has its full count,
    or `timeout` s (a few of the aggregation worker's publishing ticks) passed."""
    from pipeline_core.avro_codec import default_registry

    registry = default_registry()
    events = list(zip(paced_set.groups, raw_ts))
    aggregates: list[tuple[int, tuple, int | None]] = []
    deadline = time.monotonic() + timeout
    while True:
        fresh, since = session.read(ANALYTICS, since)
        for ts, value in fresh:
            r = registry.decode(value)[1]
            if r["granularity"] == "HOURLY" and r["province"] is None and r["category"] is None:
                start_ms = int(r["window_start"].timestamp() * 1000)
                aggregates.append((ts, (start_ms, r["marketplace"], r["country"]), r.get("orders")))
        result = window_latencies(events, aggregates)
        if not result.missing or time.monotonic() > deadline:
            return result
        session.sample()
        time.sleep(1.0)
