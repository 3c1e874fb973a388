"""`reconcile` on real Kafka with the real privacy worker: raw events of a granted shop, of a shop that
withdrew, of a shop that never granted, and poison records (bytes no schema wrote, a tombstone) are all
found in their place; an event the worker never read (it is stopped) is reported missing, by id, with
exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaProducer

from pipeline_core.kafka_io import AvroPublisher, partition_for
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.topics import topic
from powersell.reconcile import privacy_ledger
from tests.integration.test_consent_kafka import event, grant, new_shop, publish
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka


@pytest.fixture
def worker_env(kafka, tmp_path):
    return {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, OPERATOR)}


def reconcile(env, since: datetime) -> tuple[int, dict]:
    result = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat(), "--json"],
                            env=env, capture_output=True, text=True, timeout=180)
    return result.returncode, json.loads(result.stdout)["stages"]["redactor"]


def test_reconcile_finds_every_event_in_its_place_and_reports_one_the_worker_never_read(kafka, worker_env):
    granted, withdrawn, unknown = new_shop(), new_shop("lazada"), new_shop("tiktok_shop")
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    passing = [event("raw.orders", granted, s) for s in (1, 2, 3)] + [event("raw.products", granted, 4)]
    withdrawn_events = [event("raw.orders", withdrawn, s) for s in (50, 150, 200)]  # 150, 200: after the withdrawal
    denied = [event("raw.orders", unknown, s) for s in (5, 6)]
    publisher = AvroPublisher(kafka, client_id="reconcile-test")
    poison = KafkaProducer(**kafka_client_config(kafka, client_id="reconcile-poison", acks="all"))
    worker = start_worker({**worker_env, **principal_env(kafka, "privacy-worker")}, "worker", "redaction",
                          log_path=os.path.join(worker_env["POWERSELL_DATA_DIR"], "worker.log"))
    try:
        publish(publisher, grant(granted), grant(withdrawn, 0), grant(withdrawn, 100, status="WITHDRAWN"),
                *passing, *withdrawn_events, *denied)
        for name, value in (("raw.orders", b"\x00 not a single-object record"), ("raw.products", None)):
            poison.send(name, key=granted.encode(), value=value,
                        partition=partition_for(topic(name), granted)).get(timeout=30)

        def settled():
            assert worker.poll() is None, f"the worker stopped: see {worker.log_path}"
            return not privacy_ledger(kafka, since)[0].missing
        wait_for(settled, 180, interval=1.0, what="every event found in its place by the ledger")
        code, ledger = reconcile(worker_env, since)
        assert code == 0 and ledger["missing"] == 0 and ledger["missing_ids"] == []
        assert ledger["events"] == 4 + 3 + 2 + 2
        assert ledger["published"] == 4 + 1
        assert ledger["filtered"] == {"consent_withdrawn": 2, "no_consent": 2}
        assert sum(ledger["dead_lettered"].values()) == 2 and ledger["dead_lettered"]["missing_field"] == 1
        assert ledger["in_several_places"] == 0
    finally:
        stop_worker(worker)
    # The worker is stopped: an event written now has no outcome, and reconcile says which one.
    unseen = event("raw.orders", granted, 7)
    publish(publisher, unseen)
    publisher.close()
    poison.close()
    code, ledger = reconcile(worker_env, since)
    assert code == 1 and ledger["missing_ids"] == [unseen[2]["event_id"]]
    assert ledger["not_read_yet_ids"] == [unseen[2]["event_id"]]  # past the worker group's committed offset
    printed = subprocess.run([sys.executable, "-m", "powersell.cli", "reconcile", "--since", since.isoformat()],
                             env=worker_env, capture_output=True, text=True, timeout=180)
    assert printed.returncode == 1 and f"missing: {unseen[2]['event_id']}" in printed.stdout
    assert granted.split(":")[1] not in printed.stdout + printed.stderr   # ids of events only, no shop or content
