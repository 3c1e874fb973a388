"""Looking up an erased subject says it was erased: after `erase`, `decrypt` of the subject (whose
audience record is now a tombstone) answers "erased", not "no record", and the attempt is audited;
a subject that was never there still gets "no record". `topics tail` marks the records whose
sealed values need a destroyed key."""

from __future__ import annotations

import json
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


def test_when_a_topic_is_tailed_after_an_erasure_then_the_erased_subjects_records_say_so(
        kafka, tmp_path, monkeypatch, capsys):
    erased, kept = (f"shopee:test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    for subject in (erased, kept):
        _publish(kafka, subject, _member(subject, store.seal(subject, EMAIL.encode())))
    code, _, err = run_cli(["erase", erased, "--reference", "SUP-4712", "--yes"], tmp_path / "keys", monkeypatch,
                           capsys)
    assert code == 0, err
    code, out, err = run_cli(["topics", "tail", "audience.marketing", "--idle-timeout", "3"], tmp_path / "keys",
                             monkeypatch, capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    mine = {(line["key"], "tombstone" if line.get("tombstone") else "record"): line for line in lines
            if line["key"] in (erased, kept)}
    assert mine[(erased, "record")]["erased"] is True and mine[(erased, "record")]["sealed"] == {"destroyed": 1}
    assert (erased, "tombstone") in mine  # and the record itself is tombstoned
    assert mine[(kept, "record")]["erased"] is False and mine[(kept, "record")]["sealed"] == {"live": 1}
    assert "hold values of erased subjects" in err
