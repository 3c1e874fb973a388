"""The Shopee connector against the Shopee simulator (in a thread, port 0, no Kafka): tokens,
full and incremental listings against the simulator's ground truth, caps, the gateway's
refusals, rate limits, token expiry, injected faults and pushes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiohttp import web

from connectors.api_client import ApiClient, Backoff
from connectors.base import (ApiFailed, AppCredentials, ConnectorError, DeadPayload, PushKind, RawEvent,
                             RefreshRefused, ShopSession, Stream, TimeWindow)
from connectors.runner import authorisation_lapsed
from connectors.card_vault import CardVault
from connectors.shopee.push import parse_push
from connectors.shopee.api import ITEM_LIST, ORDER_LIST, SHOP_INFO, ShopeeApi
from connectors.simulators.base import SimConfig, start_in_thread
from connectors.simulators.shopee import ShopeeSimulator
from pipeline_core.aiohttp_thread import serve_in_thread as serve_app
from pipeline_core.avro_codec import default_registry
from tests.support.clock import FakeClock
from tests.support.waiting import wait_for

APP = AppCredentials("2001887", "sim-shopee-partner-key-0001")
RECORDS = {Stream.SHOP: "RawShopEvent", Stream.PRODUCTS: "RawProductEvent", Stream.ORDERS: "RawOrderEvent"}


class Metrics:
    def __init__(self):
        self.outcomes, self.rate_waits = [], []

    def request(self, marketplace, outcome, seconds=None):
        self.outcomes.append(outcome)

    def rate_limit_wait(self, marketplace, seconds):
        self.rate_waits.append(seconds)


class Rig:
    def __init__(self, tmp_path, timeout: float = 10.0, item_list_cap: int | None = None, clock=time.time, **config):
        config = {"shops": 2, "products_per_shop": 25, "orders_per_shop": 40, "seed": 11, **config}
        self.sim = ShopeeSimulator(SimConfig(**config), APP.app_key, APP.app_secret, clock=clock,
                                   item_list_cap=item_list_cap)
        self.running = start_in_thread(self.sim)
        self.url = self.running.url
        self.http = httpx.Client(timeout=timeout)
        self.metrics, self.bad = Metrics(), []
        self.client = ApiClient("shopee", self.http, metrics=self.metrics, backoff=Backoff(0.01, 2.0, 0.05),
                                on_bad_payload=self.bad.append)
        self.vault = CardVault.from_file(tmp_path / "card.key")
        self.api = ShopeeApi(self.url, APP, self.client, seal_card=self.vault.seal, clock=clock)
        self.refreshes = 0

    def close(self):
        self.http.close()
        self.running.stop()

    def post(self, path, payload=None):
        return httpx.post(self.url + path, json=payload or {}, timeout=10).json()

    def truth(self):
        return httpx.get(self.url + "/_sim/ground_truth", timeout=10).json()

    def authorise(self, shop_ids):
        reply = self.post("/_sim/authorize", {"shop_ids": shop_ids})
        ident = reply.get("shop_id") or f"main_account:{reply['main_account_id']}"
        return reply["code"], ident

    def sessions(self):
        code, ident = self.authorise(sorted(self.sim.world.shops))
        auths = self.api.exchange_code(code, ident)

        def counted(auth):
            self.refreshes += 1
        return [ShopSession(self.api, auth, on_refresh=counted) for auth in auths]

    def listing(self, session, start, end, source="FULL_SYNC"):
        window = TimeWindow(start, end)
        items = [i for page in self.api.fetch_products(session, window, source) for i in page]
        items += [i for page in self.api.fetch_orders(session, window, source) for i in page]
        return items


@pytest.fixture
def rig_factory(tmp_path):
    rigs = []

    def make(**kw):
        rigs.append(Rig(tmp_path, **kw))
        return rigs[-1]
    yield make
    for rig in rigs:
        rig.close()


def now():
    return datetime.now(timezone.utc)


def everything(rig, sessions):
    start, end = now() - timedelta(days=50), now() + timedelta(seconds=2)
    return [i for s in sessions for i in rig.listing(s, start, end)]


def seen(items):
    """{("products"|"orders", "shop:id"): update_time} from raw events."""
    out = {}
    for item in items:
        if isinstance(item, RawEvent) and item.stream is not Stream.SHOP:
            rec = item.record
            key = rec["item_id"] if item.stream is Stream.PRODUCTS else rec["order_id"]
            out[(item.stream.value, f"{rec['shop_id']}:{key}")] = int(rec["event_time"].timestamp())
    return out


def truth_of(rig):
    truth = rig.truth()
    return {(entity, key): t for entity in ("products", "orders") for key, t in truth[entity].items()}


def dead_ids(items, shop_ids):
    """("products"|"orders", "shop:id") named in dead payload bodies (any of the session's shops)."""
    out = set()
    for item in items:
        if isinstance(item, DeadPayload):
            body = json.loads(item.body)
            key = body.get("item_id") or body.get("order_sn")
            out |= {(item.stream.value, f"{shop}:{key}") for shop in shop_ids}
    return out


# ---------------------------------------------------------------- tokens
def test_when_a_code_is_exchanged_then_each_shop_gets_tokens_and_the_code_is_spent(rig_factory):
    rig = rig_factory(shops=3)
    shops = sorted(rig.sim.world.shops)
    code, ident = rig.authorise([shops[0]])
    assert ident == shops[0]
    [auth] = rig.api.exchange_code(code, ident)
    assert auth.shop_id == shops[0] and auth.access_expires_at > time.time() + 3 * 3600
    with pytest.raises(ApiFailed) as err:
        rig.api.exchange_code(code, ident)                 # single use
    assert err.value.code == "error_auth"
    with pytest.raises(ConnectorError):
        rig.api.exchange_code(code, None)                  # Shopee needs the shop or the main account

    code, ident = rig.authorise(shops[1:])
    auths = rig.api.exchange_code(code, ident)
    assert ident.startswith("main_account:") and sorted(a.shop_id for a in auths) == shops[1:]
    # a main account's first refresh token serves each shop once, each getting its own pair
    fresh = [rig.api.refresh(a) for a in auths]
    assert len({f.access_token for f in fresh}) == 2
    with pytest.raises(ApiFailed):
        rig.api.refresh(auths[0])
    again = rig.api.refresh(fresh[0])                      # then single use, rotating
    with pytest.raises(ApiFailed):
        rig.api.refresh(fresh[0])
    assert again.refresh_token != fresh[0].refresh_token


# ---------------------------------------------------------------- listings
def test_a_full_listing_equals_the_ground_truth_and_every_record_fits_the_schema(rig_factory):
    rig = rig_factory()
    sessions = rig.sessions()
    items = everything(rig, sessions)
    assert not [i for i in items if isinstance(i, DeadPayload)] and not rig.bad
    assert seen(items) == truth_of(rig)
    registry = default_registry()
    shops = [i for s in sessions for i in rig.api.fetch_shop(s, "FULL_SYNC")]
    for item in items + shops:
        registry.encode(f"com.powersell.pipeline.raw.{RECORDS[item.stream]}", item.record)
        assert item.key == f"shopee:{item.record['shop_id']}"
    assert sorted(i.record["shop_id"] for i in shops) == sorted(rig.sim.world.shops)
    cards = [i.record["payment"]["card"] for i in items if i.stream is Stream.ORDERS and i.record["payment"]["card"]]
    assert cards, "the simulated world has card orders"
    numbers = {o.card_number for o in rig.sim.world.orders.values() if o.card_number}
    for sealed in cards:
        assert not any(n.encode() in sealed["card_ciphertext"] for n in numbers)
        assert rig.vault.open(sealed["card_ciphertext"]) in numbers


def test_an_incremental_window_with_lookback_picks_up_changes_and_late_updates(rig_factory):
    rig = rig_factory()
    sessions = rig.sessions()
    everything(rig, sessions)
    checkpoint = now()
    changes = rig.post("/_sim/tick", {"changes": 30})
    assert any(c["kind"] == "late_update" for c in changes)
    start = checkpoint - timedelta(minutes=10)                          # the runner's lookback
    later = [i for s in sessions for i in rig.listing(s, start, now() + timedelta(seconds=2), "INCREMENTAL_SYNC")]
    got = seen(later)
    for c in changes:
        key = (c["entity"] + "s", f"{c['shop_id']}:{c['entity_id']}")
        assert got.get(key) == c["update_time"], c["kind"]
    late = [c for c in changes if c["kind"] == "late_update"]
    assert all(c["update_time"] < int(checkpoint.timestamp()) + 1 for c in late)


@pytest.mark.parametrize("connector_knows_the_cap", [False, True])
def test_when_the_item_list_is_capped_then_the_window_is_split_and_nothing_is_lost(rig_factory, connector_knows_the_cap):
    rig = rig_factory(item_list_cap=7, products_per_shop=40, orders_per_shop=5)
    if connector_knows_the_cap:
        rig.api.item_list_cap = 7
    sessions = rig.sessions()
    items = everything(rig, sessions)
    assert not [i for i in items if isinstance(i, DeadPayload)]
    assert seen(items) == truth_of(rig)
    assert rig.sim.requests[ITEM_LIST] > 2 * (40 // 7)


def test_when_products_leave_the_window_while_it_is_paged_then_no_other_product_is_skipped(rig_factory):
    rig = rig_factory(shops=1, products_per_shop=250, orders_per_shop=1)
    [session] = rig.sessions()
    window = TimeWindow(now() - timedelta(days=50), now() + timedelta(seconds=2))
    pages = rig.api.fetch_products(session, window, "FULL_SYNC")
    first = next(pages)
    moved = [i.record["item_id"] for i in first[:5]]

    def update_elsewhere():   # five listed products change now: past the window's end, out of the list
        for item_id in moved:
            rig.sim.world.products[(session.shop_id, item_id)].update_time = int(time.time()) + 100
    rig.running.call(update_elsewhere)
    got = {i.record["item_id"] for page in [first, *pages] for i in page}
    assert got == {p.item_id for p in rig.sim.world.products.values()}


def test_the_simulator_refuses_order_windows_over_15_days(rig_factory):
    rig = rig_factory()
    session = rig.sessions()[0]
    start = int(time.time()) - 20 * 86400
    for span, expected in ((15 * 86400, ""), (15 * 86400 + 1, "order.order_list_invalid_time")):
        request = rig.api._request("GET", ORDER_LIST, session=session,
                                   params=[("time_range_field", "update_time"), ("time_from", start),
                                           ("time_to", start + span), ("page_size", 100)])
        assert rig.http.send(request).json()["error"] == expected


def test_the_simulator_refuses_an_order_window_whose_start_is_not_before_its_end(rig_factory):
    rig = rig_factory()
    session = rig.sessions()[0]
    start = int(time.time()) - 86400
    for span, expected in ((1, ""), (0, "order.order_list_invalid_time"), (-1, "order.order_list_invalid_time")):
        request = rig.api._request("GET", ORDER_LIST, session=session,
                                   params=[("time_range_field", "update_time"), ("time_from", start),
                                           ("time_to", start + span), ("page_size", 100)])
        assert rig.http.send(request).json()["error"] == expected


def test_when_a_15_day_window_starts_mid_second_then_no_chunk_asks_for_time_from_equal_to_time_to(rig_factory):
    # the runner's windows are exactly 15 days; a fractional start widens one to 15 days + 1 s
    rig = rig_factory(shops=1, history_days=40)
    [session] = rig.sessions()
    start = datetime.fromtimestamp(int(time.time()) - 20 * 86400 + 0.5, timezone.utc)
    window = TimeWindow(start, start + timedelta(days=15))
    items = [i for page in rig.api.fetch_orders(session, window, "FULL_SYNC") for i in page]
    low, high = int(start.timestamp()), int(window.end.timestamp()) + 1
    expected = {k: t for k, t in truth_of(rig).items() if k[0] == "orders" and low <= t < high}
    assert expected and {k: t for k, t in seen(items).items() if low <= t < high} == expected


def test_when_the_authorisation_reaches_its_expire_time_then_it_has_lapsed_and_the_refresh_is_refused(rig_factory):
    clock = FakeClock()
    rig = rig_factory(shops=1, clock=clock)
    rig.sim.authorisation_seconds = 3
    [session] = rig.sessions()
    assert session.auth.refresh_expires_at <= clock() + 3, "the refresh expiry stops at the authorisation's end"
    assert not authorisation_lapsed(session.auth, clock())
    clock.advance(3)                                           # to the authorisation's own end
    assert authorisation_lapsed(session.auth, clock())
    with pytest.raises(RefreshRefused):
        rig.api.fetch_shop(session, "INCREMENTAL_SYNC")


# ---------------------------------------------------------------- the gateway
def test_forged_signatures_stale_timestamps_and_dead_tokens_get_shopees_errors(rig_factory):
    clock = FakeClock()
    rig = rig_factory(access_ttl=2, clock=clock)
    code, ident = rig.authorise([sorted(rig.sim.world.shops)[0]])          # a token for this one shop only
    session = ShopSession(rig.api, rig.api.exchange_code(code, ident)[0])

    def answer(api=rig.api, auth=None):
        if auth is not None:
            session.auth = auth
        response = rig.http.send(api._request("GET", SHOP_INFO, session=session))
        return response.status_code, response.json()["error"], response.json()["message"]

    assert answer()[:2] == (200, "")
    forged = ShopeeApi(rig.url, AppCredentials(APP.app_key, "not-the-partner-key"), rig.client, rig.vault.seal)
    assert answer(forged) == (403, "error_sign", "Wrong sign.")
    stale = ShopeeApi(rig.url, APP, rig.client, rig.vault.seal, clock=lambda: clock() - 301)
    assert answer(stale) == (403, "error_param", "Invalid timestamp")
    other_shop = sorted(rig.sim.world.shops)[1]
    from dataclasses import replace
    good = session.auth
    assert answer(auth=replace(good, shop_id=other_shop))[1] == "invalid_acceess_token"   # token of another shop
    assert answer(auth=replace(good, access_token="0" * 32))[1] == "invalid_acceess_token"
    session.auth = good
    clock.advance(2.2)
    assert answer() == (403, "error_auth", "Invalid access_token.")                     # expired
    rig.post(f"/_sim/shops/{good.shop_id}/cancel")
    with pytest.raises(ApiFailed):                  # revoked: the refresh is refused too, the call fails for good
        rig.api.fetch_shop(session, "INCREMENTAL_SYNC")


def test_over_the_rate_limit_the_simulator_says_so_and_the_connector_waits_and_completes(rig_factory):
    rig = rig_factory(rate_limit_per_second=20, rate_limit_burst=5)
    session = rig.sessions()[0]
    answers = [rig.http.send(rig.api._request("GET", SHOP_INFO, session=session)) for _ in range(12)]
    limited = [a for a in answers if a.json().get("error")]
    # Shopee's rate-limit answer: error_too_frequent, whatever the status and the message
    assert limited and {(a.status_code, a.json()["error"]) for a in limited} == {(200, "error_too_frequent")}
    assert "too many request" not in limited[0].json()["message"].lower()
    items = rig.listing(session, now() - timedelta(days=50), now() + timedelta(seconds=2))
    assert rig.metrics.rate_waits, "the connector waited out the limit"
    shop_truth = {k: v for k, v in truth_of(rig).items() if k[1].startswith(session.shop_id + ":")}
    assert seen(items) == shop_truth


@pytest.mark.parametrize("how", ["fault", "ttl"])
def test_when_the_access_token_expires_mid_sync_then_it_is_refreshed_once_and_the_sync_completes(rig_factory, how):
    clock = FakeClock()
    rig = rig_factory(access_ttl=3 if how == "ttl" else 4 * 3600, shops=1, clock=clock)
    [session] = rig.sessions()
    first = session.auth.access_token
    if how == "fault":
        rig.post("/_sim/faults", {"kind": "expired_token", "count": 1, "path_prefix": "/api/v2/order/get_order_detail"})
    else:
        clock.advance(3.1)
    items = rig.listing(session, now() - timedelta(days=50), now() + timedelta(seconds=2))
    assert rig.refreshes == 1 and session.auth.access_token != first
    assert seen(items) == truth_of(rig)


# ---------------------------------------------------------------- faults
FAULTS = [("http_500", "/api/v2/order/get_order_detail", None),
          ("http_503", "/api/v2/product/get_item_list", None),
          ("slow", "/api/v2/product/get_item_base_info", None),
          ("timeout", "/api/v2/order/get_order_list", None),
          ("malformed_json", "/api/v2/product/get_item_list", "invalid_json"),
          ("invalid_utf8", "/api/v2/order/get_order_detail", "invalid_utf8"),
          ("oversize", "/api/v2/product/get_item_base_info", "oversize"),
          ("missing_field", "/api/v2/order/get_order_list", "missing_field"),
          ("wrong_type", "/api/v2/product/get_item_list", "wrong_type"),
          ("missing_field", "/api/v2/order/get_order_detail", "missing_field"),
          ("wrong_type", "/api/v2/product/get_item_base_info", "wrong_type"),
          ("wrong_type", "/api/v2/product/get_model_list", "wrong_type")]


@pytest.mark.parametrize("kind, path, reason", FAULTS)
def test_each_fault_ends_in_a_retry_or_a_dead_payload_and_no_record_goes_missing(rig_factory, kind, path, reason):
    rig = rig_factory(timeout=0.5, shops=1, products_per_shop=60, orders_per_shop=60)   # two detail batches each
    [session] = rig.sessions()
    rig.post("/_sim/faults", {"kind": kind, "count": 2, "path_prefix": path, "delay": 1.5 if kind == "timeout" else 0.2})
    items = rig.listing(session, now() - timedelta(days=50), now() + timedelta(seconds=2))
    assert not rig.sim.faults.pending(), "the fault was injected"
    dead = [i for i in items if isinstance(i, DeadPayload)]
    truth = truth_of(rig)
    if path.endswith(("_detail", "_base_info", "_model_list")) and kind in ("missing_field", "wrong_type"):
        assert len(dead) == 2 and {d.reason for d in dead} == {reason}      # the two broken records
        numbers = [o.card_number.encode() for o in rig.sim.world.orders.values() if o.card_number]
        assert all(d.body and not any(n in d.body for n in numbers) for d in dead)   # R10, dead letters too
        assert set(seen(items)) | dead_ids(items, [session.shop_id]) >= set(truth)
        assert set(seen(items)).isdisjoint(dead_ids(items, [session.shop_id]))
    else:
        assert not dead and seen(items) == truth                             # retried: everything arrived
        assert {b.reason for b in rig.bad} == ({reason} if reason else set())
    if kind == "timeout":
        assert rig.metrics.outcomes.count("timeout") == 2


# ---------------------------------------------------------------- pushes
class Receiver:
    def __init__(self):
        self.got: list[tuple[dict, bytes]] = []
        app = web.Application()
        app.router.add_post("/webhooks/shopee", self.receive)
        self.server = serve_app(app)
        self.url = self.server.url + "/webhooks/shopee"

    async def receive(self, request):
        self.got.append((dict(request.headers), await request.read()))
        return web.Response(status=200)   # empty body: Shopee's acknowledgement


def test_signed_pushes_verify_and_parse_to_the_right_kinds_and_a_forged_one_is_refused(rig_factory):
    receiver = Receiver()
    try:
        rig = rig_factory(push_duplicate_rate=0.0, push_reorder=False, shops=2)
        rig.post("/_sim/webhook", {"url": receiver.url})
        shops = sorted(rig.sim.world.shops)
        code, ident = rig.authorise(shops)
        rig.api.exchange_code(code, ident)
        rig.post(f"/_sim/shops/{shops[0]}/expiring")
        changes = rig.post("/_sim/tick", {"changes": 10})
        rig.post(f"/_sim/shops/{shops[1]}/cancel")
        orders = [c for c in changes if c["entity"] == "order"]
        expected = len(shops) + 1 + len(orders) + 1
        wait_for(lambda: len(receiver.got) >= expected)
        notices = []
        for headers, body in receiver.got:
            assert rig.api.verify_push(receiver.url, headers, body)
            notices.append(parse_push(body))
        kinds = [n.kind for n in notices]
        assert kinds.count(PushKind.SHOP_AUTHORISED) == 2 and kinds.count(PushKind.AUTHORISATION_EXPIRING) == 1
        assert kinds.count(PushKind.AUTHORISATION_CANCELLED) == 1
        assert {(n.shop_id, n.order_id) for n in notices if n.kind is PushKind.ORDER_STATUS} == \
            {(c["shop_id"], c["entity_id"]) for c in orders}
        assert [n.shop_id for n in notices if n.kind is PushKind.AUTHORISATION_EXPIRING] == [shops[0]]
        assert [n.shop_id for n in notices if n.kind is PushKind.AUTHORISATION_CANCELLED] == [shops[1]]
        headers, body = receiver.got[0]
        forged = body.replace(b'"code":1', b'"code":2')
        assert forged != body and not rig.api.verify_push(receiver.url, headers, forged)
        assert not rig.api.verify_push(receiver.url, {"Authorization": "0" * 64}, body)
        assert not rig.sim.push_acknowledged(200, b'{"ok": true}')   # a body makes Shopee retry
        # 2xx and an empty body acknowledge a push
        wait_for(lambda: rig.running.call(lambda: all(m.acked for m in rig.sim.pushes.messages)))
    finally:
        receiver.server.stop()


def test_pushes_nobody_acknowledged_are_recovered_a_page_at_a_time_and_confirmed(rig_factory):
    rig = rig_factory(shops=2, push_duplicate_rate=0.0, push_reorder=False)   # no webhook: every push is lost
    shops = sorted(rig.sim.world.shops)
    rig.post("/_sim/authorize", {"shop_ids": shops})
    changes = []
    while sum(c["entity"] == "order" for c in changes) < 110:
        changes += rig.post("/_sim/tick", {"changes": 40})
    total = len(shops) + sum(c["entity"] == "order" for c in changes)
    wait_for(lambda: rig.running.call(lambda: len(rig.sim.pushes.messages)) == total)
    recovered, pages = [], 0
    while True:
        bodies, last_id = rig.api.fetch_lost_pushes()
        if not bodies:
            assert last_id is None
            break
        pages += 1
        assert len(bodies) <= 100
        recovered += [parse_push(b) for b in bodies]
        again, same_id = rig.api.fetch_lost_pushes()           # not confirmed yet: the same page again
        assert (again, same_id) == (bodies, last_id)
        rig.api.confirm_lost_pushes(last_id)
    assert pages == 2 and len(recovered) == total
    assert [n.kind for n in recovered[:2]] == [PushKind.SHOP_AUTHORISED] * 2
    assert {n.order_id for n in recovered[2:]} == {c["entity_id"] for c in changes if c["entity"] == "order"}
