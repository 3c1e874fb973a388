"""Third-party sharing (R4, R11): each partner in `schemas/partners.json` gets, on its own
topic, only events of shops that authorised that partner (THIRD_PARTY_SHARING, scope =
partner), and only the allow-listed fields of the *redacted* event, so a partner never sees
more than downstream teams do.

A disclosure happens when a record is sent, so sharing is decided twice: it must have been
granted at the event's time (history from before a grant is not shared) AND still be granted
at send time (a withdrawal stops every later send, including re-reads and backfills of events
stamped before it). `disclosure` is that rule; the worker applies it when it builds a share
and again right before it sends one (`check_at_send`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from schemas import SCHEMA_DIR
from streams.consent import SHARING, ConsentBook, Decision

RECORD_TYPES = {"redacted.shops": "SHOP", "redacted.products": "PRODUCT", "redacted.orders": "ORDER"}
PARTNER_RECORD = "com.powersell.pipeline.partner.PartnerRecord"
WITHDRAWN_AT_SEND = "sharing_withdrawn_at_send"  # the filtered reason of a share dropped at send time


@dataclass(frozen=True)
class Partner:
    name: str
    allow: dict[str, tuple[str, ...]]  # redacted topic -> allow-listed field paths

    @property
    def topic(self) -> str:
        return f"partner.{self.name}"


def load_partners(path=SCHEMA_DIR / "partners.json") -> tuple[Partner, ...]:
    data = json.loads(path.read_text(encoding="utf-8"))["partners"]
    return tuple(Partner(name, {t: tuple(fields) for t, fields in p["topics"].items()}) for name, p in sorted(data.items()))


def project(record: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """Only the allow-listed paths; "a.b" keeps field b of record a, or of every element when a is an array."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = True

    def cut(value: Any, shape: Any) -> Any:
        if shape is True or value is None:
            return value
        if isinstance(value, list):
            return [cut(v, shape) for v in value]
        return {k: cut(value.get(k), sub) for k, sub in shape.items()}

    return {k: cut(record.get(k), sub) for k, sub in tree.items()}


def _json(value: Any) -> str:
    def default(v):
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        raise TypeError(type(v).__name__)
    return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Share:
    partner: Partner
    decision: Decision
    record: dict[str, Any] | None  # a PartnerRecord when allowed


def disclosure(book: ConsentBook, subject: str, partner: str, event_time: datetime, now: datetime) -> Decision:
    """Allowed only if sharing with partner was granted at the event's time and is still granted now."""
    at_event = book.decide(subject, SHARING, partner, event_time)
    if not at_event.allowed:
        return at_event
    return book.decide(subject, SHARING, partner, now)


def still_granted(book: ConsentBook, subject: str, partner: str, now: datetime) -> Decision:
    """The send-time half of `disclosure`, for a share built a moment ago."""
    return book.decide(subject, SHARING, partner, now)


@dataclass(frozen=True)
class SendCheck:
    send: tuple                                  # the entries to send, partner shares still granted among them
    withdrawn: tuple[tuple[str, Decision], ...]  # (partner topic, send-time decision) of each share dropped


def check_at_send(book: ConsentBook, subject: str, entries: tuple, now: datetime) -> SendCheck:
    """A record's outputs (topic, key, value) as they are about to be sent: a partner share whose sharing
    was withdrawn since it was built is dropped. It counts as filtered (WITHDRAWN_AT_SEND) for the sharing
    stage, never as produced: every share reaching this check ends produced, filtered or dead-lettered."""
    send, withdrawn = [], []
    for entry in entries:
        if entry[0].startswith("partner."):
            decision = still_granted(book, subject, entry[0].removeprefix("partner."), now)
            if not decision.allowed:
                withdrawn.append((entry[0], decision))
                continue
        send.append(entry)
    return SendCheck(tuple(send), tuple(withdrawn))


def shares(partners: tuple[Partner, ...], book: ConsentBook, redacted_topic: str, subject: str,
           redacted: dict[str, Any], now: datetime | None = None) -> list[Share]:
    now = now or datetime.now(timezone.utc)
    out = []
    for partner in partners:
        paths = partner.allow.get(redacted_topic)
        if not paths:
            continue
        decision = disclosure(book, subject, partner.name, redacted["event_time"], now)
        record = None
        if decision.allowed:
            record = {"event_id": redacted["event_id"], "partner": partner.name, "record_type": RECORD_TYPES[redacted_topic],
                      "event_time": redacted["event_time"], "policy_version": redacted["policy_version"],
                      "fields": {k: _json(v) for k, v in project(redacted, paths).items()}}
        out.append(Share(partner, decision, record))
    return out
