"""Who may receive which messages (R6): the marketing audience (sellers who opted in and
have not opted out) and the service-announcement audience (every active customer, no
opt-out). Buyers are never members: only shops have contact records here.

Membership is decided from the consent book *now* (not at an event's time) whenever a
shop's contact details or its marketing/connection consent change. Contact details are
sealed under the shop's data key as soon as they are read, so the worker's state and the
audience topics hold ciphertext only, and erasing the shop (destroying its key) makes
every copy unreadable.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, MutableMapping

from streams.consent import MARKETING, ConsentBook, Decision
from pipeline_core.keystore import KeyStore

MARKETING_TOPIC = "audience.marketing"
SERVICE_TOPIC = "audience.service"
AUDIENCE_NAME = "com.powersell.pipeline.audience.AudienceMember"


@dataclass(frozen=True)
class AudienceChange:
    topic: str
    key: str
    record: dict[str, Any] | None  # None: a tombstone, the subject leaves the audience
    decision: Decision


class Audiences:
    """`contacts` maps shop key -> sealed contact (JSON-able; a Faust table in the worker)."""

    def __init__(self, keystore: KeyStore, book: ConsentBook, contacts: MutableMapping[str, Any],
                 policy_version: str) -> None:
        self.keystore, self.book, self.contacts, self.policy_version = keystore, book, contacts, policy_version

    def shop_seen(self, subject: str, raw_shop: dict[str, Any]) -> list[AudienceChange]:
        """A shop event passed the connection gate: keep its contact details (sealed), then re-decide."""
        seller = raw_shop.get("seller") or {}
        sealed = {name: base64.b64encode(self.keystore.seal(subject, value.encode("utf-8"))).decode("ascii")
                  for name, value in (("email", seller.get("email")), ("phone", seller.get("phone"))) if value}
        self.contacts[subject] = {"marketplace": raw_shop["marketplace"].lower(), "country": raw_shop.get("country"),
                                  **sealed, "member_of": (self.contacts.get(subject) or {}).get("member_of", [])}
        return self.decide(subject)

    def consent_changed(self, subject: str) -> list[AudienceChange]:
        if subject not in self.contacts:
            return []  # no contact details: nobody to add; a buyer subject never has any
        changes = self.decide(subject)
        if not self.book.is_active_customer(subject) and self.book.status_at(f"{subject}|{MARKETING}|") is None:
            del self.contacts[subject]  # disconnected and no marketing record (e.g. erased): forget the sealed contact
        return changes

    def decide(self, subject: str) -> list[AudienceChange]:
        contact = self.contacts.get(subject)
        if contact is None:
            return []
        contact = self._openable(subject, contact)
        active = self.book.is_active_customer(subject)
        wanted = {
            SERVICE_TOPIC: Decision(True, "SERVICE_ANNOUNCEMENTS") if active
            else Decision(False, "SERVICE_ANNOUNCEMENTS", "no_consent"),
            MARKETING_TOPIC: self.book.decide(subject, MARKETING, None),
        }
        was = set(contact.get("member_of", []))
        changes = []
        for topic, decision in wanted.items():
            if decision.allowed:
                changes.append(AudienceChange(topic, subject, self._member(subject, topic, contact), decision))
            elif topic in was:
                changes.append(AudienceChange(topic, subject, None, decision))
        now_in = sorted(t for t, d in wanted.items() if d.allowed)
        if now_in != sorted(was):
            self.contacts[subject] = {**contact, "member_of": now_in}
        return changes

    def _openable(self, subject: str, contact: dict[str, Any]) -> dict[str, Any]:
        """The contact without sealed values this key store cannot open (sealed under another store's key,
        e.g. kept in the table from before the store was replaced): a member whose contact details nobody
        can read helps no one. The shop's next event seals them again."""
        stale = [name for name in ("email", "phone")
                 if contact.get(name) and self.keystore.state_of(base64.b64decode(contact[name])) != "live"]
        if stale:
            contact = {k: v for k, v in contact.items() if k not in stale}
            self.contacts[subject] = contact
        return contact

    def _member(self, subject: str, topic: str, contact: dict[str, Any]) -> dict[str, Any]:
        def unb64(name: str) -> bytes | None:
            return base64.b64decode(contact[name]) if contact.get(name) else None
        return {
            "subject_id": subject, "audience": "MARKETING" if topic == MARKETING_TOPIC else "SERVICE",
            "marketplace": contact["marketplace"], "country": contact.get("country"),
            "email_ciphertext": unb64("email"), "phone_ciphertext": unb64("phone"),
            "consent_time": None, "policy_version": self.policy_version,
            "updated_time": datetime.now(timezone.utc),
        }
