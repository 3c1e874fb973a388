"""Connector cursors on the compacted `connector.checkpoints` topic, keyed
marketplace:shop_id:stream. save() is called only after the events before the cursor
were acknowledged by the broker, and waits for its own acknowledgement: a crash then
repeats at most the last window (duplicates, recognisable by event id), never skips one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, TopicFollower
from pipeline_core.settings import Settings

TOPIC = "connector.checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    synced_until: datetime
    records: int


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
                self._state[key.decode()] = Checkpoint(rec["synced_until"], rec["records"])
        finally:
            follower.close()

    def get(self, marketplace: str, shop_id: str, stream: str) -> Checkpoint | None:
        return self._state.get(checkpoint_key(marketplace, shop_id, stream))

    def save(self, marketplace_symbol: str, shop_id: str, stream: str, synced_until: datetime, records: int) -> None:
        key = checkpoint_key(marketplace_symbol, shop_id, stream)
        record = {"marketplace": marketplace_symbol, "shop_id": shop_id, "stream": stream,
                  "synced_until": synced_until, "records": records, "updated_time": datetime.now(timezone.utc)}
        self.publisher.send(TOPIC, key, record).get(timeout=30)
        self._state[key] = Checkpoint(synced_until, records)
