"""`worker aggregation --max-future`: how far ahead of the wall clock an event time is still believed
(issue 15: far-future events are dead-lettered as `implausible_time`; ops set the bound)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest

from pipeline_core.errors import ConfigError
from streams.aggregation import AddOutcome, Aggregator
from streams.aggregation.aggregator import MAX_FUTURE, parse_max_future
from streams.aggregation.errors import ImplausibleTime
from tests.unit.test_aggregation_aggregator import OPEN, T0, order


@pytest.mark.parametrize("text, expected", [
    ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)),
    ("2d", timedelta(days=2)), ("1.5d", timedelta(hours=36)), (" 7d ", timedelta(days=7)),
])
def test_a_duration_with_its_unit_is_read(text, expected):
    assert parse_max_future(text) == expected


@pytest.mark.parametrize("text", ["0", "0d", "0.0000001s", "-1d", "-5", "2", "d", "abc", "", "2 d", "2w", "1e3d",
                                  "nan", "inf", "99999999999d"])
def test_a_value_that_is_not_a_positive_duration_is_refused_in_one_line(text):
    with pytest.raises(ConfigError) as refused:
        parse_max_future(text)
    message = str(refused.value)
    assert "--max-future" in message and "12h" in message and "\n" not in message


def test_the_aggregator_dead_letters_by_the_bound_it_is_given():
    two_hours = parse_max_future("2h")
    near = order("near", "s1", "b1", T0 + timedelta(hours=1), [("x", 1, "10.00")])
    far = order("far", "s2", "b2", T0 + timedelta(hours=3), [("x", 1, "10.00")])
    agg = Aggregator(rules=OPEN, max_future=two_hours)
    assert agg.add("redacted.orders", near, now=T0) is AddOutcome.APPLIED
    with pytest.raises(ImplausibleTime) as refused:
        agg.add("redacted.orders", far, now=T0)
    assert refused.value.reason == "implausible_time" and "2:00:00" in str(refused.value)
    # the default (1 day) would have taken it: the bound given is the one used
    assert Aggregator(rules=OPEN).add("redacted.orders", far, now=T0) is AddOutcome.APPLIED
    assert MAX_FUTURE == timedelta(days=1) == parse_max_future("1d")


def test_an_aggregator_refuses_a_bound_that_is_not_positive():
    with pytest.raises(ValueError):
        Aggregator(rules=OPEN, max_future=timedelta(0))


def test_the_worker_command_hands_the_parsed_bound_to_its_aggregator(monkeypatch):
    import streams.aggregation_app as aggregation_app
    from pipeline_core.metrics import PipelineMetrics
    from streams.commands import _aggregation_app
    built = {}

    def build(settings, aggregator, metrics, **kwargs):
        built["aggregator"] = aggregator
        return object()

    monkeypatch.setattr(aggregation_app, "build_aggregation_app", build)
    args = SimpleNamespace(k=10, dominance=0.5, dp_epsilon=None, hourly_lateness=48.0, daily_lateness=62.0,
                           tick_seconds=5.0, app_id=None)
    _aggregation_app(None, PipelineMetrics(), args, parse_max_future("36h"))
    assert built["aggregator"].max_future == timedelta(hours=36)


def cli(*args, tmp_path):
    # a bootstrap nothing answers on: the value must be refused before the worker reaches for a broker
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": "127.0.0.1:9",
           "POWERSELL_METRICS_PORT": "0"}
    return subprocess.run([sys.executable, "-m", "powersell.cli", *args], capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.mark.parametrize("value", ["0", "-1d", "soon"])
def test_the_command_refuses_a_bad_value_in_one_line_with_exit_2(value, tmp_path):
    done = cli("worker", "aggregation", f"--max-future={value}", tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"powersell-pipeline: error: --max-future must be a positive duration such as 12h or 2d (units s, m, h, d), "
        f"got {value!r}"]


def test_help_explains_the_bound(tmp_path):
    done = cli("worker", "--help", tmp_path=tmp_path)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0
    assert "--max-future DURATION" in text and "implausible_time" in text and "(default 1d)" in text
