"""`powersell-pipeline decrypt` against the real broker: the value comes from the subject's latest
audience record, and every attempt leaves exactly one AccessAudit record on audit.access."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from powersell import cli
from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, end_offsets, read_since
from streams.key_commands import add_commands
from pipeline_core.keystore import LocalKeyStore

pytestmark = pytest.mark.kafka

EMAIL = "lan.nguyen.shop@gmail.com"
REASON = "SUP-4711 seller asked for the e-mail on file"
ACTOR = "support.linh"


def _registered() -> bool:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "decrypt" in sub.choices


def _entry_point() -> list[str]:
    """The installed console script beside this interpreter, else the module it runs."""
    script = Path(sys.executable).parent / "powersell-pipeline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "powersell.cli"]


def run_cli(argv, keystore_dir, monkeypatch, capsys) -> tuple[int, str, str]:
    """The real command: a subprocess once cli.py registers it, else cli.main with our commands added."""
    if _registered():
        done = subprocess.run([*_entry_point(), *argv], capture_output=True, text=True,
                              env={**os.environ, "POWERSELL_KEYSTORE_DIR": str(keystore_dir)}, timeout=120)
        return done.returncode, done.stdout, done.stderr
    original = cli.build_parser

    def build():
        parser = original()
        add_commands(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)))
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    monkeypatch.setenv("POWERSELL_KEYSTORE_DIR", str(keystore_dir))
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _member(subject: str, email: bytes | None) -> dict:
    now = datetime.now(timezone.utc)
    return {"subject_id": subject, "audience": "MARKETING", "marketplace": "shopee", "country": "VN",
            "email_ciphertext": email, "phone_ciphertext": None, "consent_time": now, "policy_version": "test",
            "updated_time": now}


def _publish(settings, subject: str, record: dict | None) -> None:
    publisher = AvroPublisher(settings, client_id="test-decrypt")
    try:
        if record is None:  # a tombstone
            future = publisher.producer.send("audience.marketing", key=subject.encode(), value=None)
        else:
            future = publisher.send("audience.marketing", subject, record)
        publisher.flush()
        future.get(timeout=30)
    finally:
        publisher.close()


def _audits_since(settings, since, subject: str) -> list[dict]:
    registry = default_registry()
    records = [registry.decode(value)[1] for _, _, value, _ in read_since(settings, since)]
    return [r for r in records if r["subject_id"] == subject]


@pytest.fixture
def subject() -> str:
    return f"shopee:test-{uuid.uuid4().hex[:12]}"  # the broker is shared between runs


def test_when_support_decrypts_then_the_value_is_printed_and_one_audit_record_says_who_and_why(
        kafka, tmp_path, subject, monkeypatch, capsys):
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    _publish(kafka, subject, _member(subject, store.seal(subject, b"old@example.com")))
    _publish(kafka, subject, _member(subject, store.seal(subject, EMAIL.encode())))  # the latest wins
    since = end_offsets(kafka, ("audit.access",))

    code, out, err = run_cli(["decrypt", subject, "--reason", REASON, "--actor", ACTOR],
                             tmp_path / "keys", monkeypatch, capsys)
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [
        {"subject": subject, "field": "email_ciphertext", "value": EMAIL},
        {"subject": subject, "field": "phone_ciphertext", "value": None}]  # nothing to decrypt, nothing audited
    audits = _audits_since(kafka, since, subject)
    assert [(a["actor"], a["field"], a["reason"], a["outcome"]) for a in audits] == [
        (ACTOR, "audience.marketing/email_ciphertext", REASON, "DECRYPTED")]
    assert EMAIL not in err

    store.destroy(subject)  # crypto-shredding: the record is still on the topic, its key is gone
    since = end_offsets(kafka, ("audit.access",))
    code, out, err = run_cli(["decrypt", subject, "--reason", REASON, "--actor", ACTOR, "--field", "email_ciphertext"],
                             tmp_path / "keys", monkeypatch, capsys)
    assert code == 2 and out == ""
    assert "the subject was erased; its data key is destroyed" in err
    assert [(a["actor"], a["outcome"]) for a in _audits_since(kafka, since, subject)] == [(ACTOR, "KEY_DESTROYED")]


@pytest.mark.parametrize("history", ["never published", "tombstoned"])
def test_when_the_subject_has_no_live_record_then_exit_2_and_nothing_is_audited(
        kafka, tmp_path, subject, monkeypatch, capsys, history):
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    if history == "tombstoned":
        _publish(kafka, subject, _member(subject, store.seal(subject, EMAIL.encode())))
        _publish(kafka, subject, None)
    else:
        store.data_key("shopee:someone-else")  # a store exists; the subject is simply unknown
    since = end_offsets(kafka, ("audit.access",))
    code, out, err = run_cli(["decrypt", subject, "--reason", REASON, "--actor", ACTOR],
                             tmp_path / "keys", monkeypatch, capsys)
    assert code == 2 and out == "" and "no record for this subject on audience.marketing" in err
    assert _audits_since(kafka, since, subject) == []


def test_when_the_reason_is_missing_then_exit_2_before_kafka_or_keys_are_touched(kafka, tmp_path, subject,
                                                                                 monkeypatch, capsys):
    code, out, err = run_cli(["decrypt", subject], tmp_path / "no-store", monkeypatch, capsys)
    assert code == 2 and out == "" and "reason" in err
    assert not (tmp_path / "no-store").exists()
