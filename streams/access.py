"""The one way to decrypt a protected field (R5): a reason is required and every attempt is audited.

`decrypt_field` opens a ciphertext with the key store and writes an AccessAudit record (who,
whose data, which field, why, when, what happened) to an audit sink before it hands back any
plaintext. When the audit cannot be written, nothing is returned: an access that left no trace
must not happen.

    AuditLog            the sink: one method, record(audit_record)
     ├── MemoryAuditLog a list, for tests
     └── KafkaAuditLog  audit.access, waiting for the broker's acknowledgement

AccessError
 ├── ReasonRequired   no reason, or one too short to mean anything; nothing was decrypted (the refusal is audited)
 └── AuditFailed      the audit record was not written; no plaintext was returned
Key store errors (CannotDecrypt, KeyDestroyed) are re-raised as they are, after their audit.
No message carries plaintext, the reason's text or key material.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Any

from pipeline_core.errors import PipelineError
from pipeline_core.keystore import KeyDestroyed, KeyStore, KeyStoreError

__all__ = ["AUDIT_TOPIC", "MIN_REASON_LENGTH", "AccessError", "AuditFailed", "AuditLog", "KafkaAuditLog",
           "MemoryAuditLog", "ReasonRequired", "audit_record", "audit_refusal", "check_reason", "decrypt_field"]

AUDIT_TOPIC = "audit.access"
MIN_REASON_LENGTH = 8  # long enough for a ticket reference such as "SUP-1234", too long for "x" or "test"
ACK_TIMEOUT_S = 30.0


class AccessError(PipelineError):
    """Root of the access audit's errors."""


class ReasonRequired(AccessError):
    """The reason is missing or too short; nothing was decrypted (the refused attempt is audited)."""


class AuditFailed(AccessError):
    """The audit record could not be written, so no plaintext was returned."""


# ---------------------------------------------------------------- sinks
class AuditLog(ABC):
    """Where AccessAudit records go. record() returns only once the record is stored; it raises otherwise."""

    @abstractmethod
    def record(self, audit_record: dict[str, Any]) -> None:
        """Store one AccessAudit record (a dict with the schema's fields)."""


class MemoryAuditLog(AuditLog):
    """Keeps records in a list: for unit tests and dry runs."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record(self, audit_record: dict[str, Any]) -> None:
        self.records.append(dict(audit_record))


class KafkaAuditLog(AuditLog):
    """Writes to audit.access, keyed by subject, and waits for the broker's acknowledgement (acks=all)."""

    def __init__(self, settings, publisher=None, ack_timeout: float = ACK_TIMEOUT_S) -> None:
        from pipeline_core.kafka_io import AvroPublisher
        self.publisher = publisher or AvroPublisher(settings, client_id="powersell-access-audit")
        self.ack_timeout = ack_timeout

    def record(self, audit_record: dict[str, Any]) -> None:
        future = self.publisher.send(AUDIT_TOPIC, audit_record["subject_id"], audit_record)
        self.publisher.flush(self.ack_timeout)
        future.get(timeout=self.ack_timeout)  # raises unless the broker acknowledged the record

    def close(self) -> None:
        self.publisher.close()

    def __enter__(self) -> KafkaAuditLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- the one function
def check_reason(reason: str | None) -> None:
    """ReasonRequired unless reason has at least MIN_REASON_LENGTH characters besides surrounding spaces."""
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ReasonRequired(f"a reason of at least {MIN_REASON_LENGTH} characters is required to decrypt "
                             "(e.g. the support ticket reference); every decryption is audited")


def audit_record(*, actor: str, subject: str, field: str, reason: str, outcome: str,
                 now: datetime | None = None) -> dict[str, Any]:
    """An AccessAudit record."""
    return {"audit_id": uuid.uuid4().hex, "actor": actor, "subject_id": subject, "field": field,
            "reason": reason, "outcome": outcome, "access_time": now or datetime.now(timezone.utc)}


def audit_refusal(audit: AuditLog, *, actor: Any, subject: Any, field: Any, reason: Any) -> None:
    """Record a refused attempt (nothing was read): who tried is as much a trace as who read. A sink that
    fails here changes nothing: the attempt is refused either way."""
    def text(value: Any) -> str:
        return value.strip() if isinstance(value, str) and value.strip() else "unknown"
    try:
        audit.record(audit_record(actor=text(actor), subject=text(subject), field=text(field),
                                  reason=reason if isinstance(reason, str) else "", outcome="REFUSED"))
    except Exception:  # the sink's text could repeat the record
        pass


def decrypt_field(keystore: KeyStore, subject: str, ciphertext: bytes, *, actor: str, field: str, reason: str,
                  audit: AuditLog) -> bytes:
    """The plaintext of a ciphertext sealed for subject, after an AccessAudit record says who read it and why.

    Outcomes audited: DECRYPTED (then the plaintext is returned), KEY_DESTROYED (the subject was erased)
    and CANNOT_DECRYPT (another subject's ciphertext, unknown key, tampered, key store unreadable); the
    key store's error is re-raised after the audit. AuditFailed when the record is not stored."""
    try:
        check_reason(reason)
        if not isinstance(actor, str) or not actor.strip():
            raise AccessError("an actor (who is asking) is required to decrypt")
        if not isinstance(subject, str) or not subject:
            raise AccessError("a subject is required to decrypt")
        if not isinstance(field, str) or not field:
            raise AccessError("the protected field's name is required to decrypt")
    except AccessError:
        audit_refusal(audit, actor=actor, subject=subject, field=field, reason=reason)
        raise

    plaintext: bytes | None = None
    failure: KeyStoreError | None = None
    try:
        plaintext = keystore.open(subject, bytes(ciphertext))
        outcome = "DECRYPTED"
    except KeyDestroyed as exc:
        failure, outcome = exc, "KEY_DESTROYED"
    except KeyStoreError as exc:  # CannotDecrypt and a key store that cannot be read alike
        failure, outcome = exc, "CANNOT_DECRYPT"

    problem = None
    try:
        audit.record(audit_record(actor=actor, subject=subject, field=field, reason=reason, outcome=outcome))
    except Exception as exc:  # whatever the sink raised, its text could repeat the record: name the type only
        problem = type(exc).__name__
    if problem is not None:  # the plaintext, if any, goes out of scope unreturned
        raise AuditFailed(f"the access audit could not be written ({problem}); nothing was decrypted")
    if failure is not None:
        raise failure
    return plaintext  # type: ignore[return-value]

