"""The benchmarks' extras (Presidio, Quix Streams) come from the `bench` extra, never from pip at run time."""

import importlib
import tomllib
from pathlib import Path

import pytest

from powersell.benchmarks import workers

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_bench_extra_holds_what_the_benchmarks_compare_against():
    bench = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["bench"]
    assert {requirement.split(">=")[0] for requirement in bench} >= {"presidio-analyzer", "quixstreams"}


def test_when_presidio_is_missing_then_the_bench_names_the_extra_and_installs_nothing(monkeypatch):
    real_import = importlib.import_module

    def without_presidio(name, *args, **kwargs):
        if name == "presidio_analyzer":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", without_presidio)
    monkeypatch.setattr(workers.subprocess, "run", lambda *a, **k: pytest.fail("something was run at run time"))
    with pytest.raises(workers.BenchError, match=r"pip install -e '\.\[bench\]'"):
        workers.ensure_presidio()
