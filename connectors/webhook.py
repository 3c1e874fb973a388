"""The push-notification receiver: POST /webhooks/{marketplace}.

Each push is verified over its raw bytes with the platform's signature, acknowledged as
the platform requires (2xx with an empty body, quickly), deduplicated by notification id,
then handled off the request path: authorised -> consent granted, cancelled -> consent
withdrawn, order status -> the order is fetched and published (only while the shop's
connection consent is active, and only if that version of it was not published already:
the checkpoints remember acknowledged versions, connectors/checkpoints.py). Pushes are
hints: the poller's lookback window is what guarantees nothing is missed, so a push that
fails to process is never the only copy.

Edges (a receiver on the internet meets slow, broken and hostile clients): a request must
finish its headers within `read_timeout` of connecting (aiohttp's keep-alive timer, which
runs from the connection's start) and its body within `read_timeout` of its headers, or the
connection is cut; a declared Content-Length over the limit is refused before any of the
body is read, and a body is never read past it; undecodable headers, bad signatures and
bodies that are not UTF-8 JSON objects of bounded depth are 4xx. Every refusal of a routed
request is counted in webhook_pushes_rejected_total with a reason from a closed set; served
with `serve()` (connectors/http_edge.py), so are the refusals before routing, under marketplace
"unknown": a request aiohttp's parser rejects (400, malformed_request) and a request head that
never ends (cut, read_timeout)."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from datetime import datetime, timezone

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from .base import BadPayload, ConnectorError, MappingError, MarketplaceApi, PushKind, PushNotice, Stream
from pipeline_core.aiohttp_thread import RunningServer, serve_in_thread

from .config import check_credentials
from .http_edge import EdgeRunner
from .onboarding import connection_consent
from .runner import ShopSyncer, SyncReport

log = logging.getLogger("powersell.webhook")
MAX_PUSH_BYTES = 1024 * 1024
READ_TIMEOUT_SECONDS = 10.0   # platforms post small bodies at once; a slow client is cut, not waited for
LINGER_SECONDS = 1.0          # after an early refusal, how long the unread rest of a body is drained
SIGNATURE_HEADER = "Authorization"  # all three marketplaces sign in it
UNROUTED = "unknown"  # the marketplace label of a request refused before its path named one


class SeenNotifications:
    """Bounded memory of notification ids already accepted (platforms retry and duplicate)."""

    def __init__(self, size: int = 100_000):
        self.size, self._seen = size, OrderedDict()

    def first_time(self, key: str) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def headers_readable(headers) -> bool:
    """aiohttp hands undecodable header bytes over as lone surrogates; a signature must be one
    plain ASCII value. Anything else is refused before a marketplace module compares it."""
    for value in headers.values():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    signatures = headers.getall(SIGNATURE_HEADER, [])
    return len(signatures) <= 1 and all(v.isascii() and v.isprintable() for v in signatures)


class WebhookReceiver:
    def __init__(self, syncers: dict[str, ShopSyncer], callback_base_url: str, *,
                 read_timeout: float = READ_TIMEOUT_SECONDS, max_body_bytes: int = MAX_PUSH_BYTES):
        for syncer in syncers.values():  # never verify a real marketplace's pushes with the simulators' public secret
            api = syncer.api
            check_credentials(api.name, [api.base_url, getattr(api, "auth_base_url", "")], api.app)
        self.syncers = syncers
        self.callback_base_url = callback_base_url.rstrip("/")
        self.read_timeout, self.max_body_bytes = read_timeout, max_body_bytes
        self.seen = SeenNotifications()
        self.work: queue.Queue[tuple[ShopSyncer, PushNotice] | None] = queue.Queue()
        self.handled = 0
        self._worker = threading.Thread(target=self._drain, name="webhook-worker", daemon=True)

    # ---------------------------------------------------------------- HTTP side
    def app(self) -> web.Application:
        # keepalive_timeout also runs from a connection's start until its first request's headers
        # are complete: it is the header read timeout (aiohttp >= 3.12).
        app = web.Application(client_max_size=self.max_body_bytes,
                              handler_args={"keepalive_timeout": self.read_timeout,
                                            "lingering_time": min(LINGER_SECONDS, self.read_timeout)})
        app.router.add_post("/webhooks/{marketplace}", self.receive)
        app.router.add_get("/healthz", self.healthz)
        return app

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        """Serve app() from its own thread, refusals before routing counted (connectors/http_edge.py)."""
        return serve_in_thread(self.app(), host, port, "webhook",
                               make_runner=lambda app, **kwargs: EdgeRunner(app, refused=self.refused_unrouted, **kwargs))

    def refused_unrouted(self, reason: str) -> None:
        """A request refused before its path named a marketplace (no client data reaches a label)."""
        for metrics in {id(s.metrics): s.metrics for s in self.syncers.values()}.values():  # each registry once
            metrics.pushes_rejected.labels(marketplace=UNROUTED, reason=reason).inc()

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def receive(self, request: web.Request) -> web.Response:
        marketplace = request.match_info["marketplace"]
        syncer = self.syncers.get(marketplace)
        if syncer is None:
            return web.Response(status=404)
        metrics = syncer.metrics
        metrics.pushes.labels(marketplace=marketplace).inc()

        def refuse(status: int, reason: str) -> web.Response:
            metrics.pushes_rejected.labels(marketplace=marketplace, reason=reason).inc()
            return web.Response(status=status)

        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return refuse(413, "oversize")  # before reading any of it
        if not headers_readable(request.headers):
            return refuse(400, "bad_header")
        try:
            async with asyncio.timeout(self.read_timeout):
                body = await request.read()   # stops past client_max_size
        except web.HTTPRequestEntityTooLarge:
            return refuse(413, "oversize")
        except TimeoutError:
            return refuse(408, "read_timeout")
        except (ConnectionError, RequestPayloadError):  # the client broke off mid-body
            return refuse(400, "incomplete_body")
        url = f"{self.callback_base_url}/webhooks/{marketplace}"
        if not syncer.api.verify_push(url, request.headers, body):
            return refuse(401, "bad_signature")
        if not self.accept(syncer, body):
            return web.Response(status=400)  # counted and dead-lettered by accept
        return web.Response(status=200)  # empty body: what Shopee requires, fine for the others

    def accept(self, syncer: ShopSyncer, body: bytes) -> bool:
        """A verified (or API-recovered) push body: parse, drop duplicates, queue. False when the
        body is malformed (counted as rejected, dead-lettered with its reason)."""
        marketplace = syncer.api.name
        try:
            try:
                notice = syncer.api.parse_push(body)
            except MappingError as exc:  # e.g. a timestamp outside the calendar
                raise BadPayload(exc.reason, f"push: {exc}", body) from None
        except BadPayload as bad:
            syncer.metrics.pushes_rejected.labels(marketplace=marketplace, reason=bad.reason).inc()
            syncer.dead_letter(bad, None)
            return False
        if not self.seen.first_time(f"{marketplace}:{notice.notification_id}"):
            syncer.metrics.pushes_duplicated.labels(marketplace=marketplace).inc()
            return True
        self.work.put((syncer, notice))
        return True

    # ---------------------------------------------------------------- processing
    def start(self) -> None:
        self._worker.start()
        for syncer in self.syncers.values():  # pushes missed while we were down (Shopee keeps them 3 days)
            self.recover_lost_pushes(syncer)

    def stop(self) -> None:
        self.work.put(None)
        self._worker.join(timeout=30)

    def recover_lost_pushes(self, syncer: ShopSyncer) -> int:
        api = syncer.api
        if not hasattr(api, "fetch_lost_pushes"):
            return 0
        recovered = 0
        try:
            while True:
                bodies, last_id = api.fetch_lost_pushes()
                for body in bodies:
                    self.accept(syncer, body)
                recovered += len(bodies)
                if not bodies or last_id is None:
                    break
                api.confirm_lost_pushes(last_id)
        except ConnectorError as exc:
            log.warning("lost-push recovery for %s stopped: %s", api.name, exc)
        return recovered

    def _drain(self) -> None:
        while (item := self.work.get()) is not None:
            syncer, notice = item
            try:
                self.handle(syncer, notice)
            except Exception as exc:  # one push never stops the receiver; the poller covers the data
                log.warning("push of kind %s for %s not handled: %s", notice.kind.value, syncer.api.name,
                            type(exc).__name__)
            finally:
                self.handled += 1

    def handle(self, syncer: ShopSyncer, notice: PushNotice) -> None:
        api: MarketplaceApi = syncer.api
        proof = f"push:{api.name}:{notice.notification_id}"
        if notice.kind in (PushKind.SHOP_AUTHORISED, PushKind.AUTHORISATION_CANCELLED):
            status = "GRANTED" if notice.kind is PushKind.SHOP_AUTHORISED else "WITHDRAWN"
            key, record = connection_consent(api, notice.shop_id, status, "MARKETPLACE_PUSH", proof, notice.timestamp)
            syncer.publisher.send("consent.events", key, record).get(timeout=30)
            if status == "WITHDRAWN":
                syncer.tokens.remove(api.name, notice.shop_id)  # the platform revoked them already
            return
        if notice.kind is PushKind.ORDER_STATUS and notice.order_id:
            now = datetime.now(timezone.utc)
            syncer.consent.refresh()
            if not syncer.consent.is_active(api.name, notice.shop_id, now):
                syncer.metrics.shops_skipped.labels(marketplace=api.name, reason="no_consent").inc()
                return
            session = syncer.session(notice.shop_id)
            if session is None:
                syncer.metrics.shops_skipped.labels(marketplace=api.name, reason="not_authorised").inc()
                return
            self.publish_order(syncer, notice.shop_id, api.fetch_orders_by_id(session, [notice.order_id], "WEBHOOK"))
        # expiring and other kinds change nothing here: the authorisation still holds

    @staticmethod
    def publish_order(syncer: ShopSyncer, shop_id: str, items) -> SyncReport:
        """Publish a pushed order unless that version was published already (by the poller or an earlier
        push: the same acknowledged-version memory the poll's lookback re-read uses), then remember it."""
        symbol, stream = syncer.api.marketplace_symbol, Stream.ORDERS.value
        report, sent = SyncReport(shop_id), {}
        syncer.publish_acknowledged(items, report, syncer.checkpoints.published_versions(symbol, shop_id, stream), sent)
        syncer.checkpoints.remember_pushed(symbol, shop_id, stream, sent)  # only now that the broker acknowledged
        return report
