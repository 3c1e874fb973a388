"""A privacy worker stopped cleanly (SIGTERM, as every deploy and rolling restart does) while records
stream in loses none of them: the batch in flight is read again by the next worker, never committed
unsent. Before streams/batch_acks.py, Faust's take_events acknowledged that batch on the way out and
each stop lost tens of events with the group committed past them (185 of 17,560 over four stops).

Each stop and start also seeks the partitions back to their committed offsets while Faust's fetch loop still
holds records fetched before; streams/seek_safe_consumer.py keeps those from moving the read offset (before it:
2 of 4 runs lost records at a worker's start, 229 and 490, committed past and never decided)."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone

import pytest

from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.security import OPERATOR, principal_env
from powersell.reconcile import privacy_ledger
from tests.integration.test_consent_kafka import event, grant, new_shop, publish
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_a_privacy_worker_stopped_mid_stream_and_restarted_loses_nothing(kafka, tmp_path):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_METRICS_PORT": "0",
           "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, OPERATOR), **principal_env(kafka, "privacy-worker")}
    shops = [new_shop() for _ in range(8)]
    publisher = AvroPublisher(kafka, client_id="restart-test")
    publish(publisher, *(grant(s) for s in shops))
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    worker = start_worker(env, "worker", "redaction", log_path=tmp_path / "worker.log")
    sent, stop_writing = [0], threading.Event()

    def write():  # a steady stream of orders while the worker stops and starts under it
        i = 0
        while not stop_writing.is_set():
            futures = [publisher.send(*event("raw.orders", s, i + k)) for s in shops for k in range(5)]
            for f in futures:
                f.get(timeout=60)
            sent[0] += len(futures)
            i += 5
            stop_writing.wait(0.2)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    last = {}

    def decided(at_least: int):
        def check():
            assert worker.poll() is None, f"the worker stopped: see {worker.log_path}"
            last["ledger"], last["unread"] = privacy_ledger(kafka, since)
            return last["ledger"].published >= at_least
        return check
    try:
        for stop in (1, 2):
            wait_for(decided(sent[0] + 200), 180, interval=1.0, what=f"the worker deciding orders before stop {stop}")
            stop_worker(worker)  # SIGTERM: a clean stop while batches are in flight
            assert worker.returncode == 0, f"the worker did not stop cleanly: see {worker.log_path}"
            worker = start_worker(env, "worker", "redaction", log_path=tmp_path / "worker.log")
        wait_for(lambda: sent[0] > 0 and decided(0)(), 60)
    finally:
        stop_writing.set()
        writer.join(60)
        publisher.close()
    try:
        wait_for(lambda: decided(0)() and not last["ledger"].missing, 240, interval=1.0,
                 what="every order found in its place by the ledger")
    except AssertionError as exc:
        ledger = last["ledger"]
        raise AssertionError(f"{exc}: {len(ledger.missing)} missing, of which {len(last['unread'])} not read yet "
                             f"(the rest: committed past but never decided); {ledger.as_dict()}") from None
    finally:
        stop_worker(worker)
    # The window may hold a neighbour's events too (the broker is shared): each of ours is among them, in its place.
    assert last["ledger"].events >= sent[0] > 0 and not last["ledger"].missing
