"""The processes and Kafka clients of `bench all`'s pipeline part (bench_pipeline): each worker
as `powersell-pipeline worker NAME` in its own process with its log in the bench's folder,
the bench's producers and readers, and the counters sampled while waiting for the workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from powersell.benchmarks.workers import BenchError, BenchEvent, cpu_seconds

from powersell.benchmarks.figures import (PipelineFigures, PipelineOptions, metric_value, metrics_port, paced,
                                          peak_rss_tracker)
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
RAW, REDACTED = "raw.orders", "redacted.orders"
AGGREGATED = ("powersell_processing_duration_seconds_count", {"stage": "aggregator"})  # one per record aggregated


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class WorkerProcess:
    """One `powersell-pipeline worker NAME` process, its log in the bench's folder."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str], log: Path):
        self.label, self.log = label, log
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(REPO),
                                         stdin=subprocess.DEVNULL)
        self.rss = peak_rss_tracker()
        self.peak_kib: int | None = None
        self._port: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check(self) -> None:
        self.rss.sample(self.pid)
        if self.proc.poll() is not None:
            raise BenchError(f"the {self.label} exited with status {self.proc.returncode}; last lines of its log:\n"
                             + self.tail())

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def metrics_text(self) -> str | None:
        if self._port is None:
            try:
                self._port = metrics_port(self.log.read_text(errors="replace"))
            except OSError:
                return None
            if self._port is None:
                return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self._port}/metrics", timeout=2) as resp:
                return resp.read().decode("utf-8", "replace")
        except OSError:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.peak_kib = self.rss.peak_kib(self.pid)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class PipelineSession:
    """The workers, the bench's Kafka clients and the counters sampled while waiting."""

    def __init__(self, settings: Settings, workdir: Path, options: PipelineOptions):
        from kafka import KafkaConsumer, KafkaProducer

        from pipeline_core.kafka_io import admin_client

        self.settings, self.workdir, self.options = settings, workdir, options
        self.admin = admin_client(settings)
        self.counter = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                           client_id="bench-all-count"))
        # Flat out: batches fill. Paced: nothing waits in the producer, so latency starts at send.
        self.producers = {linger: KafkaProducer(**kafka_client_config(settings, client_id="bench-all", acks="all",
                                                                      linger_ms=linger, batch_size=256 * 1024))
                          for linger in (0, 20)}
        self.workers: list[WorkerProcess] = []
        self.pseudonym_key = os.urandom(32).hex()  # throwaway; every privacy worker of the run shares it
        self.samples: list[tuple[float, int, float | None]] = []  # (monotonic s, redacted count, aggregated count)
        self.aggregator: WorkerProcess | None = None

    # ------------------------------------------------------------ processes
    def start_worker(self, name: str, label: str, extra_args: Sequence[str] = ()) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POWERSELL_")}
        env.update({
            "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
            "POWERSELL_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "POWERSELL_KAFKA_PORT": str(self.settings.kafka_port),
            "POWERSELL_KAFKA_CONTROLLER_PORT": str(self.settings.kafka_controller_port),
            "POWERSELL_CACHE_DIR": str(self.settings.cache_dir),
            "POWERSELL_DATA_DIR": str(self.workdir / f"data-{len(self.workers)}"),   # faust's datadir per process
            "POWERSELL_KEYSTORE_DIR": str(self.workdir / "keystore"),                # shared, as in production
            "POWERSELL_PSEUDONYM_KEY": self.pseudonym_key,
            "POWERSELL_METRICS_PORT": "0",
            "POWERSELL_LOG_LEVEL": "WARNING",
            **principal_env(self.settings, OPERATOR),  # bench app ids are not a service's: the operator runs them
        })
        worker = WorkerProcess(label, [sys.executable, "-m", "powersell.cli", "worker", name, *extra_args], env,
                               self.workdir / f"{label.replace(' ', '-')}.log")
        self.workers.append(worker)
        _say(f"[pipeline] started the {label} (pid {worker.pid})")
        return worker

    def stop_worker(self, worker: WorkerProcess, figures: PipelineFigures) -> None:
        worker.stop()
        figures.rss_kib[worker.label] = worker.peak_kib
        self.workers.remove(worker)

    def close(self, figures: PipelineFigures | None = None) -> None:
        for worker in list(self.workers):
            try:
                worker.stop()
            except Exception as exc:  # keep stopping the others
                _say(f"note: could not stop the {worker.label}: {exc}")
            if figures is not None and worker.label not in figures.rss_kib:
                figures.rss_kib[worker.label] = worker.peak_kib
        self.workers.clear()
        for client in (*self.producers.values(), self.counter, self.admin):
            try:
                client.close()
            except Exception:
                pass

    # ------------------------------------------------------------ Kafka
    def setup(self, shops: set[tuple[str, str]], granted_at: datetime) -> None:
        """The catalog's topics, and every bench shop's connection consent, granted before its events."""
        from pipeline_core.consent_records import CONNECTION, consent_record
        from pipeline_core.kafka_io import AvroPublisher, ensure_topics

        ensure_topics(self.settings)
        publisher = AvroPublisher(self.settings, client_id="bench-all-consent")
        try:
            futures = []
            for subject, marketplace in sorted(shops):
                key, record = consent_record(subject_type="SHOP", subject_id=subject, purpose=CONNECTION,
                                             scope=marketplace, status="GRANTED", source="POWERSELL_APP",
                                             proof_ref="bench-all", effective_time=granted_at)
                futures.append(publisher.send("consent.events", key, record))
            publisher.flush()
            for f in futures:
                f.get(timeout=30)
        finally:
            publisher.close()

    def end_offsets(self, name: str) -> dict[int, int]:
        from kafka import TopicPartition

        partitions = sorted(self.counter.partitions_for_topic(name) or ())
        ends = self.counter.end_offsets([TopicPartition(name, p) for p in partitions])
        return {tp.partition: offset for tp, offset in ends.items()}

    def count(self, name: str) -> int:
        return sum(self.end_offsets(name).values())

    def send(self, events: Sequence[BenchEvent], partitions: Sequence[int], rate: float | None = None) -> list[int]:
        """Publish to raw.orders as the connectors do (partition by shop key); flat out, or paced at
        `rate` events/s. Returns each record's timestamp (CreateTime ms, set at send)."""
        producer = self.producers[20 if rate is None else 0]
        indices = range(len(events)) if rate is None else paced(len(events), rate)
        futures = [producer.send(RAW, key=events[i].key, value=events[i].value, partition=partitions[i])
                   for i in indices]
        producer.flush(timeout=120)
        return [f.get(timeout=30).timestamp for f in futures]

    def read(self, name: str, since: dict[int, int]) -> tuple[list[tuple[int, bytes]], dict[int, int]]:
        """(CreateTime ms, value) of every record from `since` up to the end offsets now; and those ends."""
        from kafka import KafkaConsumer, TopicPartition

        ends = self.end_offsets(name)
        consumer = KafkaConsumer(**kafka_client_config(self.settings, group_id=None, enable_auto_commit=False,
                                                       client_id="bench-all-read", max_poll_records=5000))
        try:
            tps = [TopicPartition(name, p) for p in ends if ends[p] > since.get(p, 0)]
            if not tps:
                return [], ends
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, since.get(tp.partition, 0))
            out: list[tuple[int, bytes]] = []
            wanted = sum(ends[tp.partition] - since.get(tp.partition, 0) for tp in tps)
            deadline = time.monotonic() + 120
            while len(out) < wanted and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    out.extend((r.timestamp, r.value) for r in records if r.offset < ends[r.partition])
            return out, ends
        finally:
            consumer.close()

    def group_size(self, group: str) -> tuple[str, int]:
        """(state, members) of a consumer group; ("", 0) while the broker has no coordinator for it yet."""
        from kafka.errors import KafkaError

        try:
            described = self.admin.describe_groups([group]).get(group, {})
        except KafkaError:
            return "", 0
        state = described.get("group_state") or described.get("state") or ""
        return str(state), len(described.get("members") or ())

    # ------------------------------------------------------------ waiting
    def aggregated(self) -> float | None:
        if self.aggregator is None:
            return None
        text = self.aggregator.metrics_text()
        return None if text is None else metric_value(text, *AGGREGATED)

    def sample(self) -> tuple[int, float | None]:
        for w in self.workers:
            w.check()
        redacted, aggregated = self.count(REDACTED), self.aggregated()
        self.samples.append((time.monotonic(), redacted, aggregated))
        return redacted, aggregated

    def wait_until(self, what: str, done: Callable[[int, float | None], bool], progress_every: float = 5.0,
                   stall: float | None = None) -> None:
        """Sample every 0.25 s until done(redacted count, aggregated count); fail when a worker exits
        or neither count moved for `stall` seconds."""
        stall = self.options.stall_seconds if stall is None else stall
        last_seen, moved, said = None, time.monotonic(), time.monotonic()
        while True:
            redacted, aggregated = self.sample()
            if done(redacted, aggregated):
                return
            now = time.monotonic()
            if (redacted, aggregated) != last_seen:
                last_seen, moved = (redacted, aggregated), now
            if now - said >= progress_every:
                agg = "" if aggregated is None else f", {aggregated:,.0f} aggregated"
                _say(f"[pipeline] {what}: {redacted:,} on {REDACTED}{agg}")
                said = now
            if now - moved > stall:
                logs = "\n".join(f"--- {w.label}:\n{w.tail(12)}" for w in self.workers)
                raise BenchError(f"{what}: nothing moved for {stall:.0f} s ({redacted} on {REDACTED}, "
                                 f"{aggregated} aggregated)\n{logs}")
            time.sleep(0.25)

    def wait_group(self, group: str, members: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for w in self.workers:
                w.check()
            state, n = self.group_size(group)
            if n == members and state.lower() == "stable":
                return
            if time.monotonic() > deadline:
                raise BenchError(f"the group {group} has {n} member(s) in state {state or 'unknown'} after "
                                 f"{timeout:.0f} s; expected {members}, stable")
            time.sleep(0.5)

    def cpu_seconds(self) -> dict[str, float | None]:
        return {w.label: cpu_seconds(w.pid) for w in self.workers}
