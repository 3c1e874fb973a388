"""Consent records for tests: the same builder the pipeline uses (pipeline_core.consent_records)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline_core.consent_records import CONNECTION, consent_record
from pipeline_core.topics import shop_key
from streams.consent import ConsentBook

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def change(subject: str, status: str, at: datetime, purpose: str = CONNECTION, scope: str | None = None,
           subject_type: str = "SHOP") -> tuple[str, dict]:
    if purpose == CONNECTION and scope is None:
        scope = subject.split(":", 1)[0]
    return consent_record(subject_type=subject_type, subject_id=subject, purpose=purpose, scope=scope, status=status,
                          source="POWERSELL_APP", proof_ref="test", effective_time=at)


def granted_book(events) -> ConsentBook:
    """A book in which every shop of `events` ((topic, key, record) triples) granted its connection long ago."""
    book = ConsentBook()
    for _, _, record in events:
        book.apply(*change(shop_key(record["marketplace"], record["shop_id"]), "GRANTED", LONG_AGO))
    return book


def at(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)
