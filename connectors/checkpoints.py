"""Connector cursors on the compacted `connector.checkpoints` topic, keyed
marketplace:shop_id:stream. save() is called only after the events before the cursor
were acknowledged by the broker, and waits for its own acknowledgement: a crash then
repeats at most the last window (duplicates, recognisable by event id), never skips one.

A checkpoint also remembers the entity versions published (and acknowledged) within the
lookback window, so the next poll's re-read of that window skips unchanged records instead
of publishing another copy of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, TopicFollower
from pipeline_core.settings import Settings

TOPIC = "connector.checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    synced_until: datetime
    records: int
    published: dict[str, datetime] = field(default_factory=dict)  # version -> event time


def checkpoint_key(marketplace: str, shop_id: str, stream: str) -> str:
    return f"{marketplace.lower()}:{shop_id}:{stream}"


class CheckpointStore:
    def __init__(self, settings: Settings, publisher: AvroPublisher):
        self.publisher = publisher
        self._state: dict[str, Checkpoint] = {}
        follower = TopicFollower(settings, TOPIC, client_id="powersell-checkpoints")
        try:
            registry = default_registry()
            for key, value in follower.catch_up():
                if key is None:
                    continue
                if value is None:
                    self._state.pop(key.decode(), None)
                    continue
                _, rec = registry.decode(value)
                published = {v["version"]: v["event_time"] for v in rec.get("published") or ()}
                self._state[key.decode()] = Checkpoint(rec["synced_until"], rec["records"], published)
        finally:
            follower.close()

    def get(self, marketplace: str, shop_id: str, stream: str) -> Checkpoint | None:
        return self._state.get(checkpoint_key(marketplace, shop_id, stream))

    def save(self, marketplace_symbol: str, shop_id: str, stream: str, synced_until: datetime, records: int,
             published: dict[str, datetime] | None = None) -> None:
        key = checkpoint_key(marketplace_symbol, shop_id, stream)
        published = dict(published or {})
        record = {"marketplace": marketplace_symbol, "shop_id": shop_id, "stream": stream,
                  "synced_until": synced_until, "records": records, "updated_time": datetime.now(timezone.utc),
                  "published": [{"version": v, "event_time": t} for v, t in sorted(published.items())]}
        self.publisher.send(TOPIC, key, record).get(timeout=30)
        self._state[key] = Checkpoint(synced_until, records, published)
