"""Parsing Kafka's performance tools and the run around them, without a broker or Java.

The outputs below were captured from Kafka 4.1.1's ProducerPerformance and
ConsumerPerformance against the local broker (200,000 records of 1 KiB, 4 partitions;
then 10,000 records paced at 1,000/s)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from powersell.benchmarks import broker as kafka_perf
from pipeline_core.errors import BrokerError
from powersell.benchmarks.broker import (BrokerLimit, ConsumerFigures, PerfOutputError, ProducerFigures,
                                      consumer_args, ensure_tools_jar, markdown_body, measure_broker_limit,
                                      parse_consumer_output, parse_producer_output, producer_args, tool_command,
                                      tools_jar)
from pipeline_core.settings import Settings

PRODUCER_FLAT_OUT = """\
9901 records sent, 1976.2 records/sec (1.93 MB/sec), 1507.3 ms avg latency, 2366.0 ms max latency.
68940 records sent, 13779.7 records/sec (13.46 MB/sec), 2536.5 ms avg latency, 4037.0 ms max latency.
200000 records sent, 14088.5 records/sec (13.76 MB/sec), 1627.53 ms avg latency, 4037.00 ms max latency, \
1272 ms 50th, 3658 ms 95th, 3863 ms 99th, 3990 ms 99.9th.
"""
PRODUCER_PACED = """\
5029 records sent, 1005.6 records/sec (0.98 MB/sec), 8.4 ms avg latency, 177.0 ms max latency.
4971 records sent, 993.0 records/sec (0.97 MB/sec), 29.7 ms avg latency, 878.0 ms max latency.
10000 records sent, 990.4 records/sec (0.97 MB/sec), 18.55 ms avg latency, 878.00 ms max latency, \
7 ms 50th, 106 ms 95th, 146 ms 99th, 183 ms 99.9th.
"""
CONSUMER = """\
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, \
fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-29 08:00:08:696, 2026-11-29 08:00:12:772, 195.3125, 47.9177, 200000, 49067.7134, 1744, 2332, 83.7532, \
85763.2933
"""
CONSUMER_HEADER = CONSUMER.splitlines()[0]


@pytest.mark.parametrize("text, expected", [
    (PRODUCER_FLAT_OUT, ProducerFigures(200_000, 14088.5, 13.76, 1627.53, 4037.0, 1272, 3658, 3863, 3990)),
    (PRODUCER_PACED, ProducerFigures(10_000, 990.4, 0.97, 18.55, 878.0, 7, 106, 146, 183)),
    ("[2026-11-29 08:00:01] WARN some client warning (org.apache.kafka)\n" + PRODUCER_PACED,
     ProducerFigures(10_000, 990.4, 0.97, 18.55, 878.0, 7, 106, 146, 183)),
], ids=["flat-out", "paced", "with-a-log-line"])
def test_when_the_producer_tool_finishes_then_its_closing_line_gives_the_figures(text, expected):
    assert parse_producer_output(text) == expected


@pytest.mark.parametrize("text", [
    "",
    PRODUCER_FLAT_OUT.splitlines()[0] + "\n" + PRODUCER_FLAT_OUT.splitlines()[1],  # periodic lines only
    "200000 records sent, 14088.5 records/sec (13.76 MB/sec), 1627.53 ms avg latency\n",    # cut short
], ids=["nothing", "no-summary", "truncated"])
def test_when_the_producer_tool_printed_no_summary_then_parsing_fails(text):
    with pytest.raises(PerfOutputError):
        parse_producer_output(text)


@pytest.mark.parametrize("text", [
    CONSUMER,
    "[2026-11-29 08:00:08] WARN a log line first (org.apache.kafka)\n" + CONSUMER,
], ids=["as-printed", "after-a-log-line"])
def test_when_the_consumer_tool_finishes_then_its_csv_gives_the_figures(text):
    assert parse_consumer_output(text) == ConsumerFigures(
        records=200_000, mib=195.3125, records_per_s=49067.7134, mib_per_s=47.9177,
        fetch_records_per_s=85763.2933, fetch_mib_per_s=83.7532, rebalance_ms=1744, fetch_ms=2332)


@pytest.mark.parametrize("text", [
    "",
    CONSUMER_HEADER + "\n",                                          # no figures line
    CONSUMER_HEADER + "\n2026-11-29 08:00:08:696, 2026-11-29 08:00:12:772, 195.3\n",  # too few columns
    CONSUMER.replace("nMsg.sec,", "records.sec,", 1),                # a column renamed
    CONSUMER.replace("47.9177", "NaN?"),                             # not a number
], ids=["nothing", "header-only", "short-row", "renamed-column", "not-a-number"])
def test_when_the_consumer_output_is_not_what_we_expect_then_parsing_fails(text):
    with pytest.raises(PerfOutputError):
        parse_consumer_output(text)


def test_the_tools_get_1_kib_records_acks_all_and_the_scratch_topic():
    produce = producer_args("127.0.0.1:9092", "powersell-perf-x", 200_000, 1024)
    assert produce[produce.index("--record-size") + 1] == "1024"
    assert produce[produce.index("--num-records") + 1] == "200000"
    assert produce[produce.index("--throughput") + 1] == "-1"           # flat out unless paced
    assert {"bootstrap.servers=127.0.0.1:9092", "acks=all"} <= set(produce)
    paced = producer_args("127.0.0.1:9092", "powersell-perf-x", 10_000, 1024, rate=1000)
    assert paced[paced.index("--throughput") + 1] == "1000"
    consume = consumer_args("127.0.0.1:9092", "powersell-perf-x", 200_000, "g")
    assert consume[consume.index("--messages") + 1] == "200000" and consume[consume.index("--topic") + 1] == "powersell-perf-x"


def test_the_tools_run_on_the_brokers_jars_plus_the_tools_jar(tmp_path):
    cmd = tool_command(tmp_path / "lib", tmp_path / "tools" / "kafka-tools-4.1.1.jar", tmp_path / "log4j2.properties",
                       kafka_perf.PRODUCER_TOOL, "--help")
    assert cmd[0] == "java" and cmd[cmd.index("-cp") + 1] == f"{tmp_path / 'lib'}/*:{tmp_path / 'tools' / 'kafka-tools-4.1.1.jar'}"
    assert cmd[-2:] == ["org.apache.kafka.tools.ProducerPerformance", "--help"]


# ---------------------------------------------------------------- resolving the tools jar
@pytest.fixture
def settings(tmp_path):
    return Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path / "data"), "POWERSELL_CACHE_DIR": str(tmp_path / "cache")})


class FakeCompleted:
    def __init__(self, returncode: int, stdout: str = "", stderr: str = ""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def test_when_maven_copies_the_jar_then_it_lands_in_the_cache_and_is_reused(settings, monkeypatch):
    calls = []

    def fake_maven(cmd, timeout, what):
        calls.append(cmd)
        out_dir = Path(next(a for a in cmd if a.startswith("-DoutputDirectory=")).split("=", 1)[1])
        out_dir.mkdir(parents=True)
        (out_dir / f"kafka-tools-{settings.kafka_version}.jar").write_bytes(b"PK")
        return FakeCompleted(0)

    monkeypatch.setattr("pipeline_core.kafka_broker._run", fake_maven)
    assert ensure_tools_jar(settings) == tools_jar(settings) and tools_jar(settings).is_file()
    assert f"-Dartifact=org.apache.kafka:kafka-tools:{settings.kafka_version}" in calls[0]
    ensure_tools_jar(settings)
    assert len(calls) == 1
    assert [p.name for p in tools_jar(settings).parent.parent.iterdir()] == ["tools"]  # no partial folder left


def test_when_maven_fails_then_the_error_says_so_and_nothing_is_cached(settings, monkeypatch):
    monkeypatch.setattr("pipeline_core.kafka_broker._run", lambda cmd, timeout, what: FakeCompleted(1, "", "Could not resolve"))
    with pytest.raises(BrokerError, match="could not resolve kafka-tools"):
        ensure_tools_jar(settings)
    assert not tools_jar(settings).exists() and list(tools_jar(settings).parent.parent.iterdir()) == []


# ---------------------------------------------------------------- the run, with the tools faked
class FakeAdmin:
    def __init__(self):
        self.created, self.deleted, self.groups_deleted, self.closed = [], [], [], False

    def create_topics(self, topics, **kw):
        self.created.append(topics)

    def delete_topics(self, names, **kw):
        self.deleted.extend(names)

    def delete_groups(self, groups):
        self.groups_deleted.extend(groups)

    def close(self):
        self.closed = True


@pytest.fixture
def fake_run(settings, monkeypatch):
    """Everything around the tools faked; returns (admin, tool calls, outputs by tool)."""
    admin, calls = FakeAdmin(), []
    outputs = {"producer": [PRODUCER_FLAT_OUT, PRODUCER_PACED], "consumer": [CONSUMER]}
    monkeypatch.setattr(kafka_perf, "broker_answers", lambda bootstrap, **kw: True)
    monkeypatch.setattr(kafka_perf, "check_tools", lambda need_maven: None)
    monkeypatch.setattr(kafka_perf.LocalKafka, "ensure_jars", lambda self: self.lib_dir)
    monkeypatch.setattr(kafka_perf, "ensure_tools_jar", lambda s, progress=None: tools_jar(s))
    monkeypatch.setattr("pipeline_core.kafka_io.admin_client", lambda s: admin)

    def fake_tool(cmd, timeout, which):
        calls.append(cmd)
        if isinstance(outputs[which], Exception):
            raise outputs[which]
        return outputs[which].pop(0)

    monkeypatch.setattr(kafka_perf, "_run_tool", fake_tool)
    return admin, calls, outputs


def test_when_the_tools_run_then_the_figures_come_back_and_the_scratch_topic_is_gone(settings, fake_run):
    admin, calls, _ = fake_run
    limit = measure_broker_limit(settings)
    assert isinstance(limit, BrokerLimit) and limit.producer.records == 200_000 and limit.consumer.records == 200_000
    assert limit.paced.p99_ms == 146 and limit.record_size == 1024 and limit.partitions == 4
    [created] = admin.created
    [topic] = created
    assert re.fullmatch(r"powersell-perf-[0-9a-f]{12}", topic) and created[topic]["num_partitions"] == 4
    assert admin.deleted == [topic] and len(admin.groups_deleted) == 1 and admin.closed
    assert [c[c.index("-cp") + 2] for c in calls] == [kafka_perf.PRODUCER_TOOL, kafka_perf.CONSUMER_TOOL,
                                                      kafka_perf.PRODUCER_TOOL]
    assert all(topic in c for c in calls)


def test_when_a_tool_fails_then_the_scratch_topic_is_deleted_all_the_same(settings, fake_run):
    admin, _, outputs = fake_run
    outputs["consumer"] = BrokerError("Kafka's consumer performance tool failed (exit 1)")
    with pytest.raises(BrokerError, match="consumer performance tool failed"):
        measure_broker_limit(settings)
    assert len(admin.created) == 1 and admin.deleted == list(admin.created[0]) and admin.closed


def test_when_fewer_records_came_back_than_asked_then_the_run_fails(settings, fake_run):
    with pytest.raises(PerfOutputError, match="asked for 300000"):
        measure_broker_limit(settings, records=300_000)


def test_when_no_broker_answers_then_nothing_is_started(settings, monkeypatch):
    monkeypatch.setattr(kafka_perf, "broker_answers", lambda bootstrap, **kw: False)
    monkeypatch.setattr(kafka_perf, "check_tools", lambda need_maven: pytest.fail("must not look for Java"))
    with pytest.raises(BrokerError, match="no Kafka broker answers"):
        measure_broker_limit(settings)


def test_the_report_shows_every_figure_with_its_setting(settings, fake_run):
    body = markdown_body(measure_broker_limit(settings))
    for figure in ("14,088", "13.8", "49,068", "85,763", "avg 1628 / p50 1272 / p99 3863 / max 4037",
                   "producer at 1,000/s", "p99 146", "1024-byte records", "4 partitions", "Kafka 4.1.1"):
        assert figure in body, figure
