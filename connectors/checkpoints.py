"""Connector cursors on the compacted `connector.checkpoints` topic, keyed
marketplace:shop_id:stream. save() is called only after the events before the cursor
were acknowledged by the broker, and waits for its own acknowledgement: a crash then
repeats at most the last window (duplicates, recognisable by event id), never skips one.

A checkpoint also remembers the entity versions published (and acknowledged) within the
lookback window, so the next poll's re-read of that window skips unchanged records instead
of publishing another copy of them.

Pushes use the same memory: the webhook receiver skips an order version already published
(by a poll or an earlier push) and hands what it published to `remember_pushed`. Those
versions are saved at once (when the shop has a checkpoint) and also held in memory and
merged into every `save` until the poller's next `get` takes them over: a poll that was
running when the push came would otherwise overwrite them with its own list. A push that
lands between a poll's read and its publish can still be sent twice (same event id)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
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
        self._pushed: dict[str, dict[str, datetime]] = {}  # versions published by pushes, until the poller's get
        self._lock = threading.Lock()  # the poller and the webhook worker are two threads
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
        """The poller's cursor at the start of a sync; versions pushed since the last get are handed over
        (the poller carries them from here, trimming them with its own lookback)."""
        key = checkpoint_key(marketplace, shop_id, stream)
        with self._lock:
            checkpoint = self._state.get(key)
            if checkpoint is None or key not in self._pushed:
                return checkpoint  # no checkpoint yet: a full sync follows, its saves keep merging the pushed ones
            return replace(checkpoint, published={**self._pushed.pop(key), **checkpoint.published})

    def published_versions(self, marketplace: str, shop_id: str, stream: str) -> dict[str, datetime]:
        """Every version known to be published and acknowledged, by polls and pushes (what a push checks)."""
        key = checkpoint_key(marketplace, shop_id, stream)
        with self._lock:
            checkpoint = self._state.get(key)
            return {**self._pushed.get(key, {}), **(checkpoint.published if checkpoint else {})}

    def save(self, marketplace_symbol: str, shop_id: str, stream: str, synced_until: datetime, records: int,
             published: dict[str, datetime] | None = None) -> None:
        key = checkpoint_key(marketplace_symbol, shop_id, stream)
        with self._lock:
            self._save(key, marketplace_symbol, shop_id, stream, synced_until, records,
                       {**self._pushed.get(key, {}), **(published or {})})

    def remember_pushed(self, marketplace_symbol: str, shop_id: str, stream: str, sent: dict[str, datetime]) -> None:
        """Versions a push published and the broker acknowledged: the poll's re-read (and later pushes) skip them."""
        if not sent:
            return
        key = checkpoint_key(marketplace_symbol, shop_id, stream)
        with self._lock:
            self._pushed.setdefault(key, {}).update(sent)
            checkpoint = self._state.get(key)
            if checkpoint is not None:  # saved now, so a restart before the next poll still knows them
                self._save(key, marketplace_symbol, shop_id, stream, checkpoint.synced_until,
                           checkpoint.records + len(sent), {**checkpoint.published, **self._pushed[key]})

    def _save(self, key: str, marketplace_symbol: str, shop_id: str, stream: str, synced_until: datetime,
              records: int, published: dict[str, datetime]) -> None:
        record = {"marketplace": marketplace_symbol, "shop_id": shop_id, "stream": stream,
                  "synced_until": synced_until, "records": records, "updated_time": datetime.now(timezone.utc),
                  "published": [{"version": v, "event_time": t} for v, t in sorted(published.items())]}
        self.publisher.send(TOPIC, key, record).get(timeout=30)
        self._state[key] = Checkpoint(synced_until, records, published)
