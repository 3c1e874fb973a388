"""(b) of `bench all`: the bare baselines on the same raw order events, interleaved.

A kafka-python loop, the faust passthrough (the workers' own Faust settings) and, when the
optional `bench` extra is installed, a Quix Streams passthrough: each round runs each once in
that order (A, B, C, A, B, C ...), so the machine's mood reaches all of them alike; every
figure is the median over the rounds with its spread, and the load average around each run is
recorded (powersell.benchmarks.interleave)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from pipeline_core.settings import Settings

from powersell.benchmarks.interleave import comparison_header, comparison_rows, interleave, loads_line
from powersell.benchmarks.report import table

LOOP, FAUST, QUIX = "kafka-python loop", "faust passthrough", "Quix Streams passthrough"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def median_run(runs: list) -> object:
    """The run whose events/s is the median (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda r: r.events_per_second)
    return ordered[(len(ordered) - 1) // 2]


def run_interleaved_baselines(settings: Settings, workdir: Path, events: int, rate: float, paced_seconds: float,
                              rounds: int, cores: int) -> tuple[dict, str]:
    """Returns ({phase: Phase}, the section's body)."""
    from powersell.benchmarks.loop import run_loop
    from powersell.benchmarks.quix_passthrough import MISSING, available, run_quix
    from powersell.benchmarks.workers import BenchError, BenchKafka, bench_order_records, encode_events, run_app

    paced_count = max(1, int(rate * paced_seconds))
    _say(f"[b: baselines] building and encoding {events + paced_count:,} raw order events...")
    encoded = encode_events(bench_order_records(events + paced_count))
    backlog, paced = encoded[:events], encoded[events:]
    kafka = BenchKafka(settings)
    runs: dict[str, list] = {}

    def measured(name: str, run: Callable[[], object]) -> Callable[[], float]:
        def once() -> float:
            r = run()
            r.app = name  # the table's label
            runs.setdefault(name, []).append(r)
            return r.events_per_second
        return once

    phases = {LOOP: measured(LOOP, lambda: run_loop(kafka, backlog, paced, rate, workdir)),
              FAUST: measured(FAUST, lambda: run_app(kafka, "passthrough", backlog, paced, rate, workdir))}
    notes = []
    if available():
        phases[QUIX] = measured(QUIX, lambda: run_quix(kafka, backlog, paced, rate, workdir))
    else:
        _say(f"[b: baselines] {MISSING}")
        notes.append(MISSING + ".")
    try:
        result = interleave(phases, rounds, on_error=(BenchError,), progress=lambda m: _say(f"[b: baselines] {m}"))
    finally:
        kafka.cleanup()
    return result, baselines_body(result, runs, events, rate, paced_seconds, rounds, cores, notes)


def baselines_body(result: dict, runs: dict, events: int, rate: float, paced_seconds: float, rounds: int, cores: int,
                   notes: list[str]) -> str:
    from powersell.benchmarks.workers import e2e_table

    refs = [FAUST] + ([QUIX] if QUIX in result and result[QUIX].median else [])
    out = ["### Baselines: a bare kafka-python loop, a bare faust passthrough, a Quix Streams passthrough\n",
           table(comparison_header("events/s", refs), comparison_rows(result, cores, refs)),
           f"\n{rounds} rounds, interleaved ({', '.join(result)} in each round); events/s is each run's output "
           "CreateTime span over the backlog; median, all runs, spread = (max - min) / median. "
           + loads_line(result),
           "\nThe median run of each, with its latency and memory:\n",
           e2e_table([median_run(r) for r in runs.values() if r]),
           f"\n\nThe same {events:,} raw order events (powersell.benchmarks.workers's generator) preloaded into a "
           "fresh bench.raw.orders (4 partitions) before each process starts. Then "
           f"{max(1, int(rate * paced_seconds)):,} more at {rate:,.0f} events/s: latency is each output record's "
           "CreateTime minus its raw record's. The loop is kafka-python's KafkaConsumer (auto commit) and "
           "KafkaProducer (acks=all); the faust passthrough is powersell/benchmarks/passthrough.py with the workers' "
           "Faust settings; the Quix passthrough (powersell/benchmarks/quix_passthrough.py) is a StreamingDataFrame "
           "`to_topic`, bytes in and out, at-least-once, acks=all (confluent-kafka underneath). Each process runs "
           "alone; peak RSS is its VmHWM."]
    for name, phase in result.items():
        out += [f"\nOdd: {name}: {e}" for e in phase.errors]
    out += [f"\n{n}" for n in notes]
    return "\n".join(out)
