"""The pure parts of `powersell-pipeline bench all`: figures, pacing, the event timeline and the report."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

import pytest

from powersell.benchmarks.suite import PARTS, command_line, pipeline_body, pipeline_targets, scaling_body
from powersell.benchmarks.figures import (HOUR_MS, Latency, PeakRss, StageRate, WindowLatencies, latency_summary,
                                         limit_verdict, metric_value, metrics_port, order_group, paced,
                                         parse_proc_status, restamp, share_verdict, stage_rate, window_latencies)
from powersell.benchmarks.pipeline import (EventSet, PipelineFigures, PipelineOptions, build_event_sets,
                                          last_error_line, warmup_events)

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


# ---------------------------------------------------------------- latency percentiles
@pytest.mark.parametrize("values, expected", [
    ([7], Latency(1, 7, 7, 7)),
    ([5, 1, 3, 2, 4], Latency(5, 3, 5, 5)),
    (list(range(1, 101)), Latency(100, 50, 99, 100)),
    (list(range(1, 201)), Latency(200, 100, 198, 200)),
    ([10] * 99 + [1000], Latency(100, 10, 10, 1000)),
])
def test_when_latencies_are_summarised_then_p50_p99_are_nearest_rank(values, expected):
    assert latency_summary(values) == expected


def test_when_there_are_no_latencies_then_there_is_no_summary():
    assert latency_summary([]) is None


# ---------------------------------------------------------------- RSS
STATUS = "Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n"


@pytest.mark.parametrize("text, expected", [
    (STATUS, {"VmHWM": 204800, "VmRSS": 102400}),
    ("VmHWM:\t 2 mB\n", {"VmHWM": 2048}),
    ("VmRSS:\t 1 gB\n", {"VmRSS": 1024 * 1024}),
    ("VmHWM:\t 77\n", {"VmHWM": 77}),
    ("Name:\tzombie\nState:\tZ (zombie)\n", {}),
    ("VmHWM:\t many kB\n", {}),
])
def test_when_proc_status_is_parsed_then_peak_and_current_rss_are_in_kib(text, expected):
    assert parse_proc_status(text) == expected


@pytest.mark.parametrize("statuses, psutil_bytes, expected_kib", [
    ([STATUS], [None], 204800),                                   # the kernel's peak wins when /proc has it
    ([None, None, None], [50 * 2**20, 80 * 2**20, 60 * 2**20], 80 * 1024),  # else the largest psutil sample
    (["Name:\tx\nVmRSS:\t 300 kB\n", "Name:\tx\nVmRSS:\t 100 kB\n"], [None, None], 300),
    ([None], [None], None),                                       # nothing known
])
def test_when_rss_is_sampled_then_the_peak_is_the_largest_known(statuses, psutil_bytes, expected_kib):
    samples = len(statuses)
    statuses, psutil_bytes = iter(statuses), iter(psutil_bytes)
    tracker = PeakRss(lambda pid: next(statuses), lambda pid: next(psutil_bytes))
    for _ in range(samples):
        tracker.sample(123)
    assert tracker.sampled_kib == expected_kib


# ---------------------------------------------------------------- pacing
class FakeClock:
    def __init__(self, work_per_item: float = 0.0):
        self.now, self.sleeps, self.work = 100.0, [], work_per_item

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("count, rate, work, expected_span, expected_sleeps", [
    (5, 10.0, 0.0, 0.4, 4),       # on time: item i at i/rate, sleeping before every item but the first
    (5, 10.0, 0.25, 1.0, 0),      # slower than the rate: late items go at once, no sleep
    (1, 1000.0, 0.0, 0.0, 0),
    (0, 5.0, 0.0, None, 0),
])
def test_when_items_are_paced_then_item_i_goes_no_earlier_than_i_over_rate(count, rate, work, expected_span,
                                                                          expected_sleeps):
    fake = FakeClock()
    start = fake.now
    sent = []
    for i in paced(count, rate, clock=fake.clock, sleep=fake.sleep):
        assert fake.now >= start + i / rate - 1e-9
        sent.append(fake.now)
        fake.now += work
    assert len(sent) == count
    assert len(fake.sleeps) == expected_sleeps
    if expected_span is not None:
        assert sent[-1] - sent[0] == pytest.approx(expected_span)


@pytest.mark.parametrize("rate", [0, -1.0])
def test_when_the_rate_is_not_positive_then_pacing_refuses(rate):
    with pytest.raises(ValueError):
        list(paced(3, rate, clock=lambda: 0.0, sleep=lambda s: None))


# ---------------------------------------------------------------- the event timeline
def _order(order_id: str, marketplace: str = "SHOPEE", country: str | None = "VN", currency: str = "VND") -> dict:
    return {"order_id": order_id, "marketplace": marketplace, "currency": currency, "event_id": "old",
            "recipient": {"address": {"country": country}}, "ingest_time": T0}


def test_when_records_are_restamped_then_times_step_and_event_ids_follow_the_new_version():
    records = [("k", _order(f"o{i}")) for i in range(4)]
    restamp(records, T0, timedelta(minutes=20))
    times = [r["create_time"] for _, r in records]
    assert times == [T0 + timedelta(minutes=20 * i) for i in range(4)]
    assert all(r["event_time"] == r["update_time"] == r["create_time"] == r["ingest_time"] for _, r in records)
    ids = [r["event_id"] for _, r in records]
    assert len(set(ids)) == 4 and "old" not in ids


@pytest.mark.parametrize("minutes, marketplace, country, currency, expected", [
    (0, "SHOPEE", "VN", "VND", (0, "SHOPEE", "VN")),
    (59, "LAZADA", "VN", "VND", (0, "LAZADA", "VN")),
    (60, "TIKTOK_SHOP", "TH", "THB", (HOUR_MS, "TIKTOK_SHOP", "TH")),
    (125, "TIKTOK_SHOP", None, "THB", (2 * HOUR_MS, "TIKTOK_SHOP", "TH")),   # no country: from the currency
])
def test_when_an_order_is_grouped_then_it_falls_in_its_hourly_country_total(minutes, marketplace, country, currency,
                                                                           expected):
    r = _order("o1", marketplace, country, currency)
    r["create_time"] = T0 + timedelta(minutes=minutes)
    start = int(T0.timestamp() * 1000)
    window, mp, c = order_group(r)
    assert (window - start, mp, c) == expected


def test_when_event_sets_are_built_then_phases_are_disjoint_in_time_and_paced_windows_hold_rate_times_seconds():
    options = PipelineOptions(events=120, rate=50.0, paced_seconds=3.0, window_seconds=1.0)
    sets, shops = build_event_sets(options, T0)
    assert [len(sets[k].events) for k in ("backlog1", "backlog3", "paced")] == [120, 120, 150]
    spans = {k: (min(g[0] for g in s.groups), max(g[0] for g in s.groups)) for k, s in sets.items()}
    order = ["warmup", "backlog1", "backlog3", "paced"]
    for earlier, later in zip(order, order[1:]):
        assert spans[earlier][1] < spans[later][0]
    per_window: dict[int, int] = {}
    for g in sets["paced"].groups:
        per_window[g[0]] = per_window.get(g[0], 0) + 1
    assert sorted(per_window.values()) == [50, 50, 50]
    assert all(0 <= p < 4 for s in sets.values() for p in s.partitions)
    assert shops and all(subject.split(":", 1)[0] == marketplace for subject, marketplace in shops)
    assert len({e.event_id for s in sets.values() for e in s.events}) == sum(len(s.events) for s in sets.values())


def test_when_warmups_are_chosen_then_each_partition_gets_one_and_too_few_partitions_fail():
    from powersell.benchmarks.workers import BenchError, BenchEvent

    events = [BenchEvent(b"k", bytes([i]), f"e{i}") for i in range(6)]
    chosen, parts = warmup_events(EventSet(events, [()] * 6, [2, 0, 2, 1, 3, 0]), 4)
    assert parts == [0, 1, 2, 3] and [e.event_id for e in chosen] == ["e1", "e3", "e0", "e4"]
    with pytest.raises(BenchError):
        warmup_events(EventSet(events[:2], [()] * 2, [0, 0]), 4)


# ---------------------------------------------------------------- window latency to the analytics topic
A, B = (0, "SHOPEE", "VN"), (HOUR_MS, "SHOPEE", "VN")


@pytest.mark.parametrize("events, aggregates, expected", [
    # the first record with the full count, minus the group's last publish
    ([(A, 100), (A, 300), (A, 200)], [(350, A, 2), (900, A, 3), (1200, A, 3)], WindowLatencies([600], 1, 0)),
    # a group whose count never completes is missing, not a latency
    ([(A, 100), (B, 150)], [(400, A, 1), (500, B, None)], WindowLatencies([300], 1, 1)),
    # records of windows the events do not have are ignored
    ([(A, 10)], [(20, (7, "LAZADA", "VN"), 1), (50, A, 1)], WindowLatencies([40], 1, 0)),
    ([], [(5, A, 1)], WindowLatencies([], 0, 0)),
    # out-of-order reads: the earliest full record counts
    ([(B, 0)], [(900, B, 1), (700, B, 1)], WindowLatencies([700], 1, 0)),
])
def test_when_windows_complete_then_latency_is_first_full_aggregate_minus_last_event(events, aggregates, expected):
    assert window_latencies(events, aggregates) == expected


# ---------------------------------------------------------------- stage rates
@pytest.mark.parametrize("samples, start, target, expected", [
    ([(0.0, 0), (1.0, 0), (2.0, 50), (3.0, 100), (4.0, 100)], 0, 100, StageRate(100, 2.0)),
    ([(0.0, 10), (5.0, 60)], 10, 60, StageRate(50, 5.0)),
    ([(1.0, 30), (3.0, 100)], 0, 100, StageRate(100, 2.0)),     # moved before the first sample
    ([(0.0, 0), (1.0, 40)], 0, 100, None),                       # never got there
    ([], 0, 10, None),
])
def test_when_a_counter_is_sampled_then_the_stage_rate_spans_start_to_target(samples, start, target, expected):
    assert stage_rate(samples, start, target) == expected


def test_when_a_stage_rate_has_no_duration_then_it_is_infinite_not_an_error():
    assert StageRate(5, 0.0).per_second == float("inf")
    assert StageRate(100, 4.0).per_second == 25.0


# ---------------------------------------------------------------- a worker's /metrics
METRICS = """# HELP powersell_processing_duration_seconds Time to process one record.
# TYPE powersell_processing_duration_seconds histogram
powersell_processing_duration_seconds_bucket{le="0.001",stage="aggregator"} 700.0
powersell_processing_duration_seconds_count{stage="aggregator"} 1234.0
powersell_processing_duration_seconds_count{stage="redactor"} 99.0
powersell_records_consumed_total{stage="aggregator",topic="redacted.orders"} 1000.0
powersell_records_consumed_total{stage="aggregator",topic="redacted.products"} 5.0
powersell_up 1
"""


@pytest.mark.parametrize("name, labels, expected", [
    ("powersell_processing_duration_seconds_count", {"stage": "aggregator"}, 1234.0),
    ("powersell_processing_duration_seconds_count", {"stage": "redactor"}, 99.0),
    ("powersell_records_consumed_total", {"stage": "aggregator"}, 1005.0),          # summed over topics
    ("powersell_records_consumed_total", {"topic": "redacted.products"}, 5.0),
    ("powersell_up", None, 1.0),
    ("powersell_processing_duration_seconds_count", {"stage": "nobody"}, None),
    ("powersell_missing_total", None, None),
])
def test_when_metrics_text_is_read_then_matching_samples_are_summed(name, labels, expected):
    assert metric_value(METRICS, name, labels) == expected


@pytest.mark.parametrize("log, expected", [
    ("noise\naggregation worker: metrics at http://127.0.0.1:40123/metrics\n", 40123),
    ("redaction worker: metrics at http://0.0.0.0:9400/metrics", 9400),
    ("starting...", None),
])
def test_when_a_worker_log_announces_metrics_then_the_port_is_found(log, expected):
    assert metrics_port(log) == expected


@pytest.mark.parametrize("text, expected", [
    ("privacy worker 1: nothing moved for 90 s (5 on redacted.orders, None aggregated)\n--- privacy worker 1:\n"
     "Traceback (most recent call last):\n  File \"x.py\", line 1\nAttributeError: 'X' has no attribute 'y'",
     "privacy worker 1: nothing moved for 90 s (5 on redacted.orders, None aggregated) "
     "(AttributeError: 'X' has no attribute 'y')"),
    ("the group g has 1 member(s)", "the group g has 1 member(s)"),
    ("", "no message"),
])
def test_when_a_phase_fails_then_the_note_keeps_the_first_line_and_the_exception(text, expected):
    assert last_error_line(text) == expected


# ---------------------------------------------------------------- verdicts and the report
@pytest.mark.parametrize("value, baseline, share, expected", [
    (900, 1000, 0.6, "90%, met"),
    (600, 1000, 0.6, "60%, met"),
    (410, 1000, 0.6, "41%, missed by 19 points"),
    (10, 0, 0.6, "n/a (no baseline)"),
])
def test_when_a_share_target_is_judged_then_the_verdict_says_by_how_much(value, baseline, share, expected):
    assert share_verdict(value, baseline, share) == expected


@pytest.mark.parametrize("value, limit, expected", [
    (180.0, 250.0, "180 ms, met"),
    (250.0, 250.0, "250 ms, met"),
    (2400.0, 250.0, "2,400 ms, missed by 2,150 ms (9.6x the limit)"),
    (None, 250.0, "n/a (not measured)"),
])
def test_when_a_limit_is_judged_then_the_verdict_says_by_how_much(value, limit, expected):
    assert limit_verdict(value, limit, "ms") == expected


def _figures(pipeline_rate: float, p99: float, paced_privacy: float, rss_mib: float) -> PipelineFigures:
    f = PipelineFigures(PipelineOptions(events=20_000, rate=1000.0, paced_seconds=20.0))
    f.privacy_alone, f.max_privacy, f.two_workers = 700.0, 650.0, 1100.0
    f.aggregation_alone, f.max_aggregation = StageRate(20_004, 4.0), StageRate(20_000, 31.0)
    f.max_pipeline = StageRate(20_000, 20_000 / pipeline_rate)
    f.paced_events, f.paced_offered, f.paced_privacy, f.paced_drain_seconds = 20_000, 998.0, paced_privacy, 9.5
    f.redacted_latency = Latency(20_000, 40.0, p99, p99 + 10)
    f.analytics_latency = WindowLatencies([2500, 3100, 4900], 3, 0)
    f.rss_kib = {"privacy worker 1": int(rss_mib * 1024), "aggregation worker": 150 * 1024}
    f.cpu_share = {"1 privacy worker": {"privacy worker 1": 0.98}}
    return f


@pytest.mark.parametrize("pipeline_rate, p99, paced_privacy, rss, met, why", [
    (1000.0, 120.0, 998.0, 120.0, 4, 0),     # share, p99 and two workers' RSS
    (500.0, 120.0, 998.0, 120.0, 3, 1),      # 50% of 1,000: missed by 10 points, with why
    (1000.0, 9000.0, 600.0, 120.0, 3, 1),    # over capacity: queueing
    (1000.0, 400.0, 990.0, 120.0, 3, 1),     # keeps up, tail from sharing cores
    (1000.0, 120.0, 998.0, 350.0, 3, 1),
])
def test_when_targets_are_judged_then_each_line_says_met_or_by_how_much_and_why(pipeline_rate, p99, paced_privacy,
                                                                              rss, met, why):
    lines = pipeline_targets(_figures(pipeline_rate, p99, paced_privacy, rss), 1000.0, 2)
    verdicts = [line for line in lines if line.startswith("- ")]
    assert len(verdicts) == 4
    assert sum(line.endswith("met.") for line in verdicts) == met
    assert sum(line.startswith("  Why:") for line in lines) == why


def test_when_the_pipeline_section_is_written_then_it_holds_every_stage_and_the_targets():
    body = pipeline_body(_figures(500.0, 9000.0, 600.0, 120.0), 1000.0, 2)
    for expected in ("privacy worker alone | 20000 | 700", "aggregation worker alone | 20,004 | 5,001",
                     "**full pipeline** (send to aggregated) | 20000 | 500", "| 40 | 9,000 |",
                     "3 windows", "| privacy worker 1 | 120 |", "missed by 10 points", "missed by 8,750 ms",
                     "Targets:"):
        assert expected in body, expected


def test_when_two_workers_failed_then_scaling_says_so_instead_of_a_ratio():
    f = _figures(1000.0, 120.0, 998.0, 120.0)
    assert "| 2 | 20000 | 1,100 | 1.57x |" in scaling_body(f, 2)
    f.two_workers = None
    f.notes.append("two privacy workers: no figure, the privacy worker 1 exited with status 1")
    body = scaling_body(f, 2)
    assert "| 2 | 20000 | n/a | n/a |" in body and "Odd: two privacy workers: no figure" in body


@pytest.mark.parametrize("parts, suffix", [(list(PARTS), ""), (["pipeline"], " --parts pipeline")])
def test_when_the_command_is_recorded_then_every_option_is_in_it(parts, suffix):
    args = argparse.Namespace(events=20000, rate=1000.0, paced_seconds=20.0, window_seconds=2.0,
                              broker_records=200000, parts=parts)
    assert command_line(args) == ("powersell-pipeline bench all --events 20000 --rate 1000 --paced-seconds 20 "
                                  "--window-seconds 2 --broker-records 200000" + suffix)


@pytest.mark.parametrize("privacy_cpu, max_privacy, max_aggregation, expected", [
    (0.10, 35.0, 900.0, "waits rather than computes: 10% of one core"),
    (0.98, 650.0, 900.0, "the privacy worker's (650 events/s"),
    (0.98, 650.0, 300.0, "the aggregation worker's (300 events/s"),
    (0.98, 37.0, 36.9, "the privacy worker's (37 events/s"),       # aggregation only keeping up with its input
])
def test_when_the_pipeline_misses_its_share_then_the_why_names_the_slowest_stage(privacy_cpu, max_privacy,
                                                                                max_aggregation, expected):
    from powersell.benchmarks.suite import pipeline_why

    f = _figures(200.0, 120.0, 998.0, 120.0)
    f.cpu_share["1 privacy worker"]["privacy worker 1"] = privacy_cpu
    f.max_privacy, f.max_aggregation = max_privacy, StageRate(20_000, 20_000 / max_aggregation)
    assert expected in pipeline_why(f, 1000.0, 2)


@pytest.mark.parametrize("privacy_cpu, expected", [
    (0.15, "first a privacy worker that does not wait (15% of one core"),
    (0.98, "at least 2 privacy workers with a core each"),
])
def test_when_p99_misses_over_capacity_then_the_remedy_follows_what_the_worker_does(privacy_cpu, expected):
    f = _figures(1000.0, 9000.0, 600.0, 120.0)
    f.cpu_share["1 privacy worker"]["privacy worker 1"] = privacy_cpu
    assert any(expected in line for line in pipeline_targets(f, 1000.0, 2))


def test_the_security_cost_shows_each_process_on_both_brokers():
    from powersell.benchmarks.suite import security_body
    from powersell.benchmarks.workers import AppRun

    def run(app, rate, lat):
        return AppRun(app=app, events=1000, events_per_second=rate, paced_events=100, rate=100.0, latencies_ms=lat)

    body = security_body([run("kafka-python loop", 800, [10, 20]), run("redaction", 300, [30, 40])],
                         [run("kafka-python loop", 1000, [5, 6]), run("redaction", 300, [20, 21])], 1000, 100.0)
    lines = body.splitlines()
    loop = next(line for line in lines if line.startswith("| kafka-python loop"))
    assert "1,000" in loop and "800" in loop and "-20%" in loop
    assert "+0%" in next(line for line in lines if line.startswith("| redaction worker"))
    assert "SCRAM-SHA-512" in body and "--insecure" in body


def test_scaling_shows_how_busy_the_whole_machine_was_beside_each_worker():
    from powersell.benchmarks.pipeline import MACHINE
    f = _figures(1000.0, 120.0, 998.0, 120.0)
    f.cpu_share["2 privacy workers"] = {"privacy worker 1": 0.81, "privacy worker 2": 0.59, MACHINE: 1.93}
    assert "privacy worker 1 81%; privacy worker 2 59%; the machine, every process 193% |" in scaling_body(f, 2)


def test_when_one_worker_alone_outruns_the_rate_but_not_beside_the_pipeline_then_two_are_asked_for():
    f = _figures(1000.0, 9000.0, 690.0, 120.0)
    f.privacy_alone = 1005.0  # alone above the 998 offered; beside the aggregation worker and the producer 690
    line = next(line for line in pipeline_targets(f, 1000.0, 2) if line.startswith("  Why: 1,000 events/s"))
    assert "at least 2 privacy workers with a core each" in line and "(690 events/s while offered 998; 1,005 alone)" in line
