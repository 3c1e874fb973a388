"""R1: a shop's data is read only while its owner's connection consent is active.
The state comes from the `consent.events` topic; deny by default (no record, a
withdrawal or an expiry means no polling).

A record on the topic that is not a consent record (another schema, bad bytes, no key)
is skipped with a counted, logged reason (`skipped`), never raised: it sits in a
compacted topic, so raising would stop the connectors at every start until the broker
is wiped. The privacy worker dead-letters the same record."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from pipeline_core.avro_codec import SchemaRegistry, default_registry
from pipeline_core.consent_records import CONNECTION, ConsentState, newer
from pipeline_core.errors import DecodeError
from pipeline_core.kafka_io import TopicFollower
from pipeline_core.settings import Settings
from pipeline_core.topics import consent_key, shop_key, topic

log = logging.getLogger(__name__)
CONSENT_EVENT = topic("consent.events").value_schema


def consent_change(registry: SchemaRegistry, key: bytes | None, value: bytes | None) -> tuple[str, ConsentState | None]:
    """(consent key, new state, or None for a tombstone); DecodeError when the record is not a consent record."""
    if key is None:
        raise DecodeError("missing_field", "a consent record has no key")
    if value is None:  # tombstone: erasure removed the subject's consent records
        return key.decode("utf-8", "replace"), None
    _, rec = registry.decode(value, reader=CONSENT_EVENT)
    return key.decode("utf-8", "replace"), ConsentState(rec["status"], rec["effective_time"])


class ConnectionConsent:
    def __init__(self, settings: Settings):
        self._follower = TopicFollower(settings, "consent.events", client_id="powersell-consent-gate")
        self._state: dict[str, ConsentState] = {}
        self.skipped: Counter = Counter()  # reason -> records that were not consent records
        self.refresh()

    def refresh(self) -> None:
        """Apply every consent change written since the last refresh."""
        registry = default_registry()
        for key, value in self._follower.catch_up():
            try:
                name, state = consent_change(registry, key, value)
            except DecodeError as exc:  # the message names schemas and sizes, never values
                self.skipped[exc.reason] += 1
                log.warning("a record on consent.events is not a consent record (%s); skipped", exc.reason)
                continue
            if state is None:
                self._state.pop(name, None)
            elif newer(self._state.get(name), state):
                self._state[name] = state

    def is_active(self, marketplace: str, shop_id: str, at: datetime) -> bool:
        state = self._state.get(consent_key(shop_key(marketplace, shop_id), CONNECTION, marketplace))
        return state is not None and state.status == "GRANTED" and state.effective_time <= at

    def close(self) -> None:
        self._follower.close()
