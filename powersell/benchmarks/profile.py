"""`bench all --parts profile`: where the privacy worker's CPU goes, sampled by py-spy from outside the
real `worker redaction` process while it drains a backlog on the run's scratch broker (the same setup
as "Privacy worker vs passthrough"). The samples are grouped into the pipeline's own steps, so the
figures say which step stands between the worker and the passthrough; the functions with the most
samples of their own follow.

A sample goes to the first step, in the table's order, that has a frame on its stack: a free-text
scan inside the redaction walk counts as the scan, not as the walk."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline_core.settings import Settings

from powersell.benchmarks.report import table

# (step, frames that mark it: "function (file" as py-spy names them)
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opening sealed fields (key store, AES-GCM, copy)", ("RecordSealer.open (",)),
    ("free-text scan (PII detectors)", ("redact_text (",)),
    ("redaction walk (fields, pseudonyms, actions)", ("Redactor.redact (",)),
    ("Avro decode", ("SchemaRegistry.decode (",)),
    ("Avro encode", ("SchemaRegistry.encode (",)),
    ("consent gate", ("ConsentBook.",)),
    ("the rest of the stage (metrics, outcome)", ("RedactionStage.process (",)),
    ("following the consent topic", ("KafkaConsentReader.", "consent_follower.py")),
    ("lag monitor (kafka-python, own thread)", ("LagReader.", "start_lag_monitor")),
    ("producing (Faust topic, aiokafka sender)", ("Topic.send (", "Topic.publish_message (", "Sender.", "send_soon (",
                                                  "AIOKafkaClient.send (")),
    ("fetching (aiokafka, Faust consumer)", ("Fetcher.", "_drain_messages (", "Consumer.")),
    ("kafka-python's network threads (lag monitor, consent follower)", ("NetworkSelector.",)),
    ("TLS and socket reads", ("SSLProtocol.", "SSLObject.", "_SelectorSocketTransport.")),
    ("Faust's agent and stream machinery", ("Conductor.", "Stream.", "Agent._execute_actor (", "build_app.")),
    ("waiting in select (idle event loop)", ("EpollSelector.select (",)),
)
OTHER = "other (event loop, threads, stacks py-spy could not follow)"


@dataclass
class Profile:
    samples: int
    steps: dict[str, int]         # step -> samples, in STEPS order, then OTHER
    own: list[tuple[str, int]]    # (function, samples with it on top), most first


def summarize(collapsed: str, top: int = 12) -> Profile:
    """py-spy's raw output (`frame;frame;... count` per line) -> samples per step and per function on top."""
    steps: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[short(frames[-1])] += n
        steps[next((name for name, marks in STEPS if any(m in f for f in frames for m in marks)), OTHER)] += n
    order = [name for name, _ in STEPS] + [OTHER]
    return Profile(total, {name: steps[name] for name in order if steps[name]}, own.most_common(top))


def short(frame: str) -> str:
    """`function (path/to/module.py:line)` -> `function (module.py:line)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if where else name


def profile_body(profile: Profile, events: int, rate: float, cpu: float | None) -> str:
    share = lambda n: f"{n / profile.samples:.1%}"  # noqa: E731
    steps = table(["step", "share of samples"], [[name, share(n)] for name, n in profile.steps.items()])
    own = table(["function (on top of the stack)", "share of samples"], [[f"`{f}`", share(n)] for f, n in profile.own])
    cpu_text = f", {cpu:.0%} of one core" if cpu is not None else ""
    return "\n".join([steps, "", own, "",
                      f"{profile.samples:,} samples at 200 Hz while the worker drained {events:,} raw order events "
                      f"({rate:,.0f} events/s{cpu_text}).", "", (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ")])


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def privacy_worker_profile(settings: Settings, workdir: Path, events: int) -> str:
    """The section's body; `settings` must be a scratch broker's."""
    from powersell.benchmarks.privacy_share import warm_privacy_worker
    from powersell.benchmarks.session import REDACTED
    from powersell.benchmarks.workers import BenchError

    spy = py_spy()
    if spy is None:
        raise BenchError("py-spy is not installed: pip install -e '.[bench]'")
    out = workdir / "privacy-worker.pyspy"
    session, worker, backlog = warm_privacy_worker(settings, workdir, events, "profiled privacy worker")
    try:
        since = session.end_offsets(REDACTED)
        recorder = subprocess.Popen([spy, "record", "--pid", str(worker.pid), "--rate", "200", "--format", "raw",
                                     "--output", str(out), "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cpu0, t0 = session.cpu_seconds()[worker.label], time.monotonic()
        session.send(backlog.events, backlog.partitions)
        session.wait_until("profile: drain", lambda r, a: r >= sum(since.values()) + len(backlog.events))
        seconds, cpu1 = time.monotonic() - t0, session.cpu_seconds()[worker.label]
        recorder.send_signal(signal.SIGINT)
        _, err = recorder.communicate(timeout=60)
        if not out.exists():
            raise BenchError(f"py-spy wrote no profile ({(err or '').strip().splitlines()[-1:]})")
    finally:
        session.close()
    cpu = (cpu1 - cpu0) / seconds if cpu0 is not None and cpu1 is not None else None
    return profile_body(summarize(out.read_text()), len(backlog.events), len(backlog.events) / seconds, cpu)
