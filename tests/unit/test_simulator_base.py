"""The simulators' shared machinery: tokens, rate limits, faults, pushes, admin routes and
the threaded server, exercised through a tiny fake platform."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import Counter

import httpx
import pytest
from aiohttp import web

from connectors.simulators.base import (FaultPlan, RateLimiter, SimConfig, SimulatorBase, TokenBook, break_field,
                                        json_response, serve_in_thread, start_in_thread)
from connectors.simulators.world import Change
from tests.support.waiting import wait_for

SECRET = "fake-secret"
HTTP = httpx.Client(timeout=10)   # one client: building an SSL context per request costs ~80 ms


class FakeClock:
    def __init__(self, now: float = 1_763_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------------- a tiny fake platform
class FakePlatform(SimulatorBase):
    """Uses the shared pieces the way a marketplace module does."""
    name = "fake"
    numbers = itertools.count(1)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/token", self.token), web.post("/api/refresh", self.refresh),
                web.get("/api/orders", self.orders), web.get("/api/other", self.other)]

    async def token(self, request: web.Request) -> web.Response:
        grant = self.tokens.redeem_code((await request.json()).get("code", ""))
        return self._grant(grant, "invalid_code")

    async def refresh(self, request: web.Request) -> web.Response:
        grant = self.tokens.refresh((await request.json()).get("refresh_token", ""))
        return self._grant(grant, "invalid_refresh_token")

    def _grant(self, grant, error: str) -> web.Response:
        if grant is None:
            return json_response({"error": error}, 400)
        return json_response({"access_token": grant.access_token, "refresh_token": grant.refresh_token,
                              "expire_at": grant.access_expires_at, "shop_ids": list(grant.shop_ids)})

    async def orders(self, request: web.Request) -> web.Response:
        shop_id, token = request.query.get("shop_id", ""), request.query.get("access_token", "")
        allowed, wait = self.limiter.allow((self.app_key, shop_id))
        if not allowed:
            return json_response({"error": "too_many_requests"}, 429, {"Retry-After": f"{wait:.3f}"})
        state = self.tokens.check_access(token, shop_id)
        if self.take_fault(request, "expired_token"):
            state = "expired"
        if state != "ok":
            return json_response({"error": f"{state}_token"}, 401 if state == "expired" else 403)
        rows = [{"order_id": o.order_id, "status": o.status, "update_time": o.update_time}
                for o in self.world.orders_in(shop_id, 0, 2**40)]
        if (fault := self.take_fault(request, "missing_field", "wrong_type")) is not None:
            break_field(rows[0], "status", fault.kind)
        return json_response({"orders": rows, "note": "đơn hàng ใบสั่งซื้อ"})

    async def other(self, request: web.Request) -> web.Response:
        return json_response({"ok": True})

    def push_for_change(self, change: Change) -> dict | None:
        if change.entity != "order":
            return None
        order = self.world.orders[(change.shop_id, change.entity_id)]
        return {"id": f"{change.entity_id}:{order.status}:{next(self.numbers)}", "shop_id": change.shop_id,
                "order_id": change.entity_id, "status": order.status}

    def push_for_auth(self, kind, shop_id):
        return {"id": f"{kind}:{shop_id}", "kind": kind, "shop_id": shop_id}

    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        return {"Authorization": hmac.new(SECRET.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()}


def config(**overrides) -> SimConfig:
    return SimConfig(**{"shops": 2, "products_per_shop": 5, "orders_per_shop": 10, **overrides})


@pytest.fixture
def sim_server():
    """start(**config overrides) -> (sim, running); every server started is stopped."""
    started = []

    def start(**overrides):
        sim = FakePlatform(config(**overrides), "fake-key", SECRET)
        running = start_in_thread(sim)
        started.append(running)
        return sim, running
    yield start
    for running in started:
        running.stop()


class Receiver:
    """A webhook receiver: acknowledges a body only from its `ack_from`-th arrival on."""

    def __init__(self, ack_from: int = 1, delay: float = 0.0):
        self.ack_from, self.delay = ack_from, delay
        self.received: list[tuple[dict, bytes, int]] = []   # (headers, body, status answered)
        self.seen: Counter[bytes] = Counter()
        self.lock = threading.Lock()
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        self.server = serve_in_thread(app, name="receiver")
        self.url = self.server.url + "/hook"

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.seen[body] += 1
            status = 200 if self.seen[body] >= self.ack_from else 500
            self.received.append((dict(request.headers), body, status))
        return web.Response(status=status)

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(body) for _, body, _ in self.received]


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]
    yield make
    for receiver in made:
        receiver.server.stop()


def authorise(url: str, shop_ids: list[str] | None = None) -> dict:
    code = HTTP.post(f"{url}/_sim/authorize", json={"shop_ids": shop_ids} if shop_ids else {}).json()["code"]
    return HTTP.post(f"{url}/api/token", json={"code": code}).json()


# ---------------------------------------------------------------------------- TokenBook
def book(clock: FakeClock) -> TokenBook:
    return TokenBook(clock, access_ttl=4 * 3600, refresh_ttl=30 * 86400, code_ttl=600, grace=300)


def test_when_code_redeemed_then_tokens_work_and_the_code_is_spent():
    clock = FakeClock()
    tokens = book(clock)
    code = tokens.issue_code(["s1", "s2"])
    grant = tokens.redeem_code(code)
    assert grant.shop_ids == ("s1", "s2") and grant.access_expires_at == clock.now + 4 * 3600
    assert grant.refresh_expires_at == clock.now + 30 * 86400 and grant.access_token != grant.refresh_token
    assert tokens.check_access(grant.access_token, "s1") == "ok" == tokens.check_access(grant.access_token)
    assert tokens.check_access(grant.access_token, "s3") == "invalid"
    assert tokens.check_access("made-up", "s1") == "invalid"
    assert tokens.redeem_code(code) is None                              # single use
    assert tokens.shops_for(grant.access_token) == ("s1", "s2") and tokens.shops_for("made-up") == ()
    assert grant.access_token not in repr(grant) and grant.refresh_token not in repr(grant)


def test_when_code_or_tokens_are_old_then_they_are_refused():
    clock = FakeClock()
    tokens = book(clock)
    late_code = tokens.issue_code(["s1"])
    clock.now += 601
    assert tokens.redeem_code(late_code) is None
    grant = tokens.redeem_code(tokens.issue_code(["s1"]))
    clock.now += 4 * 3600
    assert tokens.check_access(grant.access_token, "s1") == "expired"
    clock.now += 30 * 86400
    assert tokens.refresh(grant.refresh_token) is None


def test_when_refreshed_then_new_pair_and_old_access_lives_the_grace_period():
    clock = FakeClock()
    tokens = book(clock)
    first = tokens.redeem_code(tokens.issue_code(["s1"]))
    second = tokens.refresh(first.refresh_token)
    assert second is not None and second.access_token != first.access_token
    assert tokens.refresh(first.refresh_token) is None                  # single use
    clock.now += 299
    assert tokens.check_access(first.access_token, "s1") == "ok"
    clock.now += 1
    assert tokens.check_access(first.access_token, "s1") == "expired"
    assert tokens.check_access(second.access_token, "s1") == "ok"
    assert tokens.refresh(second.refresh_token) is not None


def test_when_shop_revoked_or_expired_now_then_its_tokens_say_so():
    clock = FakeClock()
    tokens = book(clock)
    both = tokens.redeem_code(tokens.issue_code(["s1", "s2"]))
    only = tokens.redeem_code(tokens.issue_code(["s1"]))
    pending_code = tokens.issue_code(["s1"])
    tokens.expire_access_now("s2")
    assert tokens.check_access(both.access_token, "s2") == "expired"
    assert tokens.check_access(only.access_token, "s1") == "ok"
    tokens.revoke_shop("s1")
    assert tokens.check_access(only.access_token, "s1") == "invalid"
    assert tokens.check_access(both.access_token, "s1") == "invalid"
    assert tokens.refresh(only.refresh_token) is None and tokens.redeem_code(pending_code) is None
    renewed = tokens.refresh(both.refresh_token)                         # still covers s2
    assert renewed.shop_ids == ("s2",) and tokens.check_access(renewed.access_token, "s2") == "ok"


# ---------------------------------------------------------------------------- RateLimiter, FaultPlan, break_field
def test_when_burst_used_then_refused_until_the_bucket_refills():
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.allow("a")[0] for _ in range(3)] == [True, True, True]
    allowed, wait = limiter.allow("a")
    assert not allowed and wait == pytest.approx(0.5)
    assert limiter.allow("b") == (True, 0.0)                             # keys are independent
    clock.now += 0.5
    assert limiter.allow("a") == (True, 0.0)
    assert not limiter.allow("a")[0]
    clock.now += 100
    assert [limiter.allow("a")[0] for _ in range(4)] == [True, True, True, False]   # never above the burst


def test_when_faults_queued_then_taken_in_order_by_path_kind_and_count():
    plan = FaultPlan()
    plan.add("http_500", count=2, path_prefix="/api/orders")
    plan.add("missing_field")
    plan.add("slow", delay=1.5)
    assert plan.take("/api/items", {"http_500", "slow"}).kind == "slow"
    assert plan.take("/api/orders/list").kind == "http_500"
    assert [f.count for f in plan.pending()] == [1, 1]
    assert plan.take("/api/orders", {"missing_field"}).kind == "missing_field"
    assert plan.take("/api/orders").kind == "http_500"
    assert plan.take("/api/orders") is None and plan.pending() == []
    with pytest.raises(ValueError):
        plan.add("http_418")
    with pytest.raises(ValueError):
        plan.add("slow", count=0)


@pytest.mark.parametrize("kind, path, expected", [
    ("missing_field", "status", {"id": 1, "address": {"phone": "0912345678"}}),
    ("missing_field", "address.phone", {"id": 1, "status": "SHIPPED", "address": {}}),
    ("wrong_type", "status", {"id": 1, "status": {"value": "SHIPPED"}, "address": {"phone": "0912345678"}}),
    ("wrong_type", "address", {"id": 1, "status": "SHIPPED", "address": ["0912345678"]}),
])
def test_when_record_broken_then_one_field_is_missing_or_mistyped(kind, path, expected):
    record = {"id": 1, "status": "SHIPPED", "address": {"phone": "0912345678"}}
    break_field(record, path, kind)
    assert record == expected


# ---------------------------------------------------------------------------- the server
def test_when_started_then_tokens_limit_and_admin_routes_work(sim_server):
    sim, running = sim_server(rate_limit_per_second=0.001, rate_limit_burst=3)
    url = running.url
    shops = HTTP.get(f"{url}/_sim/shops").json()
    assert [s["shop_id"] for s in shops] == list(sim.world.shops) and {s["country"] for s in shops} == {"VN", "TH"}
    shop = shops[0]["shop_id"]
    grant = authorise(url, [shop])
    assert grant["shop_ids"] == [shop]
    query = {"shop_id": shop, "access_token": grant["access_token"]}
    answer = HTTP.get(f"{url}/api/orders", params=query)
    assert answer.status_code == 200 and len(answer.json()["orders"]) == 10
    assert "ใบสั่งซื้อ".encode() in answer.content                     # UTF-8, not \\u escapes
    assert HTTP.get(f"{url}/api/orders", params={**query, "access_token": "nope"}).status_code == 403
    assert HTTP.get(f"{url}/api/orders", params=query).status_code == 200
    limited = HTTP.get(f"{url}/api/orders", params=query)
    assert limited.status_code == 429 and float(limited.headers["Retry-After"]) > 0
    assert HTTP.get(f"{url}/api/orders", params={**query, "shop_id": shops[1]["shop_id"]}).status_code == 403
    assert HTTP.get(f"{url}/_sim/requests").json()["/api/orders"] == 5


def test_when_refreshed_over_http_then_old_refresh_token_is_refused(sim_server):
    sim, running = sim_server()
    grant = authorise(running.url)
    assert sorted(grant["shop_ids"]) == sorted(sim.world.shops)
    renewed = HTTP.post(f"{running.url}/api/refresh", json={"refresh_token": grant["refresh_token"]})
    assert renewed.status_code == 200 and renewed.json()["access_token"] != grant["access_token"]
    again = HTTP.post(f"{running.url}/api/refresh", json={"refresh_token": grant["refresh_token"]})
    assert again.status_code == 400 and again.json() == {"error": "invalid_refresh_token"}


def test_when_token_expired_by_admin_or_fault_then_platform_says_expired(sim_server):
    sim, running = sim_server()
    shop = next(iter(sim.world.shops))
    grant = authorise(running.url, [shop])
    query = {"shop_id": shop, "access_token": grant["access_token"]}
    HTTP.post(f"{running.url}/_sim/faults", json={"kind": "expired_token", "path_prefix": "/api/orders"})
    assert HTTP.get(f"{running.url}/api/orders", params=query).status_code == 401
    assert HTTP.get(f"{running.url}/api/orders", params=query).status_code == 200   # a fault is used up
    assert HTTP.post(f"{running.url}/_sim/shops/{shop}/expire_token").status_code == 200
    assert HTTP.get(f"{running.url}/api/orders", params=query).json() == {"error": "expired_token"}
    renewed = HTTP.post(f"{running.url}/api/refresh", json={"refresh_token": grant["refresh_token"]}).json()
    assert HTTP.get(f"{running.url}/api/orders", params={**query, "access_token": renewed["access_token"]}).status_code == 200


def _json_fails(response: httpx.Response) -> bool:
    try:
        json.loads(response.content.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True
    return False


def _utf8_fails(response: httpx.Response) -> bool:
    try:
        response.content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.parametrize("kind, check", [
    ("http_500", lambda r: r.status_code == 500),
    ("http_503", lambda r: r.status_code == 503 and r.headers["Retry-After"] == "1"),
    ("malformed_json", lambda r: r.status_code == 200 and _json_fails(r) and not _utf8_fails(r)),
    ("invalid_utf8", lambda r: r.status_code == 200 and _utf8_fails(r)),
    ("oversize", lambda r: len(r.content) > 8 * 1024 * 1024),
])
def test_when_generic_fault_queued_then_the_next_matching_response_has_it(sim_server, kind, check):
    sim, running = sim_server()
    added = HTTP.post(f"{running.url}/_sim/faults", json={"kind": kind, "count": 2, "path_prefix": "/api/other"})
    assert added.status_code == 200 and added.json()[0]["kind"] == kind
    assert HTTP.get(f"{running.url}/api/orders").status_code == 403           # another path: untouched
    assert HTTP.get(f"{running.url}/_sim/shops").status_code == 200            # admin routes never faulted
    assert check(HTTP.get(f"{running.url}/api/other"))
    assert check(HTTP.get(f"{running.url}/api/other"))
    healthy = HTTP.get(f"{running.url}/api/other")
    assert healthy.status_code == 200 and healthy.json() == {"ok": True}
    assert HTTP.get(f"{running.url}/_sim/faults").json() == []


def test_when_slow_or_timeout_fault_then_the_answer_is_late_or_never(sim_server):
    sim, running = sim_server()
    HTTP.post(f"{running.url}/_sim/faults", json={"kind": "slow", "delay": 0.4})
    started = time.monotonic()
    assert HTTP.get(f"{running.url}/api/other").status_code == 200
    assert time.monotonic() - started >= 0.4
    HTTP.post(f"{running.url}/_sim/faults", json={"kind": "timeout", "delay": 3})
    with pytest.raises(httpx.ReadTimeout):
        HTTP.get(f"{running.url}/api/other", timeout=0.3)
    assert HTTP.get(f"{running.url}/api/other", timeout=2).status_code == 200   # the server is not stuck


def test_when_record_fault_queued_then_the_platform_breaks_one_record(sim_server):
    sim, running = sim_server()
    shop = next(iter(sim.world.shops))
    query = {"shop_id": shop, "access_token": authorise(running.url, [shop])["access_token"]}
    HTTP.post(f"{running.url}/_sim/faults", json={"kind": "missing_field"})
    HTTP.get(f"{running.url}/api/other")              # the middleware leaves record faults to the platform
    rows = HTTP.get(f"{running.url}/api/orders", params=query).json()["orders"]
    assert "status" not in rows[0] and all("status" in r for r in rows[1:])
    HTTP.post(f"{running.url}/_sim/faults", json={"kind": "wrong_type"})
    rows = HTTP.get(f"{running.url}/api/orders", params=query).json()["orders"]
    assert isinstance(rows[0]["status"], dict) and all(isinstance(r["status"], str) for r in rows[1:])


@pytest.mark.parametrize("method, path, body, status", [
    ("post", "/_sim/faults", {"kind": "http_418"}, 400),
    ("post", "/_sim/faults", {"kind": "slow", "delay": "soon"}, 400),
    ("post", "/_sim/tick", {"changes": "many"}, 400),
    ("post", "/_sim/authorize", {"shop_ids": ["no-such-shop"]}, 404),
    ("post", "/_sim/shops/no-such-shop/cancel", None, 404),
    ("post", "/_sim/webhook", {"url": "ftp://example"}, 400),
])
def test_when_admin_request_is_wrong_then_it_is_refused(sim_server, method, path, body, status):
    sim, running = sim_server()
    assert HTTP.request(method, running.url + path, json=body).status_code == status


def test_when_ticked_over_http_then_changes_show_in_the_ground_truth(sim_server):
    sim, running = sim_server()
    before = HTTP.get(f"{running.url}/_sim/ground_truth").json()
    changes = HTTP.post(f"{running.url}/_sim/tick", json={"changes": 12}).json()
    assert len(changes) == 12
    after = HTTP.get(f"{running.url}/_sim/ground_truth").json()
    assert after == running.call(sim.world.ground_truth) and after != before
    for change in changes:
        book = after["orders" if change["entity"] == "order" else "products"]
        assert f"{change['shop_id']}:{change['entity_id']}" in book
    new_orders = [c for c in changes if c["kind"] == "new_order"]
    assert len(after["orders"]) == len(before["orders"]) + len(new_orders)


def test_when_tick_interval_set_then_the_world_moves_on_its_own(sim_server):
    sim, running = sim_server(tick_interval=0.05, tick_changes=2)
    before = HTTP.get(f"{running.url}/_sim/ground_truth").json()
    wait_for(lambda: HTTP.get(f"{running.url}/_sim/ground_truth").json() != before, what="an automatic tick")


def test_when_two_simulators_start_then_each_gets_its_own_port_and_stops(sim_server):
    _, one = sim_server(seed=1)
    _, two = sim_server(seed=2)
    assert one.url != two.url
    assert HTTP.get(f"{one.url}/_sim/shops").json() != HTTP.get(f"{two.url}/_sim/shops").json()
    one.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{one.url}/_sim/shops", timeout=2)
    assert HTTP.get(f"{two.url}/_sim/shops").status_code == 200


# ---------------------------------------------------------------------------- pushes
def _acknowledged_ids(url: str) -> set[int]:
    return {s["message_id"] for s in HTTP.get(f"{url}/_sim/pushes").json() if s["acknowledged"]}


def test_when_push_not_acknowledged_then_it_is_retried_until_it_is(sim_server, receivers):
    receiver = receivers(ack_from=2)
    sim, running = sim_server(push_duplicate_rate=0.0, push_reorder=False, push_retry_delays=(0.05, 0.1, 0.2))
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    changes = HTTP.post(f"{running.url}/_sim/tick", json={"changes": 10}).json()
    expected = sum(1 for c in changes if c["entity"] == "order")
    assert expected
    wait_for(lambda: len(_acknowledged_ids(running.url)) == expected, what="every push acknowledged")
    sent = HTTP.get(f"{running.url}/_sim/pushes").json()
    by_message: dict[int, list[dict]] = {}
    for attempt in sent:
        by_message.setdefault(attempt["message_id"], []).append(attempt)
    assert len(by_message) == expected
    for attempts in by_message.values():
        assert [(a["attempt"], a["status"], a["acknowledged"]) for a in attempts] == [(1, 500, False), (2, 200, True)]
    for headers, body, _ in receiver.received:     # every delivery is signed over url | raw body
        expected_sign = hmac.new(SECRET.encode(), receiver.url.encode() + b"|" + body, hashlib.sha256).hexdigest()
        assert headers["Authorization"] == expected_sign
    assert Counter(receiver.seen.values()) == {2: expected}
    assert sim.pushes.unacknowledged() == []


def test_when_push_never_acknowledged_then_retries_stop_and_it_stays_unacknowledged(sim_server, receivers):
    receiver = receivers(ack_from=99)
    sim, running = sim_server(push_duplicate_rate=0.0, push_reorder=False, push_retry_delays=(0.02, 0.02))
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    shop = next(iter(sim.world.shops))
    HTTP.post(f"{running.url}/_sim/shops/{shop}/expiring")
    wait_for(lambda: len(receiver.received) == 3, what="the first attempt and two retries")
    assert [m.attempts for m in running.call(sim.pushes.unacknowledged)] == [3]
    assert receiver.bodies()[0] == {"id": f"expiring:{shop}", "kind": "expiring", "shop_id": shop}


def test_when_duplicate_rate_is_one_then_every_push_arrives_twice(sim_server, receivers):
    receiver = receivers()
    sim, running = sim_server(push_duplicate_rate=1.0, push_reorder=False)
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    changes = HTTP.post(f"{running.url}/_sim/tick", json={"changes": 8}).json()
    expected = sum(1 for c in changes if c["entity"] == "order")
    wait_for(lambda: len(receiver.received) == 2 * expected, what="every push twice")
    assert Counter(receiver.seen.values()) == {2: expected}
    sent = HTTP.get(f"{running.url}/_sim/pushes").json()
    assert sorted(s["duplicate"] for s in sent) == [False] * expected + [True] * expected


def test_when_reordering_then_some_pushes_arrive_after_later_ones(sim_server, receivers):
    receiver = receivers()
    sim, running = sim_server(push_duplicate_rate=0.0, push_reorder=True, orders_per_shop=40)
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    changes = HTTP.post(f"{running.url}/_sim/tick", json={"changes": 60}).json()
    expected = sum(1 for c in changes if c["entity"] == "order")
    wait_for(lambda: len(receiver.received) == expected, timeout=20, what="every push")
    queued = [m.body["id"] for m in running.call(lambda: list(sim.pushes.messages))]
    arrived = [b["id"] for b in receiver.bodies()]
    assert sorted(arrived) == sorted(queued) and len(set(arrived)) == expected
    assert arrived != queued, "with push_reorder some pushes overtake others"


def test_when_receiver_is_slow_then_requests_are_not_held_up(sim_server, receivers):
    receiver = receivers(delay=1.5)
    sim, running = sim_server(push_duplicate_rate=0.0, push_reorder=False)
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    started = time.monotonic()
    HTTP.post(f"{running.url}/_sim/tick", json={"changes": 10})
    HTTP.get(f"{running.url}/_sim/ground_truth")
    assert time.monotonic() - started < 1.0
    wait_for(lambda: receiver.received, what="the slow receiver to get a push")


def test_when_shop_authorised_or_cancelled_then_pushes_say_so_and_tokens_die(sim_server, receivers):
    receiver = receivers()
    sim, running = sim_server(push_duplicate_rate=0.0, push_reorder=False)
    HTTP.post(f"{running.url}/_sim/webhook", json={"url": receiver.url})
    shop = next(iter(sim.world.shops))
    grant = authorise(running.url, [shop])
    assert HTTP.post(f"{running.url}/_sim/shops/{shop}/cancel").status_code == 200
    query = {"shop_id": shop, "access_token": grant["access_token"]}
    assert HTTP.get(f"{running.url}/api/orders", params=query).json() == {"error": "invalid_token"}
    wait_for(lambda: len(receiver.received) == 2, what="two authorisation pushes")
    assert [b["kind"] for b in receiver.bodies()] == ["authorised", "cancelled"]


def test_when_no_webhook_then_pushes_are_kept_unsent(sim_server):
    sim, running = sim_server()
    HTTP.post(f"{running.url}/_sim/tick", json={"changes": 10})
    wait_for(lambda: running.call(lambda: len(sim.pushes.messages)) > 0, what="pushes to be queued")
    assert HTTP.get(f"{running.url}/_sim/pushes").json() == []
    assert all(not m.acked and m.attempts == 0 for m in running.call(sim.pushes.unacknowledged))


def test_a_malformed_json_fault_cuts_between_characters_so_the_body_stays_utf8():
    from aiohttp.test_utils import TestClient, TestServer

    from connectors.simulators.base import json_response

    class Thai(SimulatorBase):
        name = "shopee"

        def routes(self):
            async def page(request):
                return json_response({"name": "ร้านค้า" * 50})
            return [web.get("/api/page", page)]

        def sign_push(self, body, url):
            return {}

    async def run():
        sim = Thai(SimConfig(shops=1, products_per_shop=1, orders_per_shop=1), "k", "s")
        bodies = []
        for _ in range(3):
            sim.faults.add("malformed_json", 1, "/api/page")
            async with TestClient(TestServer(sim.app())) as client:
                bodies.append(await (await client.get("/api/page")).read())
        return bodies
    for body in asyncio.run(run()):
        body.decode("utf-8")                  # cut, but never inside a character
        with pytest.raises(ValueError):
            json.loads(body)
