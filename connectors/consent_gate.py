"""R1: a shop's data is read only while its owner's connection consent is active.
The state comes from the `consent.events` topic; deny by default (no record, a
withdrawal or an expiry means no polling)."""

from __future__ import annotations

from datetime import datetime

from pipeline_core.avro_codec import default_registry
from pipeline_core.consent_records import CONNECTION, ConsentState, newer
from pipeline_core.kafka_io import TopicFollower
from pipeline_core.settings import Settings
from pipeline_core.topics import consent_key, shop_key


class ConnectionConsent:
    def __init__(self, settings: Settings):
        self._follower = TopicFollower(settings, "consent.events", client_id="powersell-consent-gate")
        self._state: dict[str, ConsentState] = {}
        self.refresh()

    def refresh(self) -> None:
        """Apply every consent change written since the last refresh."""
        registry = default_registry()
        for key, value in self._follower.catch_up():
            if key is None:
                continue
            if value is None:  # tombstone: erasure removed the subject's consent records
                self._state.pop(key.decode(), None)
                continue
            _, rec = registry.decode(value)
            state = ConsentState(rec["status"], rec["effective_time"])
            if newer(self._state.get(key.decode()), state):
                self._state[key.decode()] = state

    def is_active(self, marketplace: str, shop_id: str, at: datetime) -> bool:
        state = self._state.get(consent_key(shop_key(marketplace, shop_id), CONNECTION, marketplace))
        return state is not None and state.status == "GRANTED" and state.effective_time <= at

    def close(self) -> None:
        self._follower.close()
