"""`topics tail NAME` on a topic that keeps receiving records: it ends by itself once it has
read what was there when it started; following is the explicit `--follow`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from kafka import KafkaProducer

from pipeline_core.security import OPERATOR, kafka_client_config, principal_env

pytestmark = pytest.mark.kafka
TOPIC = "ops.dead-letters"


def test_when_records_keep_arriving_then_tail_still_ends_with_what_was_there(kafka):
    producer = KafkaProducer(**kafka_client_config(kafka))
    first = producer.send(TOPIC, key=b"tail-first", value=b"\xc3\x01not avro").get(timeout=30)
    stop = threading.Event()

    def keep_publishing():  # a live pipeline: a record every 100 ms, so an idle timeout never fires
        while not stop.wait(0.1):
            producer.send(TOPIC, key=b"tail-busy", value=b"\xc3\x01not avro")

    busy = threading.Thread(target=keep_publishing, daemon=True)
    busy.start()
    try:
        # With the old idle-timeout-only tail this never ends and the subprocess timeout fails the test.
        done = subprocess.run([sys.executable, "-m", "powersell.cli", "topics", "tail", TOPIC,
                               "--idle-timeout", "600"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                                   **principal_env(kafka, OPERATOR)})
    finally:
        stop.set()
        busy.join()
        producer.close()
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert any(l["partition"] == first.partition and l["offset"] == first.offset for l in lines)


def test_follow_is_an_explicit_flag():
    from powersell.cli import build_parser
    assert build_parser().parse_args(["topics", "tail", TOPIC, "--follow"]).follow
    assert not build_parser().parse_args(["topics", "tail", TOPIC]).follow
