"""What each shop owner's action in `run` should have caused, checked against the topics.

Pure functions over decoded records, `(topic, key, record or None for a tombstone)` in the
order of each partition, so they are unit-tested without a broker. Each returns a dict for
the summary (and its JSON) with `kept`: whether the promise held in this run. A promise
that had nothing to act on (no change of a withdrawn shop while it was withdrawn) is kept
but `shown` is False: the run then says so rather than claiming a demonstration.

- withdrawal (R1): events of the shop stamped while its connection was withdrawn are
  filtered by the privacy worker and none reaches a downstream topic;
- marketing opt-out (R6): the shop leaves audience.marketing (a tombstone), stays in
  audience.service (service announcements cannot be opted out of);
- erasure (R12): a receipt for the request, the data key destroyed, and the shop's sealed
  fields no longer open;
- sharing (R4, R11): the partner's topic holds records of the consenting shop only, with
  only the fields on the partner's allow-list.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from streams.sharing import RECORD_TYPES, Partner

Decoded = Iterable[tuple[str, str | None, dict | None]]
RAW = ("raw.shops", "raw.products", "raw.orders")
REDACTED = tuple(RECORD_TYPES)
RECEIPTS_TOPIC = "privacy.erasure-receipts"
TYPE_TOPICS = {record_type: name for name, record_type in RECORD_TYPES.items()}


def ms(at: datetime) -> int:
    """Epoch milliseconds, as the consent book compares times (Avro timestamp-millis)."""
    return int(at.timestamp() * 1000)


def split_subject(subject: str) -> tuple[str, str]:
    marketplace, shop_id = subject.split(":", 1)
    return marketplace, shop_id


def _of_shop(record: dict, subject: str) -> bool:
    marketplace, shop_id = split_subject(subject)
    return str(record.get("marketplace", "")).lower() == marketplace and str(record.get("shop_id")) == shop_id


def _partner_shop(record: dict) -> str | None:
    """marketplace:shop_id of a partner record whose allow-list keeps both, else None (no shop identity)."""
    fields = record.get("fields") or {}
    if "shop_id" not in fields or "marketplace" not in fields:
        return None
    return f"{str(json.loads(fields['marketplace'])).lower()}:{json.loads(fields['shop_id'])}"


def withdrawal_proof(subject: str, withdrawn_at: datetime, reconnected_at: datetime | None, decoded: Decoded,
                     filtered: dict[str, int], polls_skipped: int, changes_while_withdrawn: int) -> dict[str, Any]:
    """`filtered`: the privacy worker's filtered records by reason (all shops of the run)."""
    start, end = ms(withdrawn_at), ms(reconnected_at) if reconnected_at else None

    def stamped_while_withdrawn(record: dict) -> bool:
        at = ms(record["event_time"])
        return at >= start and (end is None or at < end)

    raw = downstream = after = 0
    for topic_name, _, record in decoded:
        if record is None:
            continue
        if topic_name.startswith("partner."):
            shop = _partner_shop(record)
            if shop == subject and stamped_while_withdrawn(record):
                downstream += 1
            continue
        if topic_name not in RAW + REDACTED or not _of_shop(record, subject):
            continue
        if topic_name in RAW:
            raw += stamped_while_withdrawn(record)
        elif stamped_while_withdrawn(record):
            downstream += 1
        elif end is not None and ms(record["event_time"]) >= end:
            after += 1
    return {"shop": subject, "withdrawn_at": withdrawn_at, "reconnected_at": reconnected_at,
            "changes_at_marketplace_while_withdrawn": changes_while_withdrawn,
            "connector_polls_skipped": polls_skipped, "raw_events_stamped_while_withdrawn": raw,
            "filtered_by_privacy_worker": {r: n for r, n in sorted(filtered.items()) if n},
            "downstream_events_stamped_while_withdrawn": downstream,
            "downstream_events_after_reconnection": after,
            "kept": downstream == 0, "shown": raw > 0 and filtered.get("consent_withdrawn", 0) > 0}


def marketing_proof(subject: str, opted_in_at: datetime, opted_out_at: datetime | None,
                    decoded: Decoded) -> dict[str, Any]:
    history: dict[str, list[str]] = {"audience.marketing": [], "audience.service": []}
    for topic_name, key, record in decoded:
        if topic_name in history and key == subject:
            history[topic_name].append("left" if record is None else "member")
    marketing, service = history["audience.marketing"], history["audience.service"]
    joined = "member" in marketing
    left = joined and bool(marketing) and marketing[-1] == "left"
    in_service = bool(service) and service[-1] == "member"
    return {"shop": subject, "opted_in_at": opted_in_at, "opted_out_at": opted_out_at,
            "marketing_audience": "joined, then left" if left else ("joined" if joined else "never joined"),
            "service_audience": "member" if in_service else "not a member",
            "kept": opted_out_at is None or not joined or left, "shown": left and in_service}


def erasure_proof(subject: str, request_id: str | None, requested_at: datetime | None, decoded: Decoded,
                  sealed_records: int, opened_before: int, opened_after: int) -> dict[str, Any]:
    """sealed_records: the shop's raw records with fields sealed under its key; opened_*: how many of
    them the key store opened just before the request and at the end of the run."""
    receipt = next((r for t, _, r in decoded if t == RECEIPTS_TOPIC and r and r.get("request_id") == request_id), None)
    shown = None if receipt is None else {
        "receipt_id": receipt["receipt_id"], "subject_pseudonym": receipt["subject_pseudonym"],
        "data_key_destroyed": receipt["data_key_destroyed"], "completed_time": receipt["completed_time"],
        "tombstones": {t["topic"]: t["count"] for t in receipt["tombstones"] if t["count"]}}
    kept = receipt is not None and receipt["data_key_destroyed"] and opened_after == 0
    return {"shop": subject, "requested_at": requested_at, "receipt": shown, "sealed_records": sealed_records,
            "opened_before_erasure": opened_before, "opened_after_erasure": opened_after,
            "kept": request_id is None or kept, "shown": kept and opened_before > 0}


def leaf_paths(value: Any, prefix: str) -> Iterable[tuple[str, bool]]:
    """(dotted path, whether the value there is empty) of every leaf; arrays are walked element-wise."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from leaf_paths(sub, f"{prefix}.{key}")
    elif isinstance(value, list) and value:
        for item in value:
            yield from leaf_paths(item, prefix)
    else:
        yield prefix, value is None or value == [] or value == {}


def outside_allow_list(record: dict, allowed: tuple[str, ...]) -> set[str]:
    """Paths of a PartnerRecord's fields that its partner's allow-list does not name. An empty value
    at a parent of allowed paths (a missing recipient) is allowed: it discloses nothing."""
    out = set()
    for name, text in (record.get("fields") or {}).items():
        for path, empty in leaf_paths(json.loads(text), name):
            if not any(path == a or path.startswith(a + ".") or (empty and a.startswith(path + "."))
                       for a in allowed):
                out.add(path)
    return out


def sharing_proof(subject: str, partner: Partner, granted_at: datetime, decoded: Decoded,
                  partner_names: Iterable[str]) -> dict[str, Any]:
    records, others, outside = 0, 0, set()
    elsewhere = {f"partner.{name}": 0 for name in partner_names if name != partner.name}
    for topic_name, _, record in decoded:
        if record is None:
            continue
        if topic_name in elsewhere:
            elsewhere[topic_name] += 1
        elif topic_name == partner.topic:
            records += 1
            if _partner_shop(record) != subject:
                others += 1
            outside |= outside_allow_list(record, partner.allow.get(TYPE_TOPICS[record["record_type"]], ()))
    kept = others == 0 and not outside and not any(elsewhere.values())
    return {"shop": subject, "partner": partner.name, "granted_at": granted_at, "partner_records": records,
            "records_of_other_shops": others, "fields_outside_allow_list": sorted(outside),
            "allow_list": sorted({p for paths in partner.allow.values() for p in paths}),
            "records_on_other_partner_topics": elsewhere, "kept": kept, "shown": kept and records > 0}
