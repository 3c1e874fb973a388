"""powersell/benchmarks/interleave.py: interleaved order, medians, spread, load and the noisy marks."""

from __future__ import annotations

import pytest

from powersell.benchmarks.interleave import (Phase, Run, comparison_header, comparison_rows, interleave, loads_line,
                                             ratio)


def test_when_interleaved_then_phases_alternate_round_by_round():
    calls = []
    phases = {"A": lambda: calls.append("A") or 10.0, "B": lambda: calls.append("B") or 20.0}
    out = interleave(phases, rounds=3, load=lambda: 0.5)
    assert calls == ["A", "B", "A", "B", "A", "B"]
    assert [len(p.runs) for p in out.values()] == [3, 3]


def test_load_is_recorded_before_and_after_every_run():
    loads = iter([0.1, 0.2, 0.3, 0.4])
    out = interleave({"A": lambda: 1.0, "B": lambda: 2.0}, rounds=1, load=lambda: next(loads))
    assert out["A"].runs == [Run(1.0, 0.1, 0.2)] and out["B"].runs == [Run(2.0, 0.3, 0.4)]
    assert "A: 0.10->0.20; B: 0.30->0.40" in loads_line(out)


def test_median_and_spread():
    p = Phase("A", [Run(v, 0.0, 0.0) for v in (90.0, 100.0, 130.0)])
    assert p.median == 100.0 and p.spread == pytest.approx(0.40)
    assert Phase("B", [Run(5.0, 0, 0)]).spread is None


@pytest.mark.parametrize("values, load, cores, noisy", [
    ((100, 105, 110), 1.0, 2, []),
    ((100, 105, 110), 2.5, 2, ["load 2.5 > 2 cores"]),
    ((100, 130, 110), 1.0, 2, ["spread 27% > 15%"]),
    ((100, None, 110), 1.0, 2, ["1 of 3 runs failed"]),
])
def test_when_load_exceeds_cores_or_spread_exceeds_15_percent_then_the_phase_is_noisy(values, load, cores, noisy):
    p = Phase("A", [Run(v, load, load) for v in values])
    assert p.noisy(cores) == noisy


def test_a_failing_run_is_recorded_and_the_comparison_goes_on():
    def boom():
        raise RuntimeError("stuck at 3/10\nlog tail")
    out = interleave({"A": boom, "B": lambda: 2.0}, rounds=2, load=lambda: 0.0)
    assert out["A"].values == [] and out["A"].errors == ["round 1: stuck at 3/10", "round 2: stuck at 3/10"]
    assert out["B"].median == 2.0


def test_ratio_uses_medians_and_rows_show_references():
    out = {"worker": Phase("worker", [Run(v, 0, 0) for v in (70, 72, 71)]),
           "passthrough": Phase("passthrough", [Run(v, 0, 0) for v in (100, 101, 99)])}
    assert ratio(out["worker"], out["passthrough"]) == pytest.approx(0.71)
    rows = comparison_rows(out, cores=2, references=["passthrough"])
    assert rows[0][0] == "worker" and rows[0][5] == "0.71" and rows[1][5] == "1.00"
    assert len(comparison_header("events/s", ["passthrough"])) == len(rows[0])


def test_rounds_must_be_positive():
    with pytest.raises(ValueError):
        interleave({"A": lambda: 1.0}, rounds=0)
