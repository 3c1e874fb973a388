"""The Lazada connector against the Lazada simulator (in a thread, port 0, no Kafka).

What must hold: tokens come from the real exchange; full listings equal the simulator's
ground truth; incremental windows with a lookback catch changes and late updates; page
caps are passed by moving the time window; the simulator refuses what Lazada refuses, with
Lazada's own errors; rate limits and expiring tokens are waited out or refreshed; every
injected fault ends in a retry or a dead payload, never an escaped exception nor a record
silently missing; pushes verify and parse.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiohttp import web

from connectors.api_client import ApiClient, Backoff
from connectors.base import (ApiFailed, AppCredentials, DeadPayload, PushKind, RawEvent, RefreshRefused, ShopSession,
                             Stream, TimeWindow)
from connectors.card_vault import CardVault
from connectors.lazada.api import LazadaApi
from connectors.runner import authorisation_lapsed, windows
from connectors.simulators.base import SimConfig, serve_in_thread, start_in_thread
from connectors.simulators.lazada import LazadaSimulator
from pipeline_core.avro_codec import default_registry
from tests.support.clock import FakeClock

APP_KEY, APP_SECRET = "120831", "sim-lazada-app-secret-0001"
SCHEMAS = {Stream.ORDERS: "com.powersell.pipeline.raw.RawOrderEvent",
           Stream.PRODUCTS: "com.powersell.pipeline.raw.RawProductEvent",
           Stream.SHOP: "com.powersell.pipeline.raw.RawShopEvent"}
VAULT = CardVault(bytes(range(32)), "test-key")


class Counting:
    """ApiClient metrics stub: counts outcomes and rate-limit waits."""

    def __init__(self):
        self.outcomes: dict[str, int] = {}
        self.rate_waits = 0

    def request(self, marketplace, outcome, seconds):
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def rate_limit_wait(self, marketplace, seconds):
        self.rate_waits += 1


class Harness:
    def __init__(self, running, timeout: float = 5.0, **api_attrs):
        self.running, self.sim, self.url = running, running.sim, running.url
        self.metrics, self.bad = Counting(), []
        self.http = httpx.Client(timeout=timeout)
        self.client = ApiClient("lazada", self.http, metrics=self.metrics, backoff=Backoff(base=0.02, cap=0.2),
                                on_bad_payload=self.bad.append)
        self.api = LazadaApi(self.url, AppCredentials(APP_KEY, APP_SECRET), self.client, seal_card=VAULT.seal)
        for name, value in api_attrs.items():
            setattr(self.api, name, value)
        self.refreshes = 0

    def admin(self, path: str, body: dict | None = None):
        response = httpx.post(self.url + path, json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def truth(self) -> dict:
        return httpx.get(self.url + "/_sim/ground_truth", timeout=10).json()

    def session(self, shop_id: str) -> ShopSession:
        code = self.admin("/_sim/authorize", {"shop_ids": [shop_id]})["code"]
        [auth] = self.api.exchange_code(code)

        def stored(auth):
            self.refreshes += 1
        return ShopSession(self.api, auth, on_refresh=stored)

    def listing(self, session: ShopSession, stream: Stream, start: datetime, end: datetime) -> list:
        fetch = self.api.fetch_orders if stream is Stream.ORDERS else self.api.fetch_products
        items = []
        for window in windows(start, end, self.api.max_window_seconds):
            for page in fetch(session, window, "FULL_SYNC"):
                assert isinstance(page, list)
                items += page
        return items

    def close(self):
        self.http.close()


def versions(items: list, stream: Stream) -> dict[str, int]:
    """entity id -> update time (epoch s) of the events; each record must encode under its schema."""
    found = {}
    for item in items:
        if isinstance(item, RawEvent):
            default_registry().encode(SCHEMAS[stream], item.record)
            rid = item.record["order_id" if stream is Stream.ORDERS else "item_id"]
            stamp = int(item.record["event_time"].timestamp())
            found[rid] = max(stamp, found.get(rid, 0))
    return found


def rest(harness: Harness, shop_id: str, api: str) -> str:
    """The simulator path a shop's call goes to: its country gateway."""
    return f"/{harness.sim.world.shops[shop_id].country.lower()}/rest{api}"


def expected(truth: dict, stream: Stream, shop_id: str) -> dict[str, int]:
    return {key.split(":", 1)[1]: stamp for key, stamp in truth[stream.value].items() if key.startswith(shop_id + ":")}


def history(sim) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return now - timedelta(days=sim.config.history_days + 1), now + timedelta(seconds=2)


def make(config: SimConfig | None = None, timeout: float = 5.0, sim_kwargs: dict | None = None, **api_attrs):
    sim = LazadaSimulator(config or SimConfig(seed=11, shops=2, products_per_shop=25, orders_per_shop=40),
                          APP_KEY, APP_SECRET, **(sim_kwargs or {}))
    return Harness(start_in_thread(sim), timeout, **api_attrs)


@pytest.fixture
def lazada():
    harness = make()
    yield harness
    harness.close()
    harness.running.stop()


def signed(harness: Harness, api: str, params: dict, secret: str = APP_SECRET, timestamp: int | None = None) -> dict:
    """A raw request signed here from the documented algorithm, independent of the connector."""
    params = {"app_key": APP_KEY, "sign_method": "sha256",
              "timestamp": str(timestamp if timestamp is not None else int(time.time() * 1000)), **params}
    text = api + "".join(k + params[k] for k in sorted(params))
    params["sign"] = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return httpx.get(harness.url + "/rest" + api, params=params, timeout=10).json()


# ---------------------------------------------------------------------------- tokens and listings
def test_when_a_code_is_exchanged_then_the_shop_auth_has_tokens_country_and_expiries(lazada):
    shop = next(iter(lazada.sim.world.shops.values()))
    session = lazada.session(shop.shop_id)
    auth = session.auth
    now = time.time()
    assert auth.marketplace == "lazada" and auth.shop_id == shop.shop_id and auth.extra["country"] == shop.country
    assert auth.access_token and auth.refresh_token and "access_token" not in repr(auth)
    assert now + lazada.sim.config.access_ttl - 60 < auth.access_expires_at <= now + lazada.sim.config.access_ttl + 1
    assert auth.refresh_expires_at > auth.access_expires_at
    [shop_event] = lazada.api.fetch_shop(session, "FULL_SYNC")
    default_registry().encode(SCHEMAS[Stream.SHOP], shop_event.record)
    assert shop_event.record["shop_name"] == shop.name and shop_event.key == f"lazada:{shop.shop_id}"


def test_when_every_shop_is_listed_over_its_history_then_products_and_orders_equal_the_ground_truth(lazada):
    truth = lazada.truth()
    start, end = history(lazada.sim)
    for shop_id in lazada.sim.world.shops:
        session = lazada.session(shop_id)
        for stream in (Stream.PRODUCTS, Stream.ORDERS):
            items = lazada.listing(session, stream, start, end)
            assert not [i for i in items if isinstance(i, DeadPayload)]
            assert versions(items, stream) == expected(truth, stream, shop_id)
            assert len(items) == len(expected(truth, stream, shop_id))       # windows meet: no duplicates
    assert lazada.bad == [] and lazada.refreshes == 0


def test_when_some_orders_carry_iso_8601_times_then_they_are_read_like_the_others(lazada):
    shop_id = next(iter(lazada.sim.world.shops))
    start, end = history(lazada.sim)
    raw = signed(lazada, "/orders/get", {"access_token": lazada.session(shop_id).auth.access_token,
                                         "update_after": start.isoformat(), "limit": "100"})["data"]["orders"]
    forms = {"T" in o["updated_at"] for o in raw}
    assert forms == {True, False}, "the simulator answers both time forms"
    items = lazada.listing(lazada.session(shop_id), Stream.ORDERS, start, end)
    assert not [i for i in items if isinstance(i, DeadPayload)]
    assert versions(items, Stream.ORDERS) == expected(lazada.truth(), Stream.ORDERS, shop_id)


def test_when_refresh_expires_in_is_0_then_the_token_cannot_be_refreshed_and_lasts_as_long_as_the_access_token():
    harness = make(SimConfig(seed=11, shops=1, products_per_shop=2, orders_per_shop=2, refresh_ttl=0))
    try:
        session = harness.session(next(iter(harness.sim.world.shops)))
        auth = session.auth
        assert auth.access_expires_at > time.time() + 3600
        assert auth.refresh_expires_at == auth.access_expires_at           # not "expires now"
        assert not authorisation_lapsed(auth, time.time())
        [shop_event] = harness.api.fetch_shop(session, "FULL_SYNC")
        assert abs(shop_event.record["authorised_until"].timestamp() - auth.access_expires_at) < 1
        assert authorisation_lapsed(auth, auth.access_expires_at)
        with pytest.raises(RefreshRefused):
            harness.api.refresh(auth)                                        # Lazada refuses it: IllegalRefreshToken
    finally:
        harness.close()
        harness.running.stop()


def test_when_a_window_ends_mid_second_then_changes_stamped_in_that_second_are_in_it(lazada):
    sessions = {shop_id: lazada.session(shop_id) for shop_id in lazada.sim.world.shops}
    changes = [c for c in lazada.admin("/_sim/tick", {"changes": 10}) if c["kind"] != "late_update"]
    end = datetime.now(timezone.utc)
    if end.microsecond == 0:
        end += timedelta(microseconds=1)
    seen = set()
    for shop_id, session in sessions.items():
        window = TimeWindow(end - timedelta(minutes=5), end)
        for page in lazada.api.fetch_orders(session, window, "INCREMENTAL_SYNC"):
            seen |= {(shop_id, "order", rid) for rid in versions(page, Stream.ORDERS)}
        for page in lazada.api.fetch_products(session, window, "INCREMENTAL_SYNC"):
            seen |= {(shop_id, "product", rid) for rid in versions(page, Stream.PRODUCTS)}
    assert {(c["shop_id"], c["entity"], c["entity_id"]) for c in changes} <= seen


def test_when_the_world_moves_on_then_an_incremental_window_with_lookback_catches_changes_and_late_updates(lazada):
    start, end = history(lazada.sim)
    sessions = {shop_id: lazada.session(shop_id) for shop_id in lazada.sim.world.shops}
    for shop_id, session in sessions.items():
        lazada.listing(session, Stream.ORDERS, start, end)
    checkpoint = datetime.now(timezone.utc)
    changes = lazada.admin("/_sim/tick", {"changes": 40})
    assert any(c["kind"] == "late_update" for c in changes)
    assert any(c["update_time"] < checkpoint.timestamp() for c in changes)   # late: before the checkpoint
    lookback = timedelta(seconds=300)
    now = datetime.now(timezone.utc) + timedelta(seconds=2)
    seen: dict[tuple[str, str, str], int] = {}
    for shop_id, session in sessions.items():
        for stream in (Stream.PRODUCTS, Stream.ORDERS):
            for page in (lazada.api.fetch_orders if stream is Stream.ORDERS else lazada.api.fetch_products)(
                    session, TimeWindow(checkpoint - lookback, now), "INCREMENTAL_SYNC"):
                for rid, stamp in versions(page, stream).items():
                    seen[(shop_id, "order" if stream is Stream.ORDERS else "product", rid)] = stamp
    truth = lazada.truth()
    for change in changes:
        key = (change["shop_id"], change["entity"], change["entity_id"])
        latest = truth["orders" if change["entity"] == "order" else "products"][f"{key[0]}:{key[2]}"]
        assert seen.get(key) == latest, change["kind"]


def test_when_the_offset_cap_would_be_passed_then_the_time_window_moves_and_nothing_is_lost():
    harness = make(SimConfig(seed=5, shops=1, products_per_shop=60, orders_per_shop=90, history_days=10,
                             rate_limit_per_second=1000.0, rate_limit_burst=1000),   # the raw check below is not 901
                   sim_kwargs={"orders_offset_cap": 20, "products_offset_cap": 15},
                   ORDERS_PAGE=5, ORDERS_OFFSET_CAP=20, PRODUCTS_PAGE=5, PRODUCTS_OFFSET_CAP=15)
    try:
        harness.api.max_window_seconds = 30 * 86400          # one window: only the cap can split it
        [shop_id] = harness.sim.world.shops
        session = harness.session(shop_id)
        start, end = history(harness.sim)
        truth = harness.truth()
        for stream in (Stream.ORDERS, Stream.PRODUCTS):
            items = harness.listing(session, stream, start, end)
            assert not [i for i in items if isinstance(i, DeadPayload)]
            assert versions(items, stream) == expected(truth, stream, shop_id)
        assert harness.sim.requests[rest(harness, shop_id, "/orders/get")] > 90 // 5          # it paged, and moved the window
        refused = signed(harness, "/orders/get", {"access_token": session.auth.access_token, "offset": "20",
                                                  "limit": "5", "update_after": "2020-01-01T00:00:00+00:00"})
        assert refused["code"] == "InvalidParameter"
    finally:
        harness.close()
        harness.running.stop()


def test_when_one_token_covers_a_vn_and_a_th_seller_then_the_country_gateways_pick_the_seller(lazada):
    shops = list(lazada.sim.world.shops)
    assert {lazada.sim.world.shops[s].country for s in shops} == {"VN", "TH"}
    code = lazada.admin("/_sim/authorize", {"shop_ids": shops})["code"]
    auths = lazada.api.exchange_code(code)
    assert sorted(a.shop_id for a in auths) == sorted(shops) and len({a.access_token for a in auths}) == 1
    for auth in auths:
        session = ShopSession(lazada.api, auth)
        [event] = lazada.api.fetch_shop(session, "FULL_SYNC")
        assert event.record["shop_id"] == auth.shop_id and event.record["country"] == auth.extra["country"]
        start, end = history(lazada.sim)
        items = lazada.listing(session, Stream.ORDERS, start, end)
        assert versions(items, Stream.ORDERS) == expected(lazada.truth(), Stream.ORDERS, auth.shop_id)
    one_gateway = {"vn": lazada.url + "/rest", "th": lazada.url + "/rest", "auth": lazada.url + "/rest"}
    plain = LazadaApi(lazada.url, AppCredentials(APP_KEY, APP_SECRET), lazada.client, seal_card=VAULT.seal,
                      gateways=one_gateway)
    with pytest.raises(ApiFailed) as refused:
        plain.fetch_shop(ShopSession(plain, auths[0]), "FULL_SYNC")
    assert refused.value.code == "SIM_AmbiguousSeller"


# ---------------------------------------------------------------------------- refusals
def test_when_a_request_is_forged_stale_or_uses_a_spent_token_then_lazada_errors_come_back(lazada):
    shop_id = next(iter(lazada.sim.world.shops))
    session = lazada.session(shop_id)
    token = session.auth.access_token
    assert signed(lazada, "/seller/get", {"access_token": token})["code"] == "0"
    forged = signed(lazada, "/seller/get", {"access_token": token}, secret="not-the-secret")
    assert forged["code"] == "IncompleteSignature" and forged["type"] == "ISV" and forged["request_id"]
    stale = signed(lazada, "/seller/get", {"access_token": token}, timestamp=int((time.time() - 7300) * 1000))
    assert stale["code"] == "InvalidTimestamp"
    assert signed(lazada, "/seller/get", {})["code"] == "MissingParameter"
    assert signed(lazada, "/seller/get", {"access_token": "made-up"})["code"] == "IllegalAccessToken"
    old_refresh = session.auth.refresh_token
    session.refresh()
    assert signed(lazada, "/auth/token/refresh", {"refresh_token": old_refresh})["code"] == "IllegalRefreshToken"
    code = lazada.admin("/_sim/authorize", {"shop_ids": [shop_id]})["code"]
    assert signed(lazada, "/auth/token/create", {"code": code})["code"] == "0"
    assert signed(lazada, "/auth/token/create", {"code": code})["code"] == "InvalidCode"     # single use
    lazada.admin(f"/_sim/shops/{shop_id}/expire_token")
    assert signed(lazada, "/seller/get", {"access_token": session.auth.access_token})["code"] == "IllegalAccessToken"
    # the stricter readings of what the docs' samples disagree on: empty values, raw bodies, sign case
    assert signed(lazada, "/seller/get", {"access_token": token, "note": ""})["code"] == "IncompleteSignature"
    params = {"app_key": APP_KEY, "sign_method": "sha256", "timestamp": str(int(time.time() * 1000)),
              "access_token": token}
    text = "/seller/get" + "".join(k + params[k] for k in sorted(params))
    sign = hmac.new(APP_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    lower = httpx.get(lazada.url + "/rest/seller/get", params={**params, "sign": sign}).json()
    raw_body = httpx.post(lazada.url + "/rest/seller/get", params={**params, "sign": sign.upper()},
                          json={"extra": 1}).json()
    assert lower["code"] == raw_body["code"] == "IncompleteSignature"
    lazada.admin(f"/_sim/shops/{shop_id}/cancel")
    assert signed(lazada, "/auth/token/refresh", {"refresh_token": session.auth.refresh_token})["code"] == "IllegalRefreshToken"


def test_when_a_burst_passes_the_rate_limit_then_lazada_answers_901_and_the_connector_waits_and_completes():
    harness = make(SimConfig(seed=3, shops=1, products_per_shop=40, orders_per_shop=60,
                             rate_limit_per_second=4, rate_limit_burst=3))
    try:
        [shop_id] = harness.sim.world.shops
        session = harness.session(shop_id)
        answers = [signed(harness, "/seller/get", {"access_token": session.auth.access_token})["code"] for _ in range(8)]
        assert "901" in answers
        time.sleep(1.0)
        harness.api.PRODUCTS_PAGE = 5
        start, end = history(harness.sim)
        items = harness.listing(session, Stream.PRODUCTS, start, end)
        assert versions(items, Stream.PRODUCTS) == expected(harness.truth(), Stream.PRODUCTS, shop_id)
        assert harness.metrics.rate_waits > 0
    finally:
        harness.close()
        harness.running.stop()


@pytest.mark.parametrize("how", ["short_ttl", "expired_token_fault"])
def test_when_the_access_token_expires_mid_sync_then_it_is_refreshed_once_and_the_sync_completes(how):
    config = SimConfig(seed=9, shops=1, products_per_shop=20, orders_per_shop=50,
                       access_ttl=2.0 if how == "short_ttl" else 3600)
    clock = FakeClock()
    harness = make(config, sim_kwargs={"clock": clock}, clock=clock)
    try:
        [shop_id] = harness.sim.world.shops
        session = harness.session(shop_id)
        first = session.auth.access_token
        if how == "short_ttl":
            clock.advance(2.2)
        else:
            harness.admin("/_sim/faults", {"kind": "expired_token", "path_prefix": rest(harness, shop_id, "/orders/get")})
        start, end = history(harness.sim)
        items = harness.listing(session, Stream.ORDERS, start, end)
        assert versions(items, Stream.ORDERS) == expected(harness.truth(), Stream.ORDERS, shop_id)
        assert harness.refreshes == 1 and session.auth.access_token != first
    finally:
        harness.close()
        harness.running.stop()


# ---------------------------------------------------------------------------- faults
FAULTS = [("http_500", "/orders/get", {}), ("http_503", "/orders/items/get", {}),
          ("slow", "/orders/get", {"delay": 0.3}), ("timeout", "/orders/get", {"delay": 1.5}),
          ("malformed_json", "/orders/get", {}), ("invalid_utf8", "/orders/items/get", {}),
          ("oversize", "/orders/get", {}), ("missing_field", "/orders/get", {}),
          ("wrong_type", "/orders/get", {}), ("missing_field", "/orders/items/get", {}),
          ("wrong_type", "/orders/items/get", {}), ("expired_token", "/orders/items/get", {})]


@pytest.mark.parametrize("kind, prefix, extra", FAULTS, ids=[f"{k}:{p.split('/')[1]}" for k, p, _ in FAULTS])
def test_when_a_fault_is_injected_then_it_ends_in_a_retry_or_a_dead_payload_and_no_order_goes_missing(kind, prefix, extra):
    harness = make(SimConfig(seed=13, shops=1, products_per_shop=10, orders_per_shop=30), timeout=0.5)
    try:
        [shop_id] = harness.sim.world.shops
        session = harness.session(shop_id)
        harness.admin("/_sim/faults", {"kind": kind, "path_prefix": rest(harness, shop_id, prefix), **extra})
        harness.api.max_window_seconds = 60 * 86400                        # one window: its first page has orders
        start, end = history(harness.sim)
        items = harness.listing(session, Stream.ORDERS, start, end)       # no exception escapes
        dead = [i for i in items if isinstance(i, DeadPayload)]
        truth = expected(harness.truth(), Stream.ORDERS, shop_id)
        found = versions(items, Stream.ORDERS)
        dead_ids = {str(json.loads(d.body)["order_id"]) for d in dead}
        assert set(found) | dead_ids == set(truth) and not set(found) & dead_ids
        assert all(found[o] == truth[o] for o in found)
        assert harness.sim.faults.pending() == []                          # the fault did happen
        if kind in ("missing_field", "wrong_type"):
            assert [(d.stream, d.reason) for d in dead] == [(Stream.ORDERS, kind)]
            assert dead[0].message.startswith(f"{kind} at ") and harness.bad == []
        else:
            assert dead == []
        if kind in ("malformed_json", "invalid_utf8", "oversize"):
            assert [b.reason for b in harness.bad] == [{"malformed_json": "invalid_json"}.get(kind, kind)]
        if kind in ("http_500", "http_503", "timeout"):
            assert harness.metrics.outcomes.get("error", 0) + harness.metrics.outcomes.get("timeout", 0) >= 1
    finally:
        harness.close()
        harness.running.stop()


@pytest.mark.parametrize("kind", ["missing_field", "wrong_type"])
def test_when_a_fault_breaks_an_empty_page_then_the_envelope_is_a_bad_payload_and_the_call_is_retried(lazada, kind):
    shop_id = next(iter(lazada.sim.world.shops))
    session = lazada.session(shop_id)
    lazada.admin("/_sim/faults", {"kind": kind, "path_prefix": rest(lazada, shop_id, "/orders/get")})
    long_ago = datetime(2001, 1, 1, tzinfo=timezone.utc)
    assert list(lazada.api.fetch_orders(session, TimeWindow(long_ago, long_ago + timedelta(days=1)), "FULL_SYNC")) == [[]]
    assert [b.reason for b in lazada.bad] == [kind] and lazada.sim.requests[rest(lazada, shop_id, "/orders/get")] == 2


def test_when_a_product_record_is_broken_then_it_is_a_dead_payload_and_the_rest_of_the_page_continues(lazada):
    shop_id = next(iter(lazada.sim.world.shops))
    session = lazada.session(shop_id)
    lazada.admin("/_sim/faults", {"kind": "wrong_type", "path_prefix": rest(lazada, shop_id, "/products/get")})
    lazada.api.max_window_seconds = 60 * 86400                            # one window: its first page has products
    start, end = history(lazada.sim)
    items = lazada.listing(session, Stream.PRODUCTS, start, end)
    dead = [i for i in items if isinstance(i, DeadPayload)]
    assert [(d.reason, d.message) for d in dead] == [("wrong_type", "wrong_type at updated_time")]
    truth = expected(lazada.truth(), Stream.PRODUCTS, shop_id)
    assert set(versions(items, Stream.PRODUCTS)) | {str(json.loads(dead[0].body)["item_id"])} == set(truth)


# ---------------------------------------------------------------------------- pushes
@pytest.fixture
def receiver():
    got: list[tuple[dict, bytes]] = []
    lock = threading.Lock()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        with lock:
            got.append((dict(request.headers), body))
        return web.Response(status=200)
    app = web.Application()
    app.router.add_post("/webhooks/lazada", receive)
    running = serve_in_thread(app, name="receiver")
    yield running.url + "/webhooks/lazada", got
    running.stop()


def test_when_the_simulator_pushes_then_signatures_verify_and_kinds_parse(receiver):
    url, got = receiver
    harness = make(SimConfig(seed=21, shops=2, products_per_shop=5, orders_per_shop=10, webhook_url=url,
                             push_duplicate_rate=0.0, push_reorder=False))
    try:
        shop_id = next(iter(harness.sim.world.shops))
        harness.session(shop_id)                                           # authorised
        changes = harness.admin("/_sim/tick", {"changes": 10})
        harness.admin(f"/_sim/shops/{shop_id}/expiring")
        harness.admin(f"/_sim/shops/{shop_id}/cancel")
        wanted = 3 + sum(c["entity"] == "order" for c in changes)         # authorised, expiring, cancelled
        deadline = time.time() + 10
        while len(got) < wanted and time.time() < deadline:
            time.sleep(0.05)
        notices = []
        for headers, body in got:
            assert harness.api.verify_push(url, headers, body)
            notices.append(harness.api.parse_push(body))
        kinds = [n.kind for n in notices]
        assert {PushKind.SHOP_AUTHORISED, PushKind.AUTHORISATION_EXPIRING, PushKind.AUTHORISATION_CANCELLED,
                PushKind.ORDER_STATUS} <= set(kinds)
        orders = {(n.shop_id, n.order_id) for n in notices if n.kind is PushKind.ORDER_STATUS}
        assert orders == {(c["shop_id"], c["entity_id"]) for c in changes if c["entity"] == "order"}
        assert all(n.shop_id == shop_id for n in notices if n.kind is not PushKind.ORDER_STATUS)
        headers, body = got[0]
        assert not harness.api.verify_push(url, headers, body.replace(b"}", b" }", 1))
        assert not harness.api.verify_push(url, {**headers, "Authorization": "0" * 64}, body)
        assert not harness.api.verify_push(url, {k: v for k, v in headers.items() if k.lower() != "authorization"}, body)
        session_orders = [o for o in notices if o.kind is PushKind.ORDER_STATUS and o.shop_id == shop_id]
        for notice in session_orders[:1]:                                  # a push's order, fetched by id
            auth_session = harness.session(shop_id)
            [event] = harness.api.fetch_orders_by_id(auth_session, [notice.order_id], "WEBHOOK")
            assert event.record["order_id"] == notice.order_id and event.record["ingest_source"] == "WEBHOOK"
    finally:
        harness.close()
        harness.running.stop()
