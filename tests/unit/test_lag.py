"""Consumer lag: offsets in, gauge values out (pure), and the monitor thread's gauges and
its survival of broker errors, with a fake reader instead of Kafka."""

from __future__ import annotations

import logging
import threading

import pytest

from pipeline_core.lag import PartitionOffsets, TopicLag, lag_by_topic, start_lag_monitor
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.settings import Settings
from tests.support.waiting import wait_for

NOW_MS = 1_800_000_000_000


def p(topic="raw.orders", partition=0, start=0, end=0, committed=None, first_ms=None):
    return PartitionOffsets(topic, partition, start, end, committed, first_ms)


@pytest.mark.parametrize("partitions, expected", [
    ([], {}),
    ([p(end=10, committed=10)], {"raw.orders": TopicLag(0, 0.0)}),
    # caught up: a stale timestamp of a record already consumed does not count
    ([p(end=10, committed=10, first_ms=NOW_MS - 60_000)], {"raw.orders": TopicLag(0, 0.0)}),
    ([p(end=10, committed=7, first_ms=NOW_MS - 2_500)], {"raw.orders": TopicLag(3, 2.5)}),
    # no commit yet: everything on the log waits, from its start (retention may have deleted the first records)
    ([p(start=4, end=10, committed=None, first_ms=NOW_MS - 1_000)], {"raw.orders": TopicLag(6, 1.0)}),
    ([p(start=0, end=10, committed=None, first_ms=NOW_MS - 1_000)], {"raw.orders": TopicLag(10, 1.0)}),
    # a commit older than the log start: the group resumes at the log start
    ([p(start=50, end=60, committed=20, first_ms=NOW_MS - 1_000)], {"raw.orders": TopicLag(10, 1.0)}),
    # an empty topic without commits
    ([p(start=0, end=0)], {"raw.orders": TopicLag(0, 0.0)}),
    # records sum over partitions, seconds are the oldest waiting record of any partition
    ([p(partition=0, end=10, committed=5, first_ms=NOW_MS - 3_000),
      p(partition=1, end=20, committed=18, first_ms=NOW_MS - 9_000),
      p(partition=2, end=5, committed=5, first_ms=NOW_MS - 99_000)], {"raw.orders": TopicLag(7, 9.0)}),
    # topics apart
    ([p("raw.orders", end=3, committed=1, first_ms=NOW_MS - 4_000), p("raw.shops", end=8, committed=8)],
     {"raw.orders": TopicLag(2, 4.0), "raw.shops": TopicLag(0, 0.0)}),
    # a waiting partition whose timestamp could not be fetched counts in records only
    ([p(partition=0, end=10, committed=5, first_ms=None), p(partition=1, end=4, committed=2, first_ms=NOW_MS - 500)],
     {"raw.orders": TopicLag(7, 0.5)}),
    ([p(end=10, committed=5, first_ms=None)], {"raw.orders": TopicLag(5, 0.0)}),
    # a producer clock ahead of ours never gives a negative age
    ([p(end=10, committed=5, first_ms=NOW_MS + 5_000)], {"raw.orders": TopicLag(5, 0.0)}),
])
def test_when_offsets_are_known_then_lag_is_records_waiting_and_age_of_the_oldest(partitions, expected):
    assert lag_by_topic(partitions, NOW_MS) == expected


class FakeReader:
    """Stands in for LagReader: hands out the prepared answers in turn (shared by every reader the
    monitor creates), the last one forever; an exception instance is raised."""

    def __init__(self, answers: list):
        self.answers, self.reads, self.closed = answers, 0, 0

    def read(self):
        self.reads += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        self.closed += 1


def monitor(answers: list, readers: list | None = None):
    metrics = PipelineMetrics()
    readers = readers if readers is not None else []

    answers = list(answers)

    def factory():
        readers.append(FakeReader(answers))
        return readers[-1]

    stop = start_lag_monitor(Settings.from_env({}), metrics, "powersell-redactor", "redactor",
                             ("raw.orders", "raw.shops"), interval=0.01, reader_factory=factory)
    return metrics, stop, readers


def gauge(metrics: PipelineMetrics, name: str, topic: str):
    return metrics.registry.get_sample_value(f"powersell_{name}", {"stage": "redactor", "topic": topic})


def test_when_the_monitor_reads_offsets_then_the_gauges_carry_stage_and_topic():
    answers = [[p("raw.orders", end=10, committed=4, first_ms=1_000), p("raw.shops", end=2, committed=2)]]
    metrics, stop, _ = monitor(answers)
    try:
        wait_for(lambda: gauge(metrics, "consumer_lag_seconds", "raw.shops") is not None)
        assert gauge(metrics, "consumer_lag_records", "raw.orders") == 6
        assert gauge(metrics, "consumer_lag_seconds", "raw.orders") > 0
        assert gauge(metrics, "consumer_lag_records", "raw.shops") == 0
        assert gauge(metrics, "consumer_lag_seconds", "raw.shops") == 0
    finally:
        stop()


def test_when_the_broker_fails_then_the_error_is_logged_without_its_message_and_the_next_interval_retries(caplog):
    secret = "buyer 0912345678"   # stands for whatever a client library might quote
    answers = [RuntimeError(secret), [p("raw.orders", end=9, committed=1, first_ms=1_000)]]
    readers: list = []
    with caplog.at_level(logging.WARNING, logger="pipeline_core.lag"):
        metrics, stop, readers = monitor(answers, readers)
        try:
            # the failed reader is closed and replaced by a new one, which reads the lag
            wait_for(lambda: gauge(metrics, "consumer_lag_records", "raw.orders") == 8)
        finally:
            stop()
    assert len(readers) >= 2 and readers[0].closed == 1
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_when_the_reader_cannot_even_be_created_then_the_monitor_keeps_trying(caplog):
    metrics = PipelineMetrics()
    attempts = []

    def factory():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("no broker")
        return FakeReader([[p("raw.orders", end=5, committed=0, first_ms=1_000)]])

    with caplog.at_level(logging.WARNING, logger="pipeline_core.lag"):
        stop = start_lag_monitor(Settings.from_env({}), metrics, "powersell-redactor", "redactor", ("raw.orders",),
                                 interval=0.01, reader_factory=factory)
        try:
            wait_for(lambda: gauge(metrics, "consumer_lag_records", "raw.orders") == 5)
        finally:
            stop()
    assert len(attempts) >= 3
    assert sum("ConnectionError" in r.getMessage() for r in caplog.records) >= 2


def test_when_stopped_then_the_thread_ends_and_closes_its_reader():
    readers: list = []
    metrics, stop, readers = monitor([[p(end=1, committed=1)]], readers)
    wait_for(lambda: readers and readers[0].reads >= 1)
    stop()
    assert readers[-1].closed == 1
    assert not any(t.name == "lag-redactor" and t.is_alive() for t in threading.enumerate())


