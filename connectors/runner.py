"""The sync loop shared by every marketplace: consent first (R1), then for each stream
a full sync (first time) or an incremental one from the checkpoint minus a lookback,
in windows no larger than the platform allows; events are published, and the cursor
moves only after the broker acknowledged them. Bad records become dead letters.

Every event is sealed on its way out (`_publish`, the only way to a raw topic): each field
the raw schema marks "encrypted" becomes ciphertext under the shop's or the buyer's data key,
so the raw topics hold no personal data in clear. A dead letter's original body is sealed
under the shop's key; with no shop to attribute it to, it is withheld."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS, dead_letter_record
from pipeline_core.errors import PipelineError
from pipeline_core.kafka_io import AvroPublisher
from pipeline_core.sealing import RecordSealer
from pipeline_core.topics import shop_key, topic

from .base import ApiFailed, BadPayload, DeadPayload, Item, MarketplaceApi, RawEvent, RefreshRefused, ShopSession, \
    Stream, TimeWindow, TokenExpired
from .card_vault import scrub_card_numbers
from .checkpoints import CheckpointStore
from .consent_gate import ConnectionConsent
from .metrics import ConnectorMetrics
from .onboarding import connection_consent
from .token_store import TokenStore

log = logging.getLogger("powersell.connectors")


@dataclass
class SyncReport:
    shop_id: str
    skipped: str | None = None                       # reason, when the shop was not polled
    published: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # re-read, already published: not sent again
    dead_lettered: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)        # streams whose sync stopped on an API failure


class ConsentWithdrawn(Exception):
    """The shop's connection consent ended during its sync: stop reading it."""


def version_of(event: RawEvent) -> str:
    """What identifies one version of an entity: its event id (a hash of entity, id and update time),
    or for the shop, whose event id changes with every read, a digest of its content."""
    if event.stream is not Stream.SHOP:
        return event.record["event_id"]
    content = {k: v for k, v in event.record.items() if k not in ("event_id", "event_time", "ingest_time", "ingest_source")}
    return "content:" + hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]


def windows(start: datetime, end: datetime, max_seconds: int) -> Iterable[TimeWindow]:
    step = timedelta(seconds=max_seconds)
    while start < end:
        yield TimeWindow(start, min(start + step, end))
        start += step


class ShopSyncer:
    def __init__(self, api: MarketplaceApi, tokens: TokenStore, checkpoints: CheckpointStore,
                 consent: ConnectionConsent, publisher: AvroPublisher, metrics: ConnectorMetrics, *,
                 sealer: RecordSealer, lookback: timedelta = timedelta(minutes=10), full_sync_days: int = 60,
                 refresh_margin: float = 300.0, clock: Callable[[], float] = time.time):
        self.api, self.tokens, self.checkpoints = api, tokens, checkpoints
        self.consent, self.publisher, self.metrics, self.sealer = consent, publisher, metrics, sealer
        self._shop: str | None = None  # the shop being synced: whose key seals a dead letter's body
        self.lookback, self.full_sync_days, self.refresh_margin, self.clock = lookback, full_sync_days, refresh_margin, clock
        self.stage = "connector"

    # ---------------------------------------------------------------- publishing
    def _sealed_body(self, body: bytes, shop_id: str | None) -> bytes | None:
        """The body sealed under the shop's key (erasing the shop makes it unreadable); None when no
        shop is known or sealing fails: a body that could hold personal data never goes out in clear."""
        if not body or shop_id is None:
            return None
        try:
            return self.sealer.keystore.seal(shop_key(self.api.name, shop_id), scrub_card_numbers(body))
        except PipelineError as exc:
            log.warning("dead letter body of %s withheld: %s", self.api.name, type(exc).__name__)
            return None

    def dead_letter(self, bad: DeadPayload | BadPayload, report: SyncReport | None) -> None:
        reason = bad.reason
        record = dead_letter_record(stage=f"{self.stage}.{self.api.name}", reason=reason,
                                    message=str(bad) if isinstance(bad, BadPayload) else bad.message,
                                    original_value=self._sealed_body(bad.body, report.shop_id if report else self._shop))
        self.publisher.send(DEAD_LETTERS, None, record)
        self.metrics.dead_letters.labels(stage=self.stage, reason=reason).inc()
        if report is not None:
            report.dead_lettered[reason] = report.dead_lettered.get(reason, 0) + 1

    def _publish(self, items: Iterable[Item], report: SyncReport, published: dict[str, datetime] | None = None,
                 sent: dict[str, datetime] | None = None) -> list:
        """Seal and send each event; dead-letter the rest. With `published` (versions already acknowledged
        in the lookback window), unchanged re-reads are skipped; `sent` collects what this call sent, to be
        remembered once the broker has acknowledged it."""
        futures = []
        for item in items:
            if isinstance(item, RawEvent):
                version = version_of(item) if published is not None or sent is not None else None
                if published is not None and version in published:
                    report.unchanged[item.stream.value] = report.unchanged.get(item.stream.value, 0) + 1
                    continue
                try:
                    sealed = self.sealer.seal(topic(item.stream.topic).value_schema, item.record)
                except PipelineError as exc:  # key store unreadable, a value of the wrong type: never publish in clear
                    self.dead_letter(DeadPayload(item.stream, "sealing_failed", f"cannot seal: {exc}", b""), report)
                    continue
                futures.append(self.publisher.send(item.stream.topic, item.key, sealed))
                if sent is not None:
                    sent[version] = item.record["event_time"]
                report.published[item.stream.value] = report.published.get(item.stream.value, 0) + 1
                self.metrics.records.labels(marketplace=self.api.name, topic=item.stream.topic).inc()
            else:
                self.dead_letter(item, report)
        return futures

    def _acknowledged(self, futures: list) -> None:
        """Wait until the broker acknowledged every event (raises if one failed)."""
        self.publisher.flush()
        for f in futures:
            f.get(timeout=60)

    def publish_acknowledged(self, items: Iterable[Item], report: SyncReport, published: dict[str, datetime] | None = None,
                             sent: dict[str, datetime] | None = None) -> int:
        futures = self._publish(items, report, published, sent)  # published/sent: as in _publish (pushes dedupe too)
        self._acknowledged(futures)
        return len(futures)

    # ---------------------------------------------------------------- sync
    def session(self, shop_id: str) -> ShopSession | None:
        auth = self.tokens.get(self.api.name, shop_id)
        if auth is None:
            return None
        if authorisation_lapsed(auth, self.clock()):
            raise RefreshRefused("session", "authorisation_lapsed")
        # refreshes go through the store: one per grant, whichever of its shops asks first
        session = ShopSession(self.api, auth, on_refresh=self._stored_refresh,
                              refresher=lambda current: self.tokens.refresh(self.api.name, current, self.api.refresh))
        refreshable = not auth.refresh_expires_at or auth.refresh_expires_at > auth.access_expires_at
        if refreshable and auth.access_expires_at - self.clock() < self.refresh_margin:
            session.refresh()  # ahead of expiry: fewer mid-sync failures
        return session

    def _expire_grant(self, shop_id: str, why: str) -> None:
        """The platform refused the grant's refresh token (spent, revoked) or the authorisation lapsed:
        every shop of the grant gets an EXPIRED connection consent and leaves the token store, so the
        failure is recorded (R1) instead of repeating on every poll."""
        auth = self.tokens.get(self.api.name, shop_id)
        if auth is None:
            return
        now = self.clock()
        lapsed = authorisation_lapsed(auth, now)
        when = datetime.fromtimestamp(auth.refresh_expires_at if lapsed else now, tz=timezone.utc)
        proof = "refresh-token-expired" if lapsed else f"refresh-token-refused:{why}"
        for sibling in self.tokens.grant_shops(self.api.name, shop_id):
            key, record = connection_consent(self.api, sibling, "EXPIRED", "CONNECTOR", proof, when)
            self.publisher.send("consent.events", key, record).get(timeout=30)
            self.tokens.remove(self.api.name, sibling)
            self.metrics.token_refreshes.labels(marketplace=self.api.name, outcome="error").inc()

    def _expire_if_lapsed(self, shop_id: str) -> None:
        """The seller's authorisation ran out (its refresh token expired): record the connection consent as
        EXPIRED, effective when it lapsed, so the stream workers stop this shop's events too (R1)."""
        auth = self.tokens.get(self.api.name, shop_id)
        if auth is None or not authorisation_lapsed(auth, self.clock()):
            return
        lapsed = datetime.fromtimestamp(auth.refresh_expires_at, tz=timezone.utc)
        key, record = connection_consent(self.api, shop_id, "EXPIRED", "CONNECTOR", "refresh-token-expired", lapsed)
        self.publisher.send("consent.events", key, record).get(timeout=30)
        self.tokens.remove(self.api.name, shop_id)

    def _stored_refresh(self, auth) -> None:   # the token store saved it already (TokenStore.refresh)
        self.metrics.token_refreshes.labels(marketplace=self.api.name, outcome="ok").inc()

    def sync_shop(self, shop_id: str) -> SyncReport:
        self._shop = shop_id
        try:
            return self._sync_shop(shop_id)
        finally:
            self._shop = None

    def _sync_shop(self, shop_id: str) -> SyncReport:
        report = SyncReport(shop_id)
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        if not self.consent.is_active(self.api.name, shop_id, now):
            report.skipped = "no_consent"
        else:
            try:
                session = self.session(shop_id)
            except RefreshRefused as exc:
                session = None
                self._expire_grant(shop_id, exc.code)
            except (TokenExpired, ApiFailed):
                session = None
                self._expire_if_lapsed(shop_id)
            if session is None:
                report.skipped = "not_authorised"
        if report.skipped:
            self.metrics.shops_skipped.labels(marketplace=self.api.name, reason=report.skipped).inc()
            return report
        for stream in Stream:
            try:
                self.sync_stream(session, stream, report)
            except RefreshRefused as exc:  # mid-sync: the grant is gone until the seller authorises again
                log.warning("sync of %s stopped: its refresh token was refused (%s)", self.api.name, exc.code)
                self._expire_grant(shop_id, exc.code)
                report.failed.append(stream.value)
                report.skipped = "authorisation_expired"
                break
            except (ApiFailed, TokenExpired) as exc:  # the cursor did not move: the next poll retries
                log.warning("sync of %s stream %s stopped: %s", self.api.name, stream.value, exc)
                report.failed.append(stream.value)
            except ConsentWithdrawn:
                report.skipped = "consent_withdrawn"
                break
            except Exception as exc:  # a bug or a broker outage costs this stream one poll, not the connector
                log.warning("sync of %s stream %s failed: %s", self.api.name, stream.value, type(exc).__name__)
                report.failed.append(stream.value)
        return report

    def sync_stream(self, session: ShopSession, stream: Stream, report: SyncReport) -> None:
        symbol = self.api.marketplace_symbol
        checkpoint = self.checkpoints.get(symbol, session.shop_id, stream.value)
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        source = "INCREMENTAL_SYNC" if checkpoint else "FULL_SYNC"
        total = checkpoint.records if checkpoint else 0
        published = dict(checkpoint.published) if checkpoint else {}
        if stream is Stream.SHOP:
            sent: dict[str, datetime] = {}
            futures = self._publish(self.api.fetch_shop(session, source), report, published, sent)
            self._acknowledged(futures)
            # the shop's latest content only: a change back to an earlier content is published again
            self.checkpoints.save(symbol, session.shop_id, stream.value, now, total + len(futures), sent or published)
        else:
            start = (checkpoint.synced_until - self.lookback) if checkpoint else now - timedelta(days=self.full_sync_days)
            fetch = self.api.fetch_products if stream is Stream.PRODUCTS else self.api.fetch_orders
            for window in windows(start, now, self.api.max_window_seconds):
                self.consent.refresh()
                if not self.consent.is_active(self.api.name, session.shop_id, now):
                    raise ConsentWithdrawn()
                futures, sent = [], {}
                for page in fetch(session, window, source):
                    futures += self._publish(page, report, published, sent)
                self._acknowledged(futures)
                published.update(sent)  # remembered only now that the broker acknowledged them
                total += len(futures)
                horizon = window.end - self.lookback  # the next poll re-reads from here at the earliest
                published = {v: t for v, t in published.items() if t >= horizon}
                self.checkpoints.save(symbol, session.shop_id, stream.value, window.end, total, published)
        self.metrics.last_sync.labels(marketplace=self.api.name, stream=stream.value).set(self.clock())


class ConnectorService:
    """Polls every authorised shop of one marketplace, once or every poll_interval seconds."""

    def __init__(self, syncer: ShopSyncer, poll_interval: float = 30.0,
                 on_report: Callable[[SyncReport], None] = lambda report: None):
        self.syncer, self.poll_interval, self.on_report = syncer, poll_interval, on_report

    def run_once(self) -> list[SyncReport]:
        self.syncer.consent.refresh()
        reports = []
        for shop_id in self.syncer.tokens.shops(self.syncer.api.name):
            report = self.syncer.sync_shop(shop_id)
            self.on_report(report)
            reports.append(report)
        return reports

    def run(self, until: Callable[[], bool]) -> None:
        while not until():
            started = time.monotonic()
            self.run_once()
            deadline = started + self.poll_interval
            while time.monotonic() < deadline and not until():
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def authorisation_lapsed(auth, now: float) -> bool:
    """True once the refresh token has expired: no new access token can be had without the seller."""
    return bool(auth.refresh_expires_at) and auth.refresh_expires_at <= now
