"""What every marketplace simulator needs, written once: tokens, rate limits, injected
faults, signed pushes, admin routes and a server that runs in its own thread.

A platform module subclasses `SimulatorBase` and writes four things: `routes()` (its
API, with its own signature checks, error shapes and envelopes), `sign_push()`, and the
push bodies for world changes and authorisation events. It calls the shared pieces:
`self.tokens` (TokenBook), `self.limiter` (RateLimiter), `self.take_fault(request)` (for
the faults only it can apply: missing_field, wrong_type, expired_token; see
`break_field`), `self.timestamp_fresh(ts)`. The middleware applies every other fault
(http_500, http_503, slow, timeout, malformed_json, invalid_utf8, oversize) to any
route outside /_sim, so a platform module never sees them.

Admin routes live under /_sim (not part of any real API): tick, ground_truth,
authorize, shops, shops/{id}/cancel|expiring|expire_token, faults, pushes, webhook,
requests. The server's state belongs to its event loop: from another thread, go through
the admin routes or `RunningSimulator.call`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar, Literal

import aiohttp
from aiohttp import web

from pipeline_core.aiohttp_thread import RunningServer, start_serving, serve_in_thread  # noqa: F401 (re-exported)

from .world import Change, World

log = logging.getLogger(__name__)

Clock = Callable[[], float]
AuthPush = Literal["authorised", "cancelled", "expiring"]


@dataclass
class SimConfig:
    seed: int = 7
    shops: int = 4
    products_per_shop: int = 30
    orders_per_shop: int = 60
    history_days: int = 45
    access_ttl: float = 4 * 3600
    refresh_ttl: float = 30 * 24 * 3600
    code_ttl: float = 600
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    tick_interval: float | None = None          # auto-tick period; None: only on POST /_sim/tick
    tick_changes: int = 5                       # changes per auto-tick
    webhook_url: str | None = None
    push_duplicate_rate: float = 0.1
    push_reorder: bool = True
    push_retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0)
    push_timeout: float = 3.0                   # seconds the receiver has to answer a push
    timestamp_window: float = 300               # seconds a signed timestamp stays valid


# ---------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: float
    refresh_expires_at: float
    shop_ids: tuple[str, ...]


@dataclass
class _Token:
    shop_ids: set[str]
    expires_at: float
    access_token: str = ""                      # for a refresh token: the access token issued with it


class TokenBook:
    """Authorisation codes (single use, expire), access tokens (expire) and refresh tokens
    (single use: each refresh returns a new pair; the old access token lives `grace` more seconds)."""

    def __init__(self, clock: Clock, access_ttl: float, refresh_ttl: float, code_ttl: float, grace: float = 300):
        self.clock, self.grace = clock, grace
        self.access_ttl, self.refresh_ttl, self.code_ttl = access_ttl, refresh_ttl, code_ttl
        self._codes: dict[str, _Token] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def issue_code(self, shop_ids: list[str]) -> str:
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = _Token(set(shop_ids), self.clock() + self.code_ttl)
        return code

    def redeem_code(self, code: str) -> TokenGrant | None:
        """None: unknown, used or expired."""
        with self._lock:
            entry = self._codes.pop(code, None)
            if entry is None or self.clock() >= entry.expires_at or not entry.shop_ids:
                return None
            return self._grant(entry.shop_ids)

    def refresh(self, refresh_token: str) -> TokenGrant | None:
        """None: unknown, used or expired."""
        with self._lock:
            entry = self._refresh.pop(refresh_token, None)
            now = self.clock()
            if entry is None or now >= entry.expires_at:
                return None
            old = self._access.get(entry.access_token)
            if old is not None:
                old.expires_at = min(old.expires_at, now + self.grace)
            return self._grant(entry.shop_ids)

    def _grant(self, shop_ids: set[str]) -> TokenGrant:
        now, access, refresh = self.clock(), secrets.token_hex(16), secrets.token_hex(16)
        self._access[access] = _Token(set(shop_ids), now + self.access_ttl)
        self._refresh[refresh] = _Token(set(shop_ids), now + self.refresh_ttl, access)
        return TokenGrant(access, refresh, now + self.access_ttl, now + self.refresh_ttl, tuple(sorted(shop_ids)))

    def check_access(self, access_token: str, shop_id: str | None = None) -> Literal["ok", "expired", "invalid"]:
        """shop_id None: the token is good for any shop it covers (Lazada, TikTok address the seller by token)."""
        with self._lock:
            entry = self._access.get(access_token)
            if entry is None or (shop_id is not None and shop_id not in entry.shop_ids):
                return "invalid"
            return "expired" if self.clock() >= entry.expires_at else "ok"

    def shops_for(self, access_token: str) -> tuple[str, ...]:
        """The shops an access token covers (empty when unknown), expired or not."""
        with self._lock:
            entry = self._access.get(access_token)
            return tuple(sorted(entry.shop_ids)) if entry else ()

    def revoke_shop(self, shop_id: str) -> None:
        """Authorisation cancelled: every code and token of the shop dies."""
        with self._lock:
            for book in (self._codes, self._access, self._refresh):
                for key, entry in list(book.items()):
                    entry.shop_ids.discard(shop_id)
                    if not entry.shop_ids:
                        del book[key]

    def expire_access_now(self, shop_id: str) -> None:
        """Fault injection: the shop's access tokens are expired from now on (refresh still works)."""
        with self._lock:
            now = self.clock()
            for entry in self._access.values():
                if shop_id in entry.shop_ids:
                    entry.expires_at = min(entry.expires_at, now)


# ---------------------------------------------------------------------------- rate limits
class RateLimiter:
    """A token bucket per key (e.g. (app_key, shop_id) or (app_key, shop_id, api))."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[Any, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: Any) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return True, 0.0
            self._buckets[key] = (tokens, now)
            return False, (1.0 - tokens) / self.rate


# ---------------------------------------------------------------------------- faults
GENERIC_FAULTS = frozenset({"http_500", "http_503", "slow", "timeout", "malformed_json", "invalid_utf8", "oversize"})
PLATFORM_FAULTS = frozenset({"missing_field", "wrong_type", "expired_token"})
FAULT_KINDS = GENERIC_FAULTS | PLATFORM_FAULTS
TIMEOUT_HANG = 30.0                   # seconds a "timeout" fault hangs (longer than any client timeout)
OVERSIZE_BYTES = 8 * 1024 * 1024 + 64 * 1024


@dataclass
class Fault:
    kind: str
    count: int = 1
    path_prefix: str | None = None
    delay: float = 0.0


class FaultPlan:
    """Faults queued by tests or the admin route, injected into the next matching responses."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int = 1, path_prefix: str | None = None, delay: float = 0.0) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        if count < 1 or delay < 0:
            raise ValueError("a fault needs count >= 1 and delay >= 0")
        with self._lock:
            self._queue.append(Fault(kind, count, path_prefix, delay))

    def take(self, path: str, kinds: frozenset[str] | set[str] | None = None) -> Fault | None:
        """The first queued fault for this path (of these kinds), used up by one."""
        with self._lock:
            for fault in self._queue:
                if (kinds is None or fault.kind in kinds) and path.startswith(fault.path_prefix or ""):
                    fault.count -= 1
                    if fault.count == 0:
                        self._queue.remove(fault)
                    return Fault(fault.kind, 1, fault.path_prefix, fault.delay)
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.kind, f.count, f.path_prefix, f.delay) for f in self._queue]


def break_field(record: dict, path: str, kind: str) -> None:
    """Apply a missing_field or wrong_type fault to one record; path is dotted ("recipient_address.phone")."""
    *parents, last = path.split(".")
    for part in parents:
        record = record[part]
    if kind == "missing_field":
        record.pop(last, None)
    elif kind == "wrong_type":
        value = record.get(last)
        record[last] = list(value.values()) if isinstance(value, dict) else {"value": value}
    else:
        raise ValueError(f"{kind!r} is not a record fault")


# ---------------------------------------------------------------------------- pushes
@dataclass
class PushMessage:
    message_id: int
    body: dict
    raw: bytes = field(repr=False)
    duplicate: bool = False                     # will be sent once more after it is acknowledged
    acked: bool = False
    attempts: int = 0


class PushSender:
    """Sends signed pushes to the webhook: retries while not acknowledged (following
    push_retry_delays), sometimes sends a message once more after it was acknowledged
    (push_duplicate_rate), sometimes holds one back and sends it after the next
    (push_reorder). Runs as tasks on the server's loop; never blocks a request.
    `sent` records every attempt; `messages` every push made, sent or not."""

    REORDER_RATE = 0.3
    HOLD_SECONDS = 0.5                          # how long a held-back push waits for the next one

    def __init__(self, config: SimConfig, sign: Callable[[bytes, str], dict[str, str]],
                 acknowledged: Callable[[int, bytes], bool] = lambda status, body: 200 <= status < 300):
        self.config, self.sign, self.acknowledged = config, sign, acknowledged
        self.webhook_url = config.webhook_url
        self.rng = random.Random(f"{config.seed}:pushes")
        self.sent: list[dict] = []
        self.messages: list[PushMessage] = []
        self._early: list[dict] = []
        self._queue: asyncio.Queue[dict] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()

    def enqueue(self, body: dict) -> None:
        """Queue a push (from any thread; before start() it waits for the server)."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            self._early.append(body)
        elif _running_loop() is loop:
            queue.put_nowait(body)
        else:
            loop.call_soon_threadsafe(queue.put_nowait, body)

    def unacknowledged(self) -> list[PushMessage]:
        return [m for m in self.messages if not m.acked]

    async def start(self) -> None:
        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.push_timeout))
        self._spawn(self._worker())
        for body in self._early:
            self._queue.put_nowait(body)
        self._early.clear()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self._loop = self._queue = self._session = None

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _message(self, body: dict) -> PushMessage:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        message = PushMessage(len(self.messages) + 1, body, raw, self.rng.random() < self.config.push_duplicate_rate)
        self.messages.append(message)
        return message

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            message = self._message(await self._queue.get())
            try:
                if self.config.push_reorder and self.rng.random() < self.REORDER_RATE:
                    try:
                        following = self._message(await asyncio.wait_for(self._queue.get(), self.HOLD_SECONDS))
                        await self._first_send(following)
                    except asyncio.TimeoutError:
                        pass
                await self._first_send(message)
            except Exception:   # a bad push (e.g. a signing bug) must not stop the ones after it
                log.exception("push %s could not be sent", message.message_id)

    async def _first_send(self, message: PushMessage) -> None:
        if self.webhook_url is None:
            return                               # kept unacknowledged (a platform may offer it as "lost")
        if await self._send(message):
            if message.duplicate:
                await self._send(message, duplicate=True)
        else:
            self._spawn(self._retry(message))

    async def _retry(self, message: PushMessage) -> None:
        for delay in self.config.push_retry_delays:
            await asyncio.sleep(delay)
            if await self._send(message):
                if message.duplicate:
                    await self._send(message, duplicate=True)
                return

    async def _send(self, message: PushMessage, duplicate: bool = False) -> bool:
        url = self.webhook_url
        if url is None or self._session is None:
            return False
        message.attempts += 1
        headers = {"Content-Type": "application/json", **self.sign(message.raw, url)}
        status: int | None = None
        try:
            async with self._session.post(url, data=message.raw, headers=headers) as response:
                status, reply = response.status, await response.read()
            ok = self.acknowledged(status, reply)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            ok = False
        message.acked = message.acked or ok
        self.sent.append({"message_id": message.message_id, "attempt": message.attempts, "duplicate": duplicate,
                          "status": status, "acknowledged": ok, "time": time.time(), "url": url,
                          "headers": headers, "body": message.body})
        return ok


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# ---------------------------------------------------------------------------- the simulator
def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """UTF-8 JSON as the platforms send it (no \\u escapes)."""
    return web.json_response(data, status=status, headers=headers, dumps=functools.partial(json.dumps, ensure_ascii=False))


class SimulatorBase:
    """One marketplace's open API, simulated. Subclass per marketplace."""

    name: ClassVar[str]                           # "shopee" | "lazada" | "tiktok_shop": also seeds the world
    token_grace: ClassVar[float] = 300.0          # seconds an access token lives after its refresh

    def __init__(self, config: SimConfig, app_key: str, app_secret: str, clock: Clock = time.time):
        self.config, self.app_key, self.app_secret, self.clock = config, app_key, app_secret, clock
        self.world = World(self.name, seed=config.seed, shops=config.shops, products_per_shop=config.products_per_shop,
                           orders_per_shop=config.orders_per_shop, history_days=config.history_days, clock=clock)
        self.tokens = TokenBook(clock, config.access_ttl, config.refresh_ttl, config.code_ttl, grace=self.token_grace)
        self.limiter = RateLimiter(config.rate_limit_per_second, config.rate_limit_burst, clock)
        self.faults = FaultPlan()
        self.pushes = PushSender(config, self.sign_push, self.push_acknowledged)
        self.requests: Counter[str] = Counter()   # platform requests per path (not /_sim)
        self._ticker: asyncio.Task | None = None

    # ---- the platform module's part
    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        """Headers that sign a push body (Shopee signs url + "|" + body, hence the url)."""
        raise NotImplementedError

    def push_for_change(self, change: Change) -> dict | None:
        """The platform's push body for a world change; None: the platform sends none."""
        return None

    def push_for_auth(self, kind: AuthPush, shop_id: str) -> dict | None:
        return None

    def push_acknowledged(self, status: int, body: bytes) -> bool:
        """Whether the receiver's reply acknowledges a push (Shopee also wants an empty body)."""
        return 200 <= status < 300

    def host_apps(self) -> dict[str, web.Application]:
        """Other hosts of the platform, each served on its own port (TikTok: "auth", the
        authorisation host). Their handlers share this simulator's thread-safe token book."""
        return {}

    # ---- helpers for the platform module
    def take_fault(self, request: web.Request, *kinds: str) -> Fault | None:
        """A queued platform fault for this request (missing_field, wrong_type, expired_token)."""
        return self.faults.take(request.path, frozenset(kinds) if kinds else PLATFORM_FAULTS)

    def timestamp_fresh(self, timestamp: float, *, past: float | None = None, future: float = 30.0) -> bool:
        """Whether a signed timestamp (epoch seconds) is within the platform's window."""
        now = self.clock()
        return now - (self.config.timestamp_window if past is None else past) <= timestamp <= now + future

    def tick(self, changes: int = 5) -> list[Change]:
        """Move the world on and queue the platform's pushes for what changed."""
        done = []
        for _ in range(changes):        # one at a time, so each push sees the record as that change left it
            [change] = self.world.tick(1)
            done.append(change)
            if (body := self.push_for_change(change)) is not None:
                self.pushes.enqueue(body)
        return done

    def _push_auth(self, kind: AuthPush, shop_id: str) -> None:
        if (body := self.push_for_auth(kind, shop_id)) is not None:
            self.pushes.enqueue(body)

    # ---- the aiohttp application
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware()])
        app.add_routes(self.routes())
        app.add_routes(self._admin_routes())
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        await self.pushes.start()
        if self.config.tick_interval:
            self._ticker = asyncio.get_running_loop().create_task(self._auto_tick(self.config.tick_interval))

    async def _on_cleanup(self, app: web.Application) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        await self.pushes.stop()

    async def _auto_tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.tick(self.config.tick_changes)

    def _fault_middleware(self):
        @web.middleware
        async def apply_faults(request: web.Request, handler):
            if request.path.startswith("/_sim/"):
                return await handler(request)
            self.requests[request.path] += 1
            fault = self.faults.take(request.path, GENERIC_FAULTS)
            if fault is None:
                return await handler(request)
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
                return await handler(request)
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay or TIMEOUT_HANG)
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError()   # the connection is gone: nothing to answer
            if fault.kind in ("http_500", "http_503"):
                status = int(fault.kind[-3:])
                reason = "Internal Server Error" if status == 500 else "Service Unavailable"
                page = f"<html><body><h1>{status} {reason}</h1></body></html>"   # a gateway's page, not JSON
                return web.Response(status=status, text=page, content_type="text/html",
                                    headers={"Retry-After": "1"} if status == 503 else None)
            if fault.kind == "oversize":
                padding = b"x" * OVERSIZE_BYTES
                return web.Response(body=b'{"padding":"' + padding + b'"}', content_type="application/json")
            response = await handler(request)
            body = getattr(response, "body", None)
            if isinstance(body, bytes):
                if fault.kind == "malformed_json":   # cut off mid-document, between characters (still UTF-8)
                    cut = max(1, len(body) // 2)
                    while cut > 1 and body[cut] & 0xC0 == 0x80:     # never inside a multi-byte character
                        cut -= 1
                    response.body = body[:cut]
                else:                                                 # invalid_utf8: a stray byte inside a string
                    cut = body.find(b'"', body.find(b'"') + 1) if body.count(b'"') >= 2 else len(body)
                    response.body = body[:cut] + b"\xff\xfe" + body[cut:]
            return response
        return apply_faults

    # ---- admin routes (/_sim)
    def _admin_routes(self) -> list[web.RouteDef]:
        def show(read: Callable[[], Any]):
            async def handler(request: web.Request) -> web.Response:
                return json_response(read())
            return handler
        return [web.post("/_sim/tick", self._admin_tick),
                web.get("/_sim/ground_truth", show(self.world.ground_truth)),
                web.post("/_sim/authorize", self._admin_authorize),
                web.get("/_sim/shops", show(lambda: [{"shop_id": s.shop_id, "country": s.country, "name": s.name}
                                                     for s in self.world.shops.values()])),
                web.post("/_sim/shops/{shop_id}/{action:cancel|expiring|expire_token}", self._admin_shop_action),
                web.post("/_sim/faults", self._admin_add_fault),
                web.get("/_sim/faults", show(lambda: [asdict(f) for f in self.faults.pending()])),
                web.get("/_sim/pushes", show(lambda: self.pushes.sent)),
                web.post("/_sim/webhook", self._admin_webhook),
                web.get("/_sim/requests", show(lambda: dict(self.requests)))]

    @staticmethod
    async def _body(request: web.Request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text='{"error": "body is not JSON"}', content_type="application/json")
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text='{"error": "body is not a JSON object"}', content_type="application/json")
        return body

    async def _admin_tick(self, request: web.Request) -> web.Response:
        changes = (await self._body(request)).get("changes", self.config.tick_changes)
        if not isinstance(changes, int) or not 0 <= changes <= 10_000:
            return json_response({"error": "changes must be an integer 0..10000"}, 400)
        return json_response([asdict(c) for c in self.tick(changes)])

    async def _admin_authorize(self, request: web.Request) -> web.Response:
        shop_ids = (await self._body(request)).get("shop_ids") or list(self.world.shops)
        unknown = [s for s in shop_ids if s not in self.world.shops]
        if unknown:
            return json_response({"error": "unknown shop", "shop_ids": unknown}, 404)
        code = self.tokens.issue_code(shop_ids)
        for shop_id in shop_ids:
            self._push_auth("authorised", shop_id)
        return json_response({"code": code, "shop_ids": shop_ids})

    async def _admin_shop_action(self, request: web.Request) -> web.Response:
        shop_id, action = request.match_info["shop_id"], request.match_info["action"]
        if shop_id not in self.world.shops:
            return json_response({"error": "unknown shop"}, 404)
        if action == "cancel":
            self.tokens.revoke_shop(shop_id)
            self._push_auth("cancelled", shop_id)
        elif action == "expiring":
            self._push_auth("expiring", shop_id)
        else:
            self.tokens.expire_access_now(shop_id)
        return json_response({"shop_id": shop_id, "done": action})

    async def _admin_add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.faults.add(str(body.get("kind")), int(body.get("count", 1)), body.get("path_prefix"),
                            float(body.get("delay", 0.0)))
        except (TypeError, ValueError) as error:
            return json_response({"error": str(error)}, 400)
        return json_response([asdict(f) for f in self.faults.pending()])

    async def _admin_webhook(self, request: web.Request) -> web.Response:
        url = (await self._body(request)).get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            return json_response({"error": "url must be an http(s) URL or null"}, 400)
        self.pushes.webhook_url = url
        return json_response({"url": url})


# ---------------------------------------------------------------------------- running it
class RunningSimulator(RunningServer):
    def __init__(self, sim: SimulatorBase, *args: Any):
        super().__init__(*args)
        self.sim = sim
        self.hosts: dict[str, RunningServer] = {}   # the platform's other hosts (e.g. "auth"), by name

    def host_url(self, name: str) -> str:
        return self.hosts[name].url

    def stop(self, timeout: float = 10.0) -> None:
        for other in self.hosts.values():
            other.stop(timeout)
        super().stop(timeout)


def start_in_thread(sim: SimulatorBase, host: str = "127.0.0.1", port: int = 0,
                    host_ports: dict[str, int] | None = None) -> RunningSimulator:
    """Serve a simulator (and its other hosts) from new threads, each with its own loop; port 0
    picks a free port; host_ports gives the other hosts' ports (default: free ones)."""
    running = RunningSimulator(sim, *start_serving(sim.app(), host, port, f"simulator-{sim.name}"))
    try:
        for name, app in sim.host_apps().items():
            running.hosts[name] = RunningServer(*start_serving(app, host, (host_ports or {}).get(name, 0),
                                                               f"simulator-{sim.name}-{name}"))
    except BaseException:
        running.stop()
        raise
    return running
