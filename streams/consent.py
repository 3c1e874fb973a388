"""Consent as data (R1, R4, R6, R13): the state of every subject's consents, built from
`consent.events`, and the decisions the stream processors make with it.

A decision is taken at the event's own time: a withdrawal effective at T stops events
stamped after T and lets earlier ones through; a later re-grant opens again. History
older than the first connection grant passes (it is read because the owner connected); for
other purposes (sharing) nothing before the first grant was authorised. So the
book keeps a short history of changes per consent key, not only the latest status.
Deny by default: no record, a withdrawal or an expiry all mean no.

The store is any mutable mapping of consent key -> [[effective_ms, status], ...]: a
plain dict in tests, a Faust table (JSON values, changelog-backed) in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, MutableMapping

from pipeline_core.consent_records import CONNECTION
from pipeline_core.marketplaces import MARKETPLACES  # a shop's connection scope is its marketplace
from pipeline_core.topics import consent_key

MARKETING = "MARKETING_CONTACT"
SERVICE = "SERVICE_ANNOUNCEMENTS"
SHARING = "THIRD_PARTY_SHARING"
MAX_CHANGES = 32  # per key; older changes only matter for events older than all of them

# Filter reasons, as counted in metrics (records_filtered_total{reason}).
DENIED_REASONS = {None: "no_consent", "WITHDRAWN": "consent_withdrawn", "EXPIRED": "consent_expired"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    purpose: str
    reason: str | None = None  # why not: no_consent, consent_withdrawn, consent_expired

    @property
    def outcome(self) -> str:
        return "allowed" if self.allowed else "denied"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _rank(status: str) -> int:
    # At the same instant a withdrawal or expiry sorts after a grant, so it wins (see consent_records.newer).
    return 0 if status == "GRANTED" else 1


class ConsentBook:
    def __init__(self, store: MutableMapping[str, Any] | None = None) -> None:
        self.store: MutableMapping[str, Any] = {} if store is None else store

    def apply(self, key: str, record: dict[str, Any] | None) -> bool:
        """Add one consent change (or forget the key on a tombstone: erasure). True when the state changed."""
        if record is None:
            if key in self.store:
                del self.store[key]
                return True
            return False
        change = [_ms(record["effective_time"]), record["status"]]
        history = [list(c) for c in self.store.get(key) or []]
        if change in history:
            return False  # the same change reported twice (push retried, two paths)
        history.append(change)
        history.sort(key=lambda c: (c[0], _rank(c[1])))
        self.store[key] = history[-MAX_CHANGES:]
        return True

    def status_at(self, key: str, at: datetime | None = None, first_covers_past: bool = True) -> str | None:
        """The status in force at `at` (default: the latest change); None when nothing is recorded.

        An event older than every recorded change is the shop's history, read because the owner
        connected: the first change decides it (a first grant covers the past; a first withdrawal
        does not). Only a connection works so: sharing granted today does not disclose what
        happened before it, so for other purposes (`first_covers_past=False`) nothing was in force."""
        history = self.store.get(key) or []
        if not history:
            return None
        if at is None:
            return history[-1][1]
        at_ms, status = _ms(at), history[0][1]
        if not first_covers_past and at_ms < history[0][0]:
            return None
        for effective_ms, change in history:
            if effective_ms > at_ms:
                break
            status = change
        return status

    def decide(self, subject: str, purpose: str, scope: str | None, at: datetime | None = None) -> Decision:
        status = self.status_at(consent_key(subject, purpose, scope), at, first_covers_past=purpose == CONNECTION)
        if status == "GRANTED":
            return Decision(True, purpose)
        return Decision(False, purpose, DENIED_REASONS.get(status, "no_consent"))

    def connection(self, subject: str, marketplace: str, at: datetime | None = None) -> Decision:
        return self.decide(subject, CONNECTION, marketplace, at)

    def is_active_customer(self, subject: str) -> bool:
        """A customer is active while any of its marketplace connections is granted now."""
        return any(self.status_at(consent_key(subject, CONNECTION, m)) == "GRANTED" for m in MARKETPLACES)
