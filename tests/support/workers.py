"""Starting and stopping a pipeline process the one way the integration tests do it: `python -m
powersell.cli ARGS` (usually `worker redaction` or `worker aggregation`), its stderr in a log file the
test names in its failures, stopped with a signal and killed if it has not stopped in time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Mapping

# Every log a test process wrote, so a failing test's report ends with their tails (tests/conftest.py): on a
# CI machine the temp folders holding them are gone once the run ends.
STARTED: list[subprocess.Popen] = []
TAIL_LINES = 60


def log_tails(since: float) -> list[tuple[str, str]]:
    """(path, last lines) of the log of every started process still running, or whose log was written to at or
    after `since` (a time.time())."""
    tails = []
    running = {p.log_path for p in STARTED if p.poll() is None}
    for path in dict.fromkeys(p.log_path for p in STARTED):
        try:
            if path not in running and os.path.getmtime(path) < since:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                tails.append((path, "".join(f.readlines()[-TAIL_LINES:])))
        except OSError:
            continue
    return tails


def start_worker(env: Mapping[str, str], *args: str, log_path: str | os.PathLike) -> subprocess.Popen:
    """Start `powersell-pipeline ARGS` with `env`; `proc.log_path` is where its stderr goes."""
    with open(log_path, "ab") as log:  # appended: a restarted worker keeps its earlier log; the child has its own fd
        proc = subprocess.Popen([sys.executable, "-m", "powersell.cli", *args], env=dict(env),
                                stdout=subprocess.DEVNULL, stderr=log)
    proc.log_path = str(log_path)
    STARTED.append(proc)
    return proc


def stop_worker(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
    """Send `sig` (SIGTERM: a clean stop; SIGKILL: a crash) and wait; killed if still running after `timeout`."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
