"""Looking up an erased subject says it was erased: after `erase`, `decrypt` of the subject (whose
audience record is now a tombstone) answers "erased", not "no record", and the attempt is audited;
a subject that was never there still gets "no record"."""

from __future__ import annotations

import uuid

import pytest

from pipeline_core.keystore import LocalKeyStore
from tests.integration.test_decrypt_kafka import (ACTOR, EMAIL, REASON, _audits_since, _member, _publish, end_offsets,
                                                  run_cli)

pytestmark = pytest.mark.kafka


def test_when_an_erased_subject_is_decrypted_then_it_says_erased_and_the_attempt_is_audited(
        kafka, tmp_path, monkeypatch, capsys):
    subject, stranger = (f"shopee:test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    _publish(kafka, subject, _member(subject, store.seal(subject, EMAIL.encode())))
    code, _, err = run_cli(["erase", subject, "--reference", "SUP-4711", "--yes"], tmp_path / "keys", monkeypatch,
                           capsys)
    assert code == 0, err

    since = end_offsets(kafka, ("audit.access",))
    code, out, err = run_cli(["decrypt", subject, "--reason", REASON, "--actor", ACTOR], tmp_path / "keys",
                             monkeypatch, capsys)
    assert code == 2 and out == ""
    assert "the subject was erased" in err and "no record" not in err
    assert [(a["field"], a["outcome"]) for a in _audits_since(kafka, since, subject)] == [
        ("audience.marketing/email_ciphertext", "KEY_DESTROYED"), ("audience.marketing/phone_ciphertext", "KEY_DESTROYED")]

    code, out, err = run_cli(["decrypt", stranger, "--reason", REASON, "--actor", ACTOR], tmp_path / "keys",
                             monkeypatch, capsys)
    assert code == 2 and "no record for this subject" in err and "erased" not in err
