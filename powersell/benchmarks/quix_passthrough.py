"""A Quix Streams passthrough, the peer a team choosing a Python stream library would compare us
with: a StreamingDataFrame that copies every record of one topic to another unchanged (bytes in,
bytes out, at-least-once, acks=all), in its own process, measured as powersell.benchmarks.workers
measures the faust passthrough.

Quix Streams is optional (the `bench` extra: `pip install -e .[bench]`); without it the bench says
so in one line and goes on. It is never installed at run time.

    python -m powersell.benchmarks.quix_passthrough --group G --source TOPIC --sink TOPIC
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
QUIX_OUTPUT = "bench.quix.orders"
MISSING = ("Quix Streams passthrough: skipped, quixstreams is not installed (optional: "
           "`pip install -e .[bench]`)")


def available() -> bool:
    return importlib.util.find_spec("quixstreams") is not None


def connection_config(settings: Settings):
    """The broker and security of kafka_client_config, in librdkafka's terms."""
    from quixstreams.kafka.configuration import ConnectionConfig

    c = kafka_client_config(settings)
    fields = {"bootstrap_servers": c["bootstrap_servers"], "security_protocol": c["security_protocol"].lower()}
    if c.get("sasl_mechanism"):
        fields.update(sasl_mechanism=c["sasl_mechanism"], sasl_username=c["sasl_plain_username"],
                      sasl_password=c["sasl_plain_password"])
    if c.get("ssl_cafile"):
        fields["ssl_ca_location"] = c["ssl_cafile"]
    return ConnectionConfig(**fields)


def quix_main(argv: Sequence[str]) -> int:
    from quixstreams import Application

    parser = argparse.ArgumentParser(prog="python -m powersell.benchmarks.quix_passthrough")
    parser.add_argument("--group", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sink", required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    app = Application(broker_address=connection_config(settings), consumer_group=args.group,
                      auto_offset_reset="earliest", auto_create_topics=False, processing_guarantee="at-least-once",
                      producer_extra_config={"acks": "all"}, state_dir=str(Path(os.environ.get(
                          "POWERSELL_DATA_DIR", ".")) / "quix-state"))
    source = app.topic(args.source, key_deserializer="bytes", value_deserializer="bytes")
    sink = app.topic(args.sink, key_serializer="bytes", value_serializer="bytes")
    # stamped when copied (Quix keeps the input's timestamp by default), as the faust producer stamps at send
    app.dataframe(source).set_timestamp(lambda value, key, ts, headers: int(time.time() * 1000)).to_topic(sink)
    app.run()  # until SIGTERM (Quix stops gracefully, flushing and committing)
    return 0


def run_quix(kafka, backlog, paced, rate: float, workdir: Path):
    """The Quix passthrough on the bench topics: drain the backlog, then the paced events; same steps and
    figures as powersell.benchmarks.workers.run_app gives the faust passthrough."""
    from powersell.benchmarks.workers import RAW, _stop, _wait_for, cpu_seconds, measure, peak_rss_kib

    kafka.recreate([RAW, QUIX_OUTPUT])
    kafka.preload(backlog)
    group = f"bench-quix-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    kafka.app_ids.append(group)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
           "POWERSELL_BOOTSTRAP_SERVERS": kafka.settings.bootstrap_servers, "POWERSELL_DATA_DIR": str(workdir / group),
           **principal_env(kafka.settings, OPERATOR)}
    log = workdir / f"{group}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "powersell.benchmarks.quix_passthrough", "--group", group,
                                 "--source", RAW, "--sink", QUIX_OUTPUT],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(REPO))
    try:
        print(f"[baselines] Quix Streams passthrough (pid {proc.pid}): draining {len(backlog)} events...",
              file=sys.stderr, flush=True)
        t0, cpu0 = _wait_for(kafka, proc, log, QUIX_OUTPUT, len(backlog))
        t1, cpu1 = time.monotonic(), cpu_seconds(proc.pid)
        cpu_share = (cpu1 - cpu0) / (t1 - t0) if cpu0 is not None and cpu1 is not None and t1 > t0 + 1 else None
        raw_ts = kafka.paced(paced, rate) if paced else []
        _wait_for(kafka, proc, log, QUIX_OUTPUT, len(backlog) + len(paced))
        rss = peak_rss_kib(proc.pid)
    finally:
        _stop(proc)
    records = kafka.read_all(QUIX_OUTPUT, len(backlog) + len(paced))
    run = measure("passthrough", records, backlog, paced, raw_ts, rate, rss)  # copies bytes unchanged
    run.app, run.cpu_share = "quix", cpu_share
    return run


if __name__ == "__main__":
    sys.exit(quix_main(sys.argv[1:]))
