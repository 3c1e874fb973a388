"""The bare kafka-python baseline of `bench all`: consume a topic and produce every record
unchanged to another, nothing else (acks=all, the group's offsets auto-committed), in its
own process, measured exactly as powersell.benchmarks.workers measures the faust passthrough.

    python -m powersell.benchmarks.loop --group G --source TOPIC --sink TOPIC   (used by the bench)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LOOP_OUTPUT = "bench.loop.orders"


def loop_main(argv: Sequence[str]) -> int:
    from kafka import KafkaConsumer, KafkaProducer

    parser = argparse.ArgumentParser(prog="python -m powersell.benchmarks.loop")
    parser.add_argument("--group", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sink", required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    # Partitions assigned, not subscribed: no group join to wait for (a join stalled once on a loaded machine);
    # offsets are still committed to the group, as a worker's are.
    consumer = KafkaConsumer(**kafka_client_config(settings, group_id=args.group, client_id=args.group,
                                                   auto_offset_reset="earliest", enable_auto_commit=True))
    deadline = time.monotonic() + 60
    while not (partitions := consumer.partitions_for_topic(args.source)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not partitions:
        print(f"loop: {args.source} has no partitions", file=sys.stderr, flush=True)
        return 1
    from kafka import TopicPartition
    consumer.assign([TopicPartition(args.source, p) for p in sorted(partitions)])
    print(f"loop: copying {args.source} ({len(partitions)} partitions) to {args.sink}", file=sys.stderr, flush=True)
    producer = KafkaProducer(**kafka_client_config(settings, client_id=args.group, acks="all"))
    try:
        while not stopping:
            for records in consumer.poll(timeout_ms=200).values():
                for r in records:
                    producer.send(args.sink, key=r.key, value=r.value)
        producer.flush(timeout=30)
    finally:
        consumer.close()
        producer.close(timeout=10)
    return 0


def run_loop(kafka, backlog, paced, rate: float, workdir: Path):
    """The loop in its own process on the bench topics of powersell.benchmarks.workers: drain the backlog, then
    the paced events. Same steps and figures as powersell.benchmarks.workers.run_app gives the faust passthrough."""
    from powersell.benchmarks.workers import RAW, _stop, _wait_for, cpu_seconds, measure, peak_rss_kib

    kafka.recreate([RAW, LOOP_OUTPUT])
    kafka.preload(backlog)
    group = f"bench-loop-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    kafka.app_ids.append(group)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
           "POWERSELL_BOOTSTRAP_SERVERS": kafka.settings.bootstrap_servers, **principal_env(kafka.settings, OPERATOR)}
    log = workdir / f"{group}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "powersell.benchmarks.loop", "--group", group,
                                 "--source", RAW, "--sink", LOOP_OUTPUT],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(REPO))
    try:
        print(f"[baselines] kafka-python loop (pid {proc.pid}): draining {len(backlog)} events...",
              file=sys.stderr, flush=True)
        t0, cpu0 = _wait_for(kafka, proc, log, LOOP_OUTPUT, len(backlog))
        t1, cpu1 = time.monotonic(), cpu_seconds(proc.pid)
        cpu_share = (cpu1 - cpu0) / (t1 - t0) if cpu0 is not None and cpu1 is not None and t1 > t0 + 1 else None
        print(f"[baselines] kafka-python loop: {len(paced)} more at {rate:,.0f} events/s...", file=sys.stderr, flush=True)
        raw_ts = kafka.paced(paced, rate)
        _wait_for(kafka, proc, log, LOOP_OUTPUT, len(backlog) + len(paced))
        rss = peak_rss_kib(proc.pid)
    finally:
        _stop(proc)
    records = kafka.read_all(LOOP_OUTPUT, len(backlog) + len(paced))
    run = measure("passthrough", records, backlog, paced, raw_ts, rate, rss)  # both copy bytes unchanged
    run.app, run.cpu_share = "loop", cpu_share
    return run


if __name__ == "__main__":
    sys.exit(loop_main(sys.argv[1:]))
