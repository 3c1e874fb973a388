"""`powersell-pipeline bench redaction`: the detection engine against Presidio on the labelled
corpus (powersell.benchmarks.workers), and the privacy worker itself against a bare faust
passthrough, interleaved, on a scratch broker (powersell.benchmarks.privacy_share)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from pipeline_core.settings import Settings

from powersell.benchmarks.workers import (E2E_HEADING, BenchError, _say, bench_detection, detection_part,
                                          previous_e2e_part)


def worker_e2e_part(settings: Settings, args) -> str:
    """The real privacy worker (`worker redaction`) against the faust passthrough, interleaved over
    `--rounds` rounds on a scratch broker of the run's own (the worker reads the catalog's topics)."""
    from powersell.benchmarks.privacy_share import privacy_vs_passthrough
    from powersell.benchmarks.suite import ScratchBroker

    workdir = Path(tempfile.mkdtemp(prefix="powersell-bench-redaction-"))
    broker = ScratchBroker(settings, workdir)
    try:
        _, body = privacy_vs_passthrough(broker.up(), workdir, args.events, args.rounds, os.cpu_count() or 1)
    finally:
        broker.down()
        shutil.rmtree(workdir, ignore_errors=True)
    return f"{E2E_HEADING}: the privacy worker and a bare faust passthrough\n\n{body}"


def cmd_bench_redaction(args, settings: Settings) -> int:
    if args.events < 2 or args.rate <= 0 or args.paced_seconds <= 0:
        raise BenchError("--events must be at least 2, --rate and --paced-seconds positive")
    started = time.monotonic()
    parts = []
    if args.only in (None, "detection"):
        parts.append(detection_part(args, *bench_detection(args.repeat)))
    if args.only in (None, "e2e"):
        parts.append(worker_e2e_part(settings, args))
    from powersell.benchmarks.report import REPORT, write_section

    if args.only == "detection":
        # the end-to-end figures of the last full run stay, marked as such
        import re
        text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
        found = re.search(r"^## Redaction\n.*?(?=^## |\Z)", text, re.S | re.M)
        earlier = previous_e2e_part(found.group(0)) if found else None
        if earlier:
            parts.append(earlier)
        command = f"powersell-pipeline bench redaction --only detection --repeat {args.repeat}"
    elif args.only == "e2e":
        print("\n\n".join(parts))
        _say("(--only e2e: BENCHMARKS.md left as it was)")
        _say(f"bench redaction took {time.monotonic() - started:.0f} s")
        return 0
    else:
        command = (f"powersell-pipeline bench redaction --events {args.events} --rounds {args.rounds} "
                   f"--repeat {args.repeat}")
    print(write_section("Redaction", command, "\n\n".join(parts)))
    _say(f"bench redaction took {time.monotonic() - started:.0f} s")
    return 0


def add_bench_commands(bench_sub) -> None:
    p = bench_sub.add_parser(
        "redaction", help="the detection engine against Presidio, the worker against a faust passthrough",
        description="1. The PII detection engine and Presidio's pattern recognizers on the labelled corpus "
                    "generated on unseen seeds (recall per kind, look-alikes kept, lines/s; the engine also on one "
                    "core, start-up included); presidio-analyzer comes with the bench extra "
                    "(pip install -e '.[bench]'). 2. The privacy worker (`worker redaction` itself, on a scratch broker) and a bare faust "
                    "passthrough on the same events, interleaved over --rounds rounds: median events/s, spread, load "
                    "average, the worker's share of the passthrough. Prints the tables and writes them to BENCHMARKS.md.")
    p.add_argument("--events", type=int, default=20_000, help="backlog events per process (default 20000)")
    p.add_argument("--rate", type=float, default=200.0,
                   help="offered events/s in the latency phase (default 200, below both processes' capacity)")
    p.add_argument("--paced-seconds", type=float, default=10.0, help="length of the latency phase (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of worker and passthrough (default 3)")
    p.add_argument("--repeat", type=int, default=3, help="timed passes over the corpus, best kept (default 3)")
    p.add_argument("--only", choices=["detection", "e2e"], default=None,
                   help="run one part; detection also replaces its part in BENCHMARKS.md (the last end-to-end "
                        "figures stay, marked with their run), e2e only prints")
    p.set_defaults(func=cmd_bench_redaction)
