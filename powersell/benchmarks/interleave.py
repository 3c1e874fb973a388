"""Comparisons that survive a shared machine: phases run interleaved (A, B, A, B ...), each figure
a median with its spread, and the load average recorded around every run.

A ratio is only worth reporting when both of its sides saw the same machine. Running A three
times and then B three times lets a neighbour's build land on B alone; interleaving spreads it
over both. A phase is *noisy* when the 1-minute load average exceeded the core count around
any of its runs, or its runs spread by more than 15 % of their median: its figures are then
printed, but marked, and a verdict built on them says so.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

NOISY_SPREAD = 0.15


def load_1min() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


@dataclass(frozen=True)
class Run:
    value: float | None          # None: the run failed (its error is in `Phase.errors`)
    load_before: float | None
    load_after: float | None


@dataclass
class Phase:
    name: str
    runs: list[Run] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[float]:
        return [r.value for r in self.runs if r.value is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def spread(self) -> float | None:
        """(max - min) / median of the runs; None with fewer than two."""
        v = self.values
        if len(v) < 2 or not self.median:
            return None
        return (max(v) - min(v)) / self.median

    @property
    def max_load(self) -> float | None:
        loads = [x for r in self.runs for x in (r.load_before, r.load_after) if x is not None]
        return max(loads) if loads else None

    def noisy(self, cores: int) -> list[str]:
        """Why the phase's figures are noisy (empty: they are not)."""
        why = []
        if self.max_load is not None and self.max_load > cores:
            why.append(f"load {self.max_load:.1f} > {cores} cores")
        if self.spread is not None and self.spread > NOISY_SPREAD:
            why.append(f"spread {self.spread:.0%} > {NOISY_SPREAD:.0%}")
        if len(self.values) < len(self.runs):
            why.append(f"{len(self.runs) - len(self.values)} of {len(self.runs)} runs failed")
        return why


def interleave(phases: Mapping[str, Callable[[], float | None]], rounds: int,
               load: Callable[[], float | None] = load_1min,
               on_error: tuple[type[BaseException], ...] = (Exception,),
               progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Phase]:
    """Run every phase once per round, in the given order each round (A, B, A, B ...); a run is
    its phase's callable returning a figure. A run that raises one of `on_error` is recorded as
    failed with its message and the comparison goes on."""
    if rounds < 1:
        raise ValueError("at least one round")
    out = {name: Phase(name) for name in phases}
    for r in range(1, rounds + 1):
        for name, run in phases.items():
            progress(f"round {r}/{rounds}: {name}")
            before = load()
            try:
                value = run()
            except on_error as exc:
                value = None
                out[name].errors.append(f"round {r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            out[name].runs.append(Run(value, before, load()))
    return out


def ratio(a: Phase, b: Phase) -> float | None:
    """median(a) / median(b); also the median of the per-round ratios would do, the medians are steadier."""
    return a.median / b.median if a.median is not None and b.median else None


def fmt(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def comparison_rows(phases: Mapping[str, Phase], cores: int, references: Sequence[str] = ()) -> list[list[str]]:
    """Table rows: phase, median, runs, spread, load max, vs each reference, noisy."""
    rows = []
    for name, p in phases.items():
        row = [name, fmt(p.median), " / ".join(fmt(v) for v in p.values) or "n/a",
               "n/a" if p.spread is None else f"{p.spread:.0%}", fmt(p.max_load, 2)]
        for ref in references:
            r = ratio(p, phases[ref]) if ref in phases else None
            row.append("n/a" if r is None else f"{r:.2f}")
        why = p.noisy(cores)
        row.append("**noisy**: " + ", ".join(why) if why else "")
        rows.append(row)
    return rows


def comparison_header(unit: str, references: Sequence[str] = ()) -> list[str]:
    return ["phase", f"median {unit}", "runs", "spread", "max load (1 min)", *[f"vs {r}" for r in references], "noisy"]


def loads_line(phases: Mapping[str, Phase]) -> str:
    """Load average before/after each run, in run order, for the record."""
    parts = []
    for name, p in phases.items():
        pairs = ", ".join(f"{fmt(r.load_before, 2)}->{fmt(r.load_after, 2)}" for r in p.runs)
        parts.append(f"{name}: {pairs}")
    return "Load average (1 min) before->after each run: " + "; ".join(parts) + "."
