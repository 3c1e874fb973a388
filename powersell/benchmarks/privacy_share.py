"""The privacy worker against the faust passthrough, interleaved, on a scratch broker: the
measurement behind "the privacy worker >= 70 % of the passthrough's events/s".

The privacy worker measured is the real one: `powersell-pipeline worker redaction` in its own
process (consent gate, consent barrier, redaction, partner shares, audiences, acknowledged
sends), reading the catalog's raw.orders with every bench shop's connection consent granted,
so nothing of the worker is copied or left out. The passthrough is
powersell/benchmarks/passthrough.py with the workers' Faust settings on bench.* topics of the
same broker. Rounds alternate: passthrough, privacy worker, passthrough, privacy worker ...;
the privacy worker stays up between its rounds (warm, as in production) and drains the same
backlog each time; the passthrough starts fresh each round (its figure starts at its first
output record, so start-up is not counted).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline_core.settings import Settings

from powersell.benchmarks.interleave import comparison_header, comparison_rows, interleave, loads_line, ratio
from powersell.benchmarks.report import table

PRIVACY, FAUST = "privacy worker (`worker redaction`)", "faust passthrough"
PRIVACY_SHARE = 0.70


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warm_privacy_worker(settings: Settings, workdir: Path, events: int, label: str):
    """(session, worker, backlog): the bench shops' consent granted, one real `worker redaction` started and warm
    (one event per partition went through), and a backlog of `events` raw orders to send. The caller closes the
    session, also when this raises."""
    from powersell.benchmarks.figures import PipelineOptions
    from powersell.benchmarks.pipeline import PRIVACY_GROUP, build_event_sets, settings_partitions, warmup_events
    from powersell.benchmarks.session import REDACTED, PipelineSession

    options = PipelineOptions(events=events, rate=100.0, paced_seconds=0.01, aggregation=False)
    start = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    _say(f"[{label}] building and encoding {events:,} raw order events...")
    sets, shops = build_event_sets(options, start)
    session = PipelineSession(settings, workdir, options)
    try:
        session.setup(shops, start - timedelta(days=1))
        worker = session.start_worker("redaction", label)
        session.wait_group(PRIVACY_GROUP, 1)
        warmups, parts = warmup_events(sets["warmup"], settings_partitions())
        before = session.count(REDACTED)
        session.send(warmups, parts)
        session.wait_until(f"{label}: warm-up", lambda r, a: r >= before + len(warmups), stall=120)
    except BaseException:
        session.close()
        raise
    return session, worker, sets["backlog1"]


def privacy_vs_passthrough(settings: Settings, workdir: Path, events: int, rounds: int, cores: int) -> tuple[dict, str]:
    """({phase: Phase}, the section's body). `settings` must be a scratch broker's: the catalog's topics are used."""
    from powersell.benchmarks.pipeline import _redacted_rate
    from powersell.benchmarks.session import REDACTED
    from powersell.benchmarks.workers import BenchError, BenchKafka, run_app

    session, _, backlog = warm_privacy_worker(settings, workdir, events, "privacy worker")
    kafka = BenchKafka(settings)
    cpu: dict[str, list[float]] = {}
    try:
        def privacy() -> float:
            since = session.end_offsets(REDACTED)
            cpu0, t0 = session.cpu_seconds(), time.monotonic()
            session.send(backlog.events, backlog.partitions)
            target = sum(since.values()) + len(backlog.events)
            session.wait_until("privacy worker", lambda r, a: r >= target)
            seconds = time.monotonic() - t0
            share = {k: (session.cpu_seconds()[k] - v) / seconds for k, v in cpu0.items() if v is not None}
            cpu.setdefault(PRIVACY, []).extend(share.values())
            rate, seen = _redacted_rate(session, since, {e.event_id for e in backlog.events})
            if len(seen) != len(backlog.events):
                raise BenchError(f"{len(backlog.events) - len(seen)} events missing on {REDACTED}")
            return rate

        def passthrough() -> float:
            run = run_app(kafka, "passthrough", backlog.events, [], 1.0, workdir)
            if run.cpu_share is not None:
                cpu.setdefault(FAUST, []).append(run.cpu_share)
            return run.events_per_second

        result = interleave({FAUST: passthrough, PRIVACY: privacy}, rounds, on_error=(BenchError,),
                            progress=lambda m: _say(f"[privacy share] {m}"))
    finally:
        kafka.cleanup()
        session.close()
    return result, privacy_share_body(result, cpu, events, rounds, cores)


def privacy_share_body(result: dict, cpu: dict[str, list[float]], events: int, rounds: int, cores: int) -> str:
    share = ratio(result[PRIVACY], result[FAUST])
    noisy = result[PRIVACY].noisy(cores) + result[FAUST].noisy(cores)
    verdict = ("n/a" if share is None else f"{share:.2f} of the passthrough: "
               + ("met" if share >= PRIVACY_SHARE else "not met") + (" (noisy)" if noisy else ""))
    cpu_line = "; ".join(f"{name} {sum(v) / len(v):.0%} of one core" for name, v in cpu.items() if v)
    out = [table(comparison_header("events/s", [FAUST]), comparison_rows(result, cores, [FAUST])),
           f"\n{rounds} rounds, interleaved; {events:,} raw order events per run; events/s is the output records' "
           f"CreateTime span. " + loads_line(result) + (f" Mean CPU while draining: {cpu_line}." if cpu_line else ""),
           f"\nTarget: the privacy worker >= {PRIVACY_SHARE:.0%} of the faust passthrough's events/s: {verdict}. "
           "Where its CPU goes: the section Privacy worker profile (`--parts profile`).",
           "\n" + (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ").strip()]
    for name, phase in result.items():
        out += [f"\nOdd: {name}: {e}" for e in phase.errors]
    return "\n".join(out)
