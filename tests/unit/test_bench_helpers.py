"""The pure helpers of `powersell-pipeline bench redaction` (powersell/benchmarks/workers.py): no Kafka,
no Presidio (its results are stood in for by plain objects)."""

from __future__ import annotations

import sys
from collections import Counter
from types import SimpleNamespace

import pytest

from powersell.benchmarks import workers as bench
from streams.detectors import KINDS, Finding
from powersell.benchmarks.pii_corpus import Report


# ---------------------------------------------------------------- percentiles and rates
def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert bench.percentile(values, 50) == 50
    assert bench.percentile(values, 99) == 99
    assert bench.percentile(values, 100) == 100
    assert bench.percentile(values, 0.5) == 1


def test_percentile_ignores_order_and_handles_one_value():
    assert bench.percentile([30, 10, 20], 50) == 20
    assert bench.percentile([7], 99) == 7
    assert bench.percentile([5, 1, 1000, 2, 3, 4, 6, 7, 8, 9], 99) == 1000  # the tail is not averaged away


@pytest.mark.parametrize("p", [0, -1, 101])
def test_percentile_rejects_out_of_range(p):
    with pytest.raises(ValueError):
        bench.percentile([1, 2, 3], p)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        bench.percentile([], 50)


def test_events_per_second_counts_intervals_over_the_span():
    assert bench.events_per_second([1000, 1500, 2000]) == pytest.approx(2.0)   # 2 intervals in 1 s
    assert bench.events_per_second([2000, 1000, 1250, 1500, 1750]) == pytest.approx(4.0)
    assert bench.events_per_second([1000]) == 0.0
    assert bench.events_per_second([]) == 0.0
    assert bench.events_per_second([1000, 1000]) == float("inf")


# ---------------------------------------------------------------- /proc parsing
STATUS = """Name:\tpython
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t  812344 kB
VmSize:\t  745672 kB
VmHWM:\t   91236 kB
VmRSS:\t   88012 kB
Threads:\t3
"""


def test_vmhwm_is_read_in_kib():
    assert bench.parse_vmhwm(STATUS) == 91236


def test_vmhwm_missing_or_malformed_is_none():
    assert bench.parse_vmhwm("Name:\tpython\nVmRSS:\t 1 kB\n") is None
    assert bench.parse_vmhwm("VmHWM:\t  lots kB\n") is None
    assert bench.parse_vmhwm("") is None


def test_vmhwm_of_this_process_is_positive():
    if not sys.platform.startswith("linux"):
        pytest.skip("/proc is Linux only")
    import os
    assert bench.peak_rss_kib(os.getpid()) > 1000


def test_cpu_seconds_from_proc_stat_survive_odd_process_names():
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    stat = "4242 (faust) worker) R 1 4242 4242 0 -1 4194304 98 0 0 0 250 50 0 0 20 0 1 0 590047"
    assert bench.parse_cpu_seconds(stat, ticks_per_second=100) == pytest.approx(3.0)


def test_machine_busy_from_proc_stat_leaves_out_idle_and_iowait():
    # cpu user nice system idle iowait irq softirq steal guest guest_nice (ticks)
    stat = "cpu  300 10 90 500 100 0 0 0 0 0\ncpu0 150 5 45 250 50 0 0 0 0 0\n"
    assert bench.parse_machine_busy(stat, ticks_per_second=100) == pytest.approx((4.0, 10.0))


# ---------------------------------------------------------------- Presidio entities -> kinds
def test_presidio_entities_map_to_our_kinds():
    assert bench.presidio_kind("EMAIL_ADDRESS") == "EMAIL"
    assert bench.presidio_kind("PHONE_NUMBER") == "PHONE"
    assert bench.presidio_kind("CREDIT_CARD") == "CARD"
    assert bench.presidio_kind("IP_ADDRESS") == "IP_ADDRESS"
    assert bench.presidio_kind("URL") == "URL"
    assert bench.presidio_kind("TH_TNIN") == "TH_NATIONAL_ID"
    assert bench.presidio_kind("US_BANK_NUMBER") == "BANK_ACCOUNT"
    assert bench.presidio_kind("PERSON") is None
    assert bench.presidio_kind("IBAN_CODE") is None


def test_every_mapped_kind_is_a_kind_of_the_engine():
    assert set(bench.PRESIDIO_KINDS.values()) <= set(KINDS)
    assert {k: bench.PRESIDIO_ENTITY[k] for k in bench.PRESIDIO_KINDS.values()} == \
        {v: e for e, v in bench.PRESIDIO_KINDS.items()}


def test_presidio_results_become_findings_in_text_order_without_unmapped_entities():
    results = [SimpleNamespace(entity_type="URL", start=20, end=40, score=0.5),
               SimpleNamespace(entity_type="PERSON", start=0, end=5, score=0.85),
               SimpleNamespace(entity_type="PHONE_NUMBER", start=8, end=18, score=0.4)]
    assert bench.presidio_findings(results) == [Finding("PHONE", 8, 18), Finding("URL", 20, 40)]
    assert bench.presidio_findings([]) == []


# ---------------------------------------------------------------- tables
def _report(found: dict[str, int], total: dict[str, int], kept: int = 95, lookalikes: int = 100,
            lines: int = 1000, seconds: float = 0.1) -> Report:
    return Report(lines, seconds, Counter(total), Counter(found), Counter(found),
                  Counter({"sku": lookalikes}), Counter({"sku": kept}))


TOTAL = {"PHONE": 100, "EMAIL": 50, "VN_CITIZEN_ID": 50}


def test_overall_recall_over_all_or_some_kinds():
    r = _report({"PHONE": 90, "EMAIL": 50, "VN_CITIZEN_ID": 10}, TOTAL)
    assert bench.overall_recall(r) == pytest.approx(150 / 200)
    assert bench.overall_recall(r, ["PHONE", "EMAIL"]) == pytest.approx(140 / 150)
    assert bench.overall_recall(r, []) == 1.0


def test_detection_tables_show_each_kind_and_say_where_presidio_has_no_recognizer():
    engine = _report({"PHONE": 99, "EMAIL": 50, "VN_CITIZEN_ID": 49}, TOTAL, kept=100, seconds=0.05)
    presidio = _report({"PHONE": 60, "EMAIL": 45}, TOTAL, kept=80, seconds=5.0)
    text = bench.detection_tables(engine, presidio, presidio_kept_without_bank=0.9)
    lines = text.splitlines()
    assert lines[0].startswith("| detector | lines/s | recall, all kinds | recall, the 2 kinds Presidio covers |")
    assert "| engine (streams.detectors) | 20,000 | 0.990 | 0.993 | 1.0000 (100/100) |" in lines
    assert "| Presidio pattern recognizers | 200 | 0.525 | 0.700 | 0.8000 (80/100) |" in lines
    assert "| PHONE | 100 | 0.990 | 0.600 | PHONE_NUMBER |" in lines
    assert "| EMAIL | 50 | 1.000 | 0.900 | EMAIL_ADDRESS |" in lines
    assert "| VN_CITIZEN_ID | 50 | 0.980 | 0 (no recognizer) | none |" in lines
    assert "keeps 0.9000 of the look-alikes" in text


def _run(app: str, eps: float, latencies=(5, 10, 200), rss: int | None = 81920) -> bench.AppRun:
    return bench.AppRun(app, 20000, eps, len(latencies), 200.0, list(latencies), rss, cpu_share=0.97)


def test_e2e_table_rows():
    text = bench.e2e_table([_run("passthrough", 1300.4), _run("redaction", 455.0, latencies=(), rss=None)])
    lines = text.splitlines()
    assert lines[0] == ("| process | backlog events | events/s | CPU while draining | paced events | p50 latency ms "
                        "| p99 latency ms | peak RSS MiB |")
    assert lines[2] == "| faust passthrough | 20000 | 1,300 | 97% | 3 | 10 | 200 | 80 |"
    assert lines[3] == "| redaction worker | 20000 | 455 | 97% | 0 | n/a | n/a | n/a |"


def test_targets_say_met_or_by_how_much_missed():
    engine = _report({"PHONE": 99, "EMAIL": 50, "VN_CITIZEN_ID": 49}, TOTAL, seconds=0.05)
    presidio = _report({"PHONE": 60, "EMAIL": 45}, TOTAL, seconds=5.0)
    lines = bench.target_lines(engine, presidio, [_run("passthrough", 1000.0), _run("redaction", 400.0)])
    assert lines[0] == "- Engine >= 20x Presidio's lines/s: 100.0x, met."
    assert lines[1].endswith("met.") and "0.990 vs 0.525" in lines[1]
    assert lines[2] == "- Worker >= 70% of the passthrough's events/s: 40%, missed by 30 points."
    slow = _report({"PHONE": 99, "EMAIL": 50, "VN_CITIZEN_ID": 49}, TOTAL, seconds=0.5)
    assert bench.target_lines(slow, presidio)[0] == "- Engine >= 20x Presidio's lines/s: 10.0x, missed by 10.0x."
    assert bench.target_lines(runs=[_run("passthrough", 1000.0), _run("redaction", 750.0)]) == \
        ["- Worker >= 70% of the passthrough's events/s: 75%, met."]


# ---------------------------------------------------------------- matching outputs to events
def test_measure_matches_passthrough_outputs_by_bytes():
    backlog = [bench.BenchEvent(b"k", f"v{i}".encode(), f"e{i}") for i in range(3)]
    paced = [bench.BenchEvent(b"k", f"p{i}".encode(), f"q{i}") for i in range(2)]
    records = [(1000, b"v0"), (1500, b"v1"), (2000, b"v2"), (5010, b"p0"), (6030, b"p1"), (6031, b"p1")]
    run = bench.measure("passthrough", records, backlog, paced, [5000, 6000], 200.0, 1024)
    assert run.events_per_second == pytest.approx(2.0)
    assert sorted(run.latencies_ms) == [10, 30]
    assert (run.missing, run.duplicates, run.peak_rss_kib) == (0, 1, 1024)


def test_bench_topics_are_not_the_pipelines():
    from pipeline_core.topics import CATALOG
    assert not {bench.RAW, bench.REDACTED, bench.PASSTHROUGH} & {t.name for t in CATALOG}


def test_passthrough_app_has_the_workers_faust_settings(tmp_path):
    """The baseline differs from the worker only by its agent."""
    from pipeline_core.settings import Settings
    from streams.app import build_app
    from powersell.benchmarks.passthrough import build_passthrough_app

    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)})
    from types import SimpleNamespace

    from streams.consent import ConsentBook
    worker = build_app(settings, stage=SimpleNamespace(consent=ConsentBook(), audiences=None), app_id="same-id")
    passthrough = build_passthrough_app(settings, app_id="same-id")
    names = ["broker", "broker_client_id", "datadir", "store", "web_enabled", "topic_partitions", "topic_allow_declare",
             "consumer_auto_offset_reset", "producer_acks", "key_serializer", "value_serializer", "producer_linger",
             "stream_buffer_maxsize", "broker_commit_every", "broker_commit_interval"]
    assert {n: getattr(passthrough.conf, n) for n in names} == {n: getattr(worker.conf, n) for n in names}
