"""Erasure on the real broker: `powersell-pipeline erase` destroys subject A's key, tombstones A's
keys in the partitions that hold them, leaves subject B alone and publishes a receipt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.consent_records import consent_record
from pipeline_core.kafka_io import AvroPublisher, end_offsets, partition_for, read_since
from pipeline_core.topics import topic
from streams.actions.pseudonym import pseudonymise
from streams.erasure import HANDLED_HEADER, PSEUDONYM_NAMESPACE, RECEIPTS_TOPIC, REQUESTS_TOPIC, KafkaCompactedLog, \
    SubjectKeys
from pipeline_core.keystore import KeyDestroyed, LocalKeyStore

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
SEEDED = ("consent.events", "audience.marketing", "redacted.shops")
WATCHED = SEEDED + ("audience.service", "connector.checkpoints", REQUESTS_TOPIC, RECEIPTS_TOPIC)
PSEUDONYM_KEY = bytes(range(32))
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def seed(publisher: AvroPublisher, store: LocalKeyStore, subject: str) -> tuple[bytes, list[tuple[str, str]]]:
    """Two consents, a marketing audience member with a sealed e-mail, a redacted shop. Returns the
    sealed e-mail and the (topic, key) pairs written."""
    marketplace, shop_id = subject.split(":")
    written = []
    for purpose, scope in (("SHOP_DATA_CONNECTION", marketplace), ("MARKETING_CONTACT", None)):
        key, record = consent_record(subject_type="SHOP", subject_id=subject, purpose=purpose, scope=scope,
                                     status="GRANTED", source="POWERSELL_APP", proof_ref="test",
                                     effective_time=NOW - timedelta(days=1))
        publisher.send("consent.events", key, record)
        written.append(("consent.events", key))
    email = store.seal(subject, f"seller-{shop_id}@example.com".encode())
    publisher.send("audience.marketing", subject, {
        "subject_id": subject, "audience": "MARKETING", "marketplace": marketplace, "country": "VN",
        "email_ciphertext": email, "phone_ciphertext": None, "consent_time": NOW, "policy_version": "test",
        "updated_time": NOW})
    publisher.send("redacted.shops", subject, {
        "event_id": uuid.uuid4().hex, "marketplace": marketplace.upper(), "shop_id": shop_id, "event_time": NOW,
        "ingest_time": NOW, "ingest_source": "WEBHOOK", "policy_version": "test", "shop_name": "Test shop",
        "country": "VN", "status": "NORMAL", "authorised_until": None, "seller": None})
    written += [("audience.marketing", subject), ("redacted.shops", subject)]
    return email, written


def run_erase(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    script = shutil.which("powersell-pipeline", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "powersell.cli"]
    return subprocess.run(command + argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)


def test_when_a_shop_is_erased_then_its_keys_are_tombstoned_in_place_its_key_is_gone_and_others_stay(
        kafka, tmp_path, monkeypatch):
    keystore_dir = tmp_path / "keystore"
    monkeypatch.setenv("POWERSELL_KEYSTORE_DIR", str(keystore_dir))
    store = LocalKeyStore.in_dir(keystore_dir)
    a, b = f"shopee:{uuid.uuid4().hex[:12]}", f"shopee:{uuid.uuid4().hex[:12]}"
    since = end_offsets(kafka, WATCHED)

    publisher = AvroPublisher(kafka)
    try:
        a_email, a_written = seed(publisher, store, a)
        b_email, b_written = seed(publisher, store, b)
        publisher.flush()
    finally:
        publisher.close()

    env = {**os.environ, "POWERSELL_KEYSTORE_DIR": str(keystore_dir), "POWERSELL_PSEUDONYM_KEY": PSEUDONYM_KEY.hex(),
           "PYTHONPATH": str(REPO)}
    done = run_erase(["erase", a, "--reference", "TICKET-7", "--requested-by", "it-test", "--yes"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])

    records = read_since(kafka, since)
    placed: dict[tuple[str, str], list[tuple[int, bool]]] = {}  # (topic, key) -> [(partition, is tombstone)]
    for name, key, value, rec in records:
        if key is not None:
            placed.setdefault((name, key.decode()), []).append((rec.partition, value is None))

    # A: every record written is followed by a tombstone in its own partition (the catalog's partitioner)
    for name, key in a_written:
        history = placed[(name, key)]
        assert history[-1][1] is True, (name, "last record is not a tombstone")
        assert {p for p, _ in history} == {partition_for(topic(name), key)}, name
    # B: untouched
    for name, key in b_written:
        assert [tomb for _, tomb in placed[(name, key)]] == [False], name
    # and no key of A is live any more (read back the way the eraser reads)
    log = KafkaCompactedLog(kafka)
    try:
        for match in SubjectKeys("SHOP", a).matches:
            assert log.live_keys(match.topic, match) == set(), match.topic
        b_consent = SubjectKeys("SHOP", b).matches[0]
        assert len(log.live_keys(b_consent.topic, b_consent)) == 2
    finally:
        log.close()

    # the receipt: on the topic, keyed by the pseudonym, as printed, naming no one
    pseudonym = pseudonymise(PSEUDONYM_KEY, PSEUDONYM_NAMESPACE, "", a)
    receipts = [(key, value) for name, key, value, _ in records if name == RECEIPTS_TOPIC]
    assert [key for key, _ in receipts] == [pseudonym.encode()]
    assert a.split(":")[1].encode() not in receipts[0][1]
    receipt = default_registry().decode(receipts[0][1])[1]
    assert receipt["subject_pseudonym"] == printed["subject_pseudonym"] == pseudonym
    assert receipt["data_key_destroyed"] is True
    assert {t["topic"]: t["count"] for t in receipt["tombstones"]} == {
        "consent.events": 2, "audience.marketing": 1, "audience.service": 0, "redacted.shops": 1,
        "connector.checkpoints": 0}
    assert pseudonym in done.stderr and a not in done.stderr

    # the request is kept as evidence, marked as carried out by the command
    requests = [rec for name, _, _, rec in records if name == REQUESTS_TOPIC]
    assert len(requests) == 1 and HANDLED_HEADER in dict(requests[0].headers)
    assert default_registry().decode(requests[0].value)[1]["request_id"] == receipt["request_id"]

    # crypto-shredding: A's ciphertext is unreadable for every process, B's still opens
    fresh = LocalKeyStore.in_dir(keystore_dir)
    with pytest.raises(KeyDestroyed):
        fresh.open(None, a_email)
    assert fresh.open(b, b_email) == f"seller-{b.split(':')[1]}@example.com".encode()

    # erasing again is harmless
    again = run_erase(["erase", a, "--reference", "TICKET-7", "--yes"], env)
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads(again.stdout.strip().splitlines()[-1])
    assert second["data_key_destroyed"] is False and all(t["count"] == 0 for t in second["tombstones"])


def test_when_the_subject_is_malformed_then_the_command_exits_2_without_naming_it(kafka, tmp_path):
    env = {**os.environ, "POWERSELL_KEYSTORE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = run_erase(["erase", "shopee:12|MARKETING_CONTACT", "--reference", "T-1", "--yes"], env)
    assert done.returncode == 2
    assert "marketplace:shop_id" in done.stderr and "MARKETING_CONTACT" not in done.stderr
