"""decrypt_field: no reason, no decryption; every attempt audited before any plaintext leaves;
no plaintext, reason or key material in any error."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline_core.avro_codec import default_registry
from streams.access import (AccessError, AuditFailed, AuditLog, KafkaAuditLog, MemoryAuditLog, ReasonRequired,
                            decrypt_field)
from pipeline_core.keystore import CannotDecrypt, KeyDestroyed, LocalKeyStore

SUBJECT = "shopee:220145871"
PLAIN = b"lan.nguyen.shop@gmail.com"
REASON = "SUP-4711 seller asked for their e-mail"
FIELD = "audience.marketing/email_ciphertext"
ACCESS_AUDIT = "com.powersell.pipeline.audit.AccessAudit"


@pytest.fixture
def store(tmp_path) -> LocalKeyStore:
    return LocalKeyStore.in_dir(tmp_path)


class CountingStore:
    """Passes open() through to a real store and counts the calls."""

    def __init__(self, store: LocalKeyStore) -> None:
        self.store, self.opens = store, 0

    def open(self, subject, ciphertext):
        self.opens += 1
        return self.store.open(subject, ciphertext)


class FailingAuditLog(AuditLog):
    """A sink that cannot store; its error repeats the record, as a careless sink might."""

    def record(self, audit_record):
        raise RuntimeError(f"cannot store {audit_record!r}")


def _decrypt(store, ciphertext, audit, subject=SUBJECT, **kw):
    args = {"actor": "support.linh", "field": FIELD, "reason": REASON, **kw}
    return decrypt_field(store, subject, ciphertext, audit=audit, **args)


def _assert_clean(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert PLAIN.decode() not in text and REASON not in text and "SUP-4711" not in text


# ---------------------------------------------------------------- reason
@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n", "SUP-12", " 1234567 ", 12345678])
def test_when_the_reason_is_missing_or_too_short_then_nothing_is_decrypted_and_the_refusal_is_audited(store, reason):
    counting, audit = CountingStore(store), MemoryAuditLog()
    with pytest.raises(ReasonRequired) as caught:
        _decrypt(counting, store.seal(SUBJECT, PLAIN), audit, reason=reason)
    assert counting.opens == 0 and [r["outcome"] for r in audit.records] == ["REFUSED"]
    assert audit.records[0]["subject_id"] == SUBJECT
    if isinstance(reason, str) and reason.strip():
        assert reason.strip() not in str(caught.value)


@pytest.mark.parametrize("missing", [{"actor": ""}, {"actor": "  "}, {"field": ""}, {"subject": ""}])
def test_when_actor_field_or_subject_is_missing_then_nothing_is_decrypted_and_the_refusal_is_audited(store, missing):
    counting, audit = CountingStore(store), MemoryAuditLog()
    with pytest.raises(AccessError):
        _decrypt(counting, store.seal(SUBJECT, PLAIN), audit, **missing)
    assert counting.opens == 0 and [r["outcome"] for r in audit.records] == ["REFUSED"]
    default_registry_encode(audit.records[0])


def test_when_the_reason_has_eight_characters_then_it_is_enough(store):
    assert _decrypt(store, store.seal(SUBJECT, PLAIN), MemoryAuditLog(), reason="SUP-1234") == PLAIN


# ---------------------------------------------------------------- outcomes
def test_when_decrypted_then_one_audit_record_that_the_schema_accepts_names_who_whose_what_and_why(store):
    audit = MemoryAuditLog()
    assert _decrypt(store, store.seal(SUBJECT, PLAIN), audit) == PLAIN
    [record] = audit.records
    assert {k: record[k] for k in ("actor", "subject_id", "field", "reason", "outcome")} == {
        "actor": "support.linh", "subject_id": SUBJECT, "field": FIELD, "reason": REASON, "outcome": "DECRYPTED"}
    assert isinstance(record["access_time"], datetime) and record["access_time"].tzinfo is not None
    name, decoded = default_registry().decode(default_registry().encode(ACCESS_AUDIT, record))
    assert name == ACCESS_AUDIT and decoded["audit_id"] == record["audit_id"]
    assert PLAIN not in default_registry().encode(ACCESS_AUDIT, record)


def test_when_decrypted_twice_then_each_access_has_its_own_audit_id(store):
    audit, sealed = MemoryAuditLog(), store.seal(SUBJECT, PLAIN)
    _decrypt(store, sealed, audit)
    _decrypt(store, sealed, audit)
    assert len({r["audit_id"] for r in audit.records}) == 2


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize("case, error, outcome", [
    ("destroyed", KeyDestroyed, "KEY_DESTROYED"),
    ("other subject", CannotDecrypt, "CANNOT_DECRYPT"),
    ("tampered", CannotDecrypt, "CANNOT_DECRYPT"),
    ("not a ciphertext", CannotDecrypt, "CANNOT_DECRYPT"),
])
def test_when_the_ciphertext_cannot_be_opened_then_the_attempt_is_audited_and_the_error_reraised_clean(
        store, case, error, outcome):
    sealed, subject = store.seal(SUBJECT, PLAIN), SUBJECT
    if case == "destroyed":
        store.destroy(SUBJECT)
    elif case == "other subject":
        subject = "lazada:99"
        store.data_key(subject)
    elif case == "tampered":
        sealed = _flip_last(sealed)
    else:
        sealed = PLAIN
    audit = MemoryAuditLog()
    with pytest.raises(error) as caught:
        _decrypt(store, sealed, audit, subject=subject)
    assert [(r["subject_id"], r["outcome"]) for r in audit.records] == [(subject, outcome)]
    if error is CannotDecrypt:
        assert not isinstance(caught.value, KeyDestroyed)
    _assert_clean(caught.value)


# ---------------------------------------------------------------- audit before plaintext
@pytest.mark.parametrize("destroyed", [False, True])
def test_when_the_audit_cannot_be_written_then_no_plaintext_and_an_error_without_the_record(store, destroyed):
    sealed = store.seal(SUBJECT, PLAIN)
    if destroyed:
        store.destroy(SUBJECT)
    with pytest.raises(AuditFailed) as caught:
        _decrypt(store, sealed, FailingAuditLog())
    _assert_clean(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # the sink's text is not chained


def test_when_the_audit_is_written_then_it_happens_before_the_plaintext_is_returned(store):
    seen = []

    class OrderAuditLog(AuditLog):
        def record(self, audit_record):
            seen.append(("audit", audit_record["outcome"]))

    seen.append(("returned", _decrypt(store, store.seal(SUBJECT, PLAIN), OrderAuditLog())))
    assert seen == [("audit", "DECRYPTED"), ("returned", PLAIN)]


# ---------------------------------------------------------------- Kafka sink (fake publisher)
class FakeFuture:
    def __init__(self, events, fail):
        self.events, self.fail = events, fail

    def get(self, timeout=None):
        self.events.append("ack")
        if self.fail:
            raise TimeoutError("no ack from the broker")


class FakePublisher:
    def __init__(self, fail=False):
        self.events, self.sent, self.fail = [], [], fail

    def send(self, topic_name, key, record):
        self.sent.append((topic_name, key, record))
        self.events.append("send")
        return FakeFuture(self.events, self.fail)

    def flush(self, timeout=None):
        self.events.append("flush")

    def close(self):
        self.events.append("close")


def test_when_the_kafka_audit_log_records_then_it_sends_to_audit_access_by_subject_and_waits_for_the_ack(store):
    publisher = FakePublisher()
    assert _decrypt(store, store.seal(SUBJECT, PLAIN), KafkaAuditLog(None, publisher=publisher)) == PLAIN
    [(topic_name, key, record)] = publisher.sent
    assert (topic_name, key, record["outcome"]) == ("audit.access", SUBJECT, "DECRYPTED")
    assert publisher.events == ["send", "flush", "ack"]


def test_when_the_broker_does_not_acknowledge_then_no_plaintext(store):
    publisher = FakePublisher(fail=True)
    with pytest.raises(AuditFailed, match="TimeoutError") as caught:
        _decrypt(store, store.seal(SUBJECT, PLAIN), KafkaAuditLog(None, publisher=publisher))
    _assert_clean(caught.value)


def default_registry_encode(record):
    from pipeline_core.avro_codec import default_registry
    default_registry().encode("com.powersell.pipeline.audit.AccessAudit", record)
