"""Building and reading consent records (schema ConsentEvent on `consent.events`),
the same way everywhere: connectors, the webhook receiver, the CLI and stream processors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from .topics import consent_key

# Version of PowerSell's published privacy policy the consents refer to.
POLICY_VERSION = "powersell-privacy-2024"
CONNECTION = "SHOP_DATA_CONNECTION"


def consent_record(*, subject_type: str, subject_id: str, purpose: str, scope: str | None, status: str,
                   source: str, proof_ref: str, effective_time: datetime, legal_basis: str = "CONSENT",
                   policy_version: str = POLICY_VERSION) -> tuple[str, dict]:
    """(key, record) for one consent change. The event id is derived from its content, so the same
    change reported twice (a push retried, an authorisation seen by two paths) is one event."""
    material = f"{subject_id}|{purpose}|{scope or ''}|{status}|{int(effective_time.timestamp() * 1000)}"
    record = {
        "event_id": hashlib.sha256(material.encode("utf-8")).hexdigest()[:32],
        "subject_type": subject_type, "subject_id": subject_id, "purpose": purpose, "purpose_scope": scope,
        "status": status, "legal_basis": legal_basis, "policy_version": policy_version,
        "effective_time": effective_time, "recorded_time": datetime.now(timezone.utc),
        "source": source, "proof_ref": proof_ref,
    }
    return consent_key(subject_id, purpose, scope), record


@dataclass(frozen=True)
class ConsentState:
    status: str
    effective_time: datetime


def newer(current: ConsentState | None, candidate: ConsentState) -> bool:
    """Consent changes apply by effective time; a change reported late never undoes a later one.
    At the same instant a withdrawal or expiry wins over a grant, whatever the arrival order."""
    if current is None or candidate.effective_time != current.effective_time:
        return current is None or candidate.effective_time > current.effective_time
    return candidate.status != "GRANTED" or current.status == "GRANTED"
