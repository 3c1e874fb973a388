"""The broker's own limit: Kafka's producer and consumer performance tools, 1 KiB records.

Why: every other benchmark's events/s means something only next to what the broker itself
does on this machine. The tools (org.apache.kafka.tools.ProducerPerformance and
ConsumerPerformance, the classes behind kafka-producer-perf-test.sh and
kafka-consumer-perf-test.sh) live in the `org.apache.kafka:kafka-tools` artifact, which the
broker does not need. So only that one jar is resolved, beside the broker's cached jars, and
the tools run on the broker's classpath plus it: the same Kafka version, the same client.

The run produces N records onto a scratch topic it creates (partitions as the data topics),
consumes them back, then deletes the topic and the consumer group. Both tools' output is
parsed into figures; the parsing is pure and unit-tested on captured output.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline_core.errors import BrokerError
from pipeline_core.kafka_broker import LocalKafka, _run, _tail, broker_answers, check_tools, maven_resolve
from pipeline_core.security import java_client_properties, kafka_client_config, write_private
from pipeline_core.settings import Settings
from pipeline_core.topics import DATA_PARTITIONS

PRODUCER_TOOL = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER_TOOL = "org.apache.kafka.tools.ConsumerPerformance"
RECORD_SIZE = 1024
DEFAULT_RECORDS = 200_000
# Flat out, the producer's latency is mostly time queued in its own buffer. A second, paced run
# at the fixed rate shows the broker's acknowledgement latency itself.
PACED_RATE = 1_000
PACED_RECORDS = 10_000
TOPIC_PREFIX = "powersell-perf-"
# The tools' own log lines (client config dumps, warnings) go to stderr; their figures to stdout.
_TOOLS_LOG4J2 = """status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
"""


class PerfOutputError(BrokerError):
    """A performance tool's output did not hold the figures we expected."""


@dataclass(frozen=True)
class ProducerFigures:
    records: int
    records_per_s: float
    mib_per_s: float        # the tool's "MB" is 2**20 bytes
    avg_latency_ms: float   # send() until the broker's acknowledgement (acks=all)
    max_latency_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float


@dataclass(frozen=True)
class ConsumerFigures:
    records: int
    mib: float
    records_per_s: float    # over the whole run, joining the group included
    mib_per_s: float
    fetch_records_per_s: float  # over fetching alone (the run less the group rebalance)
    fetch_mib_per_s: float
    rebalance_ms: float
    fetch_ms: float


@dataclass(frozen=True)
class BrokerLimit:
    producer: ProducerFigures
    consumer: ConsumerFigures
    paced: ProducerFigures | None  # the producer at paced_rate records/s
    paced_rate: int
    record_size: int
    partitions: int
    kafka_version: str


# ---------------------------------------------------------------- parsing (pure)
_NUM = r"(\d+(?:\.\d+)?)"
_PRODUCER_SUMMARY = re.compile(
    rf"^(\d+) records sent, {_NUM} records/sec \({_NUM} MB/sec\), {_NUM} ms avg latency, {_NUM} ms max latency, "
    rf"{_NUM} ms 50th, {_NUM} ms 95th, {_NUM} ms 99th, {_NUM} ms 99\.9th\.?\s*$", re.M)


def parse_producer_output(text: str) -> ProducerFigures:
    """The tool's closing line (the one with percentiles; the periodic lines have none)."""
    found = _PRODUCER_SUMMARY.findall(text)
    if not found:
        raise PerfOutputError("the producer performance tool printed no summary line; last lines:\n" + _tail(text, 5))
    records, *figures = found[-1]
    return ProducerFigures(int(records), *(float(f) for f in figures))


_CONSUMER_COLUMNS = {  # the tool's CSV header name -> our field
    "data.consumed.in.nMsg": "records", "data.consumed.in.MB": "mib", "nMsg.sec": "records_per_s",
    "MB.sec": "mib_per_s", "fetch.nMsg.sec": "fetch_records_per_s", "fetch.MB.sec": "fetch_mib_per_s",
    "rebalance.time.ms": "rebalance_ms", "fetch.time.ms": "fetch_ms",
}


def parse_consumer_output(text: str) -> ConsumerFigures:
    """The tool prints a CSV header starting with `start.time` and, on the next line, the figures."""
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines[:-1]):
        if not line.startswith("start.time,"):
            continue
        header = [h.strip() for h in line.split(",")]
        values = [v.strip() for v in lines[number + 1].split(",")]
        row = dict(zip(header, values))
        missing = [name for name in _CONSUMER_COLUMNS if name not in row]
        if len(values) != len(header) or missing:
            break
        try:
            fields = {ours: float(row[theirs]) for theirs, ours in _CONSUMER_COLUMNS.items()}
        except ValueError:
            break
        fields["records"] = int(fields["records"])
        return ConsumerFigures(**fields)
    raise PerfOutputError("the consumer performance tool printed no figures line; last lines:\n" + _tail(text, 5))


# ---------------------------------------------------------------- the tools' classpath
def tools_jar(settings: Settings) -> Path:
    return settings.cache_dir / f"kafka-{settings.kafka_version}" / "tools" / f"kafka-tools-{settings.kafka_version}.jar"


def ensure_tools_jar(settings: Settings, progress: Callable[[str], None] = lambda msg: None) -> Path:
    """Resolve org.apache.kafka:kafka-tools (that jar alone: its dependencies are the broker's) once."""
    jar = tools_jar(settings)
    if jar.is_file():
        return jar
    version = settings.kafka_version
    progress(f"resolving kafka-tools {version} from Maven Central (first run only)...")
    maven_resolve(lambda work: ["dependency:copy", f"-Dartifact=org.apache.kafka:kafka-tools:{version}"],
                  jar.parent, jar.name, 600, f"kafka-tools {version}")
    return jar


def tool_command(lib_dir: Path, jar: Path, log4j: Path, tool: str, *args: str) -> list[str]:
    return ["java", "-Xmx512m", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{lib_dir}/*:{jar}", tool, *args]


def producer_args(bootstrap: str, topic: str, records: int, record_size: int, rate: int = -1,
                  client_config: Path | None = None) -> list[str]:
    # Client defaults otherwise: Kafka 4's producer is idempotent with acks=all, like the pipeline's.
    # Security settings come in a 0600 file (client_config), never on the command line.
    return ["--topic", topic, "--num-records", str(records), "--record-size", str(record_size),
            "--throughput", str(rate), *(["--producer.config", str(client_config)] if client_config else []),
            "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "client.id=powersell-perf-producer"]


def consumer_args(bootstrap: str, topic: str, records: int, group: str, client_config: Path | None = None) -> list[str]:
    return ["--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(records), "--group", group,
            "--timeout", "30000", *(["--consumer.config", str(client_config)] if client_config else [])]


# ---------------------------------------------------------------- the run
def measure_broker_limit(settings: Settings, records: int = DEFAULT_RECORDS, record_size: int = RECORD_SIZE,
                         partitions: int = DATA_PARTITIONS, paced_records: int = PACED_RECORDS,
                         paced_rate: int = PACED_RATE, timeout: float = 900.0,
                         progress: Callable[[str], None] = lambda msg: None) -> BrokerLimit:
    """Produce `records` records of `record_size` bytes flat out to a scratch topic, consume them
    back, then (unless paced_records is 0) produce paced_records more at paced_rate records/s, and
    return the tools' figures. The broker at POWERSELL_BOOTSTRAP_SERVERS must answer."""
    if records <= 0 or record_size <= 0 or paced_records < 0 or paced_rate <= 0:
        raise ValueError("records, record_size and paced_rate must be positive, paced_records not negative")
    bootstrap = settings.bootstrap_servers
    if not broker_answers(bootstrap, client_config=kafka_client_config(settings)):
        raise BrokerError(f"no Kafka broker answers on {bootstrap}; start it with `powersell-pipeline kafka up`")
    broker = LocalKafka(settings, progress=progress)
    check_tools(need_maven=not (broker.jars_cached() and tools_jar(settings).is_file()))
    lib_dir, jar = broker.ensure_jars(), ensure_tools_jar(settings, progress)

    from pipeline_core.kafka_io import admin_client  # kafka-python only when a run really happens

    topic, group = f"{TOPIC_PREFIX}{uuid.uuid4().hex[:12]}", f"{TOPIC_PREFIX}group-{uuid.uuid4().hex[:12]}"
    admin = admin_client(settings)
    with tempfile.TemporaryDirectory(prefix="powersell-perf-") as scratch:
        log4j = Path(scratch) / "log4j2.properties"
        log4j.write_text(_TOOLS_LOG4J2)
        client_config = Path(scratch) / "client.properties"  # 0600; the folder is removed with it
        write_private(client_config, java_client_properties(settings))
        try:
            admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}},
                                timeout_ms=30000, wait_for_metadata=True)
            progress(f"producing {records:,} records of {record_size} bytes to {topic}...")
            produced = _run_tool(tool_command(lib_dir, jar, log4j, PRODUCER_TOOL,
                                              *producer_args(bootstrap, topic, records, record_size,
                                                             client_config=client_config)),
                                 timeout, "producer")
            progress(f"consuming them back from {topic}...")
            consumed = _run_tool(tool_command(lib_dir, jar, log4j, CONSUMER_TOOL,
                                              *consumer_args(bootstrap, topic, records, group, client_config)),
                                 timeout, "consumer")
            paced = None
            if paced_records:
                progress(f"producing {paced_records:,} more at {paced_rate:,} records/s for the latency...")
                paced = parse_producer_output(_run_tool(tool_command(
                    lib_dir, jar, log4j, PRODUCER_TOOL,
                    *producer_args(bootstrap, topic, paced_records, record_size, paced_rate, client_config)),
                    timeout, "producer"))
        finally:
            with suppress(Exception):  # a scratch topic left behind is named for what it is
                admin.delete_topics([topic], timeout_ms=30000)
            with suppress(Exception):
                admin.delete_groups([group])
            admin.close()
    producer, consumer = parse_producer_output(produced), parse_consumer_output(consumed)
    if producer.records != records or consumer.records != records or (paced and paced.records != paced_records):
        raise PerfOutputError(f"asked for {records} (+{paced_records} paced) records; the producer sent "
                              f"{producer.records} (+{paced.records if paced else 0}), the consumer read {consumer.records}")
    return BrokerLimit(producer, consumer, paced, paced_rate, record_size, partitions, settings.kafka_version)


def _run_tool(cmd: list[str], timeout: float, which: str) -> str:
    out = _run(cmd, timeout, f"run Kafka's {which} performance tool")
    if out.returncode != 0:
        raise BrokerError(f"Kafka's {which} performance tool failed (exit {out.returncode}):\n"
                          + _tail(out.stdout + out.stderr, 15))
    return out.stdout


# ---------------------------------------------------------------- report
def markdown_body(limit: BrokerLimit) -> str:
    """The figures as a BENCHMARKS.md section body."""
    from powersell.benchmarks.report import table

    p, c = limit.producer, limit.consumer
    def latency(f: ProducerFigures) -> str:
        return f"avg {f.avg_latency_ms:.0f} / p50 {f.p50_ms:.0f} / p99 {f.p99_ms:.0f} / max {f.max_latency_ms:.0f}"

    rows = [
        ["producer flat out (acks=all)", f"{p.records:,}", f"{p.records_per_s:,.0f}", f"{p.mib_per_s:.1f}", latency(p)],
        ["consumer (whole run)", f"{c.records:,}", f"{c.records_per_s:,.0f}", f"{c.mib_per_s:.1f}",
         f"group join {c.rebalance_ms:.0f}"],
        ["consumer (fetching)", f"{c.records:,}", f"{c.fetch_records_per_s:,.0f}", f"{c.fetch_mib_per_s:.1f}", ""],
    ]
    if limit.paced is not None:
        q = limit.paced
        rows.append([f"producer at {limit.paced_rate:,}/s (acks=all)", f"{q.records:,}", f"{q.records_per_s:,.0f}",
                     f"{q.mib_per_s:.1f}", latency(q)])
    body = table(["tool", "records", "records/s", "MiB/s", "latency ms"], rows)
    return body + (
        f"\n\nKafka {limit.kafka_version}'s own ProducerPerformance and ConsumerPerformance (kafka-tools) against "
        f"the local broker, {limit.record_size}-byte records on a scratch topic of {limit.partitions} partitions, "
        "created and deleted by the run. Producer latency is send() to the broker's acknowledgement: flat out it "
        "is mostly time queued in the producer's own buffer, so the paced run shows the broker's latency. The "
        "consumer's whole-run rate includes joining its group.")


# ---------------------------------------------------------------- command line
def cmd_bench_broker(args, settings: Settings) -> int:
    import sys

    from powersell.benchmarks.report import write_section

    limit = measure_broker_limit(settings, records=args.records,
                                 progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(write_section("Broker", f"powersell-pipeline bench broker --records {args.records}", markdown_body(limit)))
    return 0


def add_bench_commands(bench_sub) -> None:
    p = bench_sub.add_parser("broker", help="the broker's own limit: Kafka's producer and consumer perf tools",
                             description="Run Kafka's ProducerPerformance and ConsumerPerformance (from the same "
                                         "Kafka version as the broker) with 1 KiB records on a scratch topic, "
                                         "then delete it; prints records/s, MiB/s and latencies and writes them "
                                         "to BENCHMARKS.md.")
    p.add_argument("--records", type=int, default=DEFAULT_RECORDS, help=f"records to produce (default {DEFAULT_RECORDS:,})")
    p.set_defaults(func=cmd_bench_broker)
