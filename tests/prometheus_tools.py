"""Debian's Prometheus (promtool and the server) for the monitoring tests, installed by the
test session itself so the README's test command passes on a fresh machine: the decision is a
pure function (tested with a PATH that lacks the tools); the install is `.ci/install-prometheus`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "install-prometheus"
TOOLS = ("promtool", "prometheus")


@dataclass(frozen=True)
class Plan:
    install: bool
    reason: str  # one line: why nothing is done, or what will be done


def plan(path: str | None, is_root: bool) -> Plan:
    """What to do about the Prometheus tools, given a PATH and whether we run as root."""
    missing = [tool for tool in TOOLS if shutil.which(tool, path=path) is None]
    if not missing:
        return Plan(False, "promtool and prometheus are installed")
    if shutil.which("apt-get", path=path) is None:
        return Plan(False, f"{' and '.join(missing)} missing and no apt-get here: install Prometheus "
                           "(Debian package `prometheus`) by hand")
    if not is_root:
        return Plan(False, f"{' and '.join(missing)} missing: run .ci/install-prometheus (needs root/sudo)")
    return Plan(True, f"{' and '.join(missing)} missing: installing Debian's `prometheus` with apt-get")


def ensure(say=print) -> Plan:
    """Install the tools when they are missing and we may; returns the plan that was followed."""
    decided = plan(os.environ.get("PATH"), os.geteuid() == 0)
    if decided.install:
        say(f"prometheus: {decided.reason}")
        result = subprocess.run([str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            failed = Plan(False, f".ci/install-prometheus failed (exit {result.returncode}): {tail[0]}")
            say(f"prometheus: {failed.reason}")
            return failed
    elif decided.reason != "promtool and prometheus are installed":
        say(f"prometheus: {decided.reason}")
    return decided
