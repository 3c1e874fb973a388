"""The TikTok Shop connector against the TikTok Shop simulator (its own thread, port 0, no Kafka):
authorisation, full and incremental listings checked against the simulator's ground truth,
the product result cap, the platform's rejections, rate limits, token expiry mid-sync,
every injected fault, and signed pushes."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator

import httpx
import pytest
from aiohttp import web

from connectors.api_client import ApiClient, Backoff
from connectors.base import (ApiFailed, AppCredentials, BadPayload, DeadPayload, PushKind, RawEvent, ShopAuth,
                             ShopSession, Stream, TimeWindow)
from connectors.card_vault import CardVault
from connectors.config import marketplace_config
from connectors.simulators.base import serve_in_thread, start_in_thread
from connectors.simulators.tiktok_shop import TikTokShopSimulator
from connectors.tiktok_shop.signing import sign
from connectors.tiktok_shop.api import (ACCESS_TOKEN_HEADER, PATH_ORDER_SEARCH, PATH_PRODUCT_SEARCH, PATH_SHOPS,
                                        TikTokShopApi)

APP_KEY, APP_SECRET = "6a6a9dq1", "4ebc0ffee0secret"
VAULT = CardVault(os.urandom(32), "test-card-key")


class CountingMetrics:
    """Stands in for the connector metrics: counts outcomes and rate-limit waits."""

    def __init__(self):
        self.outcomes: dict[str, int] = {}
        self.rate_limit_waits = 0

    def request(self, marketplace: str, outcome: str, seconds: float | None = None) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def rate_limit_wait(self, marketplace: str, seconds: float) -> None:
        self.rate_limit_waits += 1


@dataclass
class Rig:
    sim: TikTokShopSimulator
    url: str
    api: TikTokShopApi
    metrics: CountingMetrics
    bad: list[BadPayload] = field(default_factory=list)
    refreshes: list[ShopAuth] = field(default_factory=list)

    def admin(self, method: str, path: str, body: dict | None = None):
        answer = httpx.request(method, self.url + path, json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def authorise(self, shop_ids: list[str] | None = None) -> list[ShopSession]:
        code = self.admin("POST", "/_sim/authorize", {"shop_ids": shop_ids or list(self.sim.world.shops)})["code"]
        return [ShopSession(self.api, auth, on_refresh=self.refreshes.append) for auth in self.api.exchange_code(code)]

    def truth(self, stream: Stream, shop_id: str) -> dict[str, int]:
        entries = self.admin("GET", "/_sim/ground_truth")[stream.value]
        return {k: v for k, v in entries.items() if k.startswith(shop_id + ":")}


@contextmanager
def rig(*, product_result_cap: int = 10_000, http_timeout: float = 5.0, api_options: dict | None = None,
        **config) -> Iterator[Rig]:
    settings = {"shops": 2, "products_per_shop": 30, "orders_per_shop": 60, "rate_limit_per_second": 1000.0,
                "rate_limit_burst": 1000, "push_duplicate_rate": 0.0, "push_reorder": False, **config}
    sim = TikTokShopSimulator(TikTokShopSimulator.default_config(**settings), APP_KEY, APP_SECRET,
                              product_result_cap=product_result_cap)
    with start_in_thread(sim) as running, httpx.Client(timeout=http_timeout) as http:
        metrics, bad = CountingMetrics(), []
        client = ApiClient("tiktok_shop", http, metrics=metrics, backoff=Backoff(0.01, 2.0, 0.1),
                           on_bad_payload=bad.append)
        api = TikTokShopApi(running.url, AppCredentials(APP_KEY, APP_SECRET), client, VAULT.seal,
                            auth_base_url=running.host_url("auth"), **(api_options or {}))
        yield Rig(sim, running.url, api, metrics, bad)


def everything() -> TimeWindow:
    now = datetime.now(timezone.utc)
    return TimeWindow(now - timedelta(days=60), now + timedelta(seconds=5))


def collect(pages) -> tuple[dict[str, int], list[DeadPayload], list[RawEvent]]:
    """{shop:id: update time} of the events, the dead payloads, the events."""
    got, dead, events = {}, [], []
    for page in pages:
        assert isinstance(page, list)
        for item in page:
            if isinstance(item, RawEvent):
                record = item.record
                entity_id = record["order_id"] if item.stream is Stream.ORDERS else record["item_id"]
                got[f"{record['shop_id']}:{entity_id}"] = int(record["event_time"].timestamp())
                events.append(item)
            else:
                dead.append(item)
    return got, dead, events


def dead_ids(shop_id: str, dead: list[DeadPayload]) -> set[str]:
    return {f"{shop_id}:{json.loads(d.body)['id']}" for d in dead}


# ------------------------------------------------------------------ authorisation and listings
def test_when_a_code_is_exchanged_then_every_shop_gets_tokens_and_its_cipher_and_the_code_is_used_up():
    with rig() as r:
        code = r.admin("POST", "/_sim/authorize", {"shop_ids": list(r.sim.world.shops)})["code"]
        auths = r.api.exchange_code(code)
        assert sorted(a.shop_id for a in auths) == sorted(r.sim.world.shops)
        for auth in auths:
            assert auth.extra["shop_cipher"].startswith("ROW_") and auth.extra["region"] in ("VN", "TH")
            assert abs(auth.access_expires_at - (time.time() + 7 * 86400)) < 60      # absolute, 7 days
        with pytest.raises(ApiFailed) as caught:
            r.api.exchange_code(code)
        assert caught.value.code == "36004004"
        renewed = r.api.refresh(auths[0])
        assert renewed.access_token != auths[0].access_token and renewed.extra == auths[0].extra
        with pytest.raises(ApiFailed):                                                # refresh tokens are single use
            r.api.refresh(auths[0])


def test_when_wired_from_settings_then_token_calls_go_to_the_authorisation_host_not_the_api_host():
    with rig(shops=2) as r, httpx.Client(timeout=5) as http:
        # the rig serves the API host at r.url and the authorisation host on a port of its own
        refused = http.get(r.url + "/api/v2/token/get", params={"app_key": APP_KEY, "app_secret": APP_SECRET,
                                                                "auth_code": "x", "grant_type": "authorized_code"})
        assert refused.status_code == 404 and refused.json()["code"] == 40006   # not served by the API host
        auth_url = r.api.auth_base_url
        assert auth_url != r.url
        market = marketplace_config("tiktok_shop", {"POWERSELL_TIKTOK_SHOP_BASE_URL": r.url,
                                                    "POWERSELL_TIKTOK_SHOP_AUTH_URL": auth_url,
                                                    "POWERSELL_TIKTOK_SHOP_APP_KEY": APP_KEY,
                                                    "POWERSELL_TIKTOK_SHOP_APP_SECRET": APP_SECRET})
        client = ApiClient("tiktok_shop", http, backoff=Backoff(0.01, 2.0, 0.05))
        api = TikTokShopApi(market.base_url, market.credentials, client, VAULT.seal, **market.api_options)
        code = r.admin("POST", "/_sim/authorize", {"shop_ids": list(r.sim.world.shops)})["code"]
        auths = api.exchange_code(code)
        assert sorted(a.shop_id for a in auths) == sorted(r.sim.world.shops)
        assert len({a.grant for a in auths}) == 1, "one seller's grant covers all its shops"
        assert api.refresh(auths[0]).access_token != auths[0].access_token


def test_the_production_settings_send_token_calls_to_tiktoks_authorisation_host():
    real = {"POWERSELL_TIKTOK_SHOP_BASE_URL": "https://open-api.tiktokglobalshop.com",
            "POWERSELL_TIKTOK_SHOP_APP_KEY": "k", "POWERSELL_TIKTOK_SHOP_APP_SECRET": "s"}
    assert marketplace_config("tiktok_shop", real).auth_url == "https://auth.tiktok-shops.com"
    assert marketplace_config("tiktok_shop", {**real, "POWERSELL_TIKTOK_SHOP_AUTH_URL": "https://auth.example"}
                              ).auth_url == "https://auth.example"
    api = TikTokShopApi(real["POWERSELL_TIKTOK_SHOP_BASE_URL"], AppCredentials("k", "s"),
                        ApiClient("tiktok_shop", httpx.Client()), VAULT.seal)
    assert api.auth_base_url == "https://auth.tiktok-shops.com"


def test_when_the_whole_history_is_listed_then_it_equals_the_ground_truth():
    with rig() as r:
        for session in r.authorise():
            products, dead_p, _ = collect(r.api.fetch_products(session, everything(), "FULL_SYNC"))
            orders, dead_o, events = collect(r.api.fetch_orders(session, everything(), "FULL_SYNC"))
            assert not dead_p and not dead_o and not r.bad
            assert products == r.truth(Stream.PRODUCTS, session.shop_id)
            assert orders == r.truth(Stream.ORDERS, session.shop_id)
            [shop] = r.api.fetch_shop(session, "FULL_SYNC")
            assert shop.record["shop_id"] == session.shop_id and shop.record["seller"] is None
            world = r.sim.world
            for event in events:      # the card: sealed, brand and last four; the number never in the record
                order = world.orders[(session.shop_id, event.record["order_id"])]
                assert event.record["total_amount"] == order.total
                card = (event.record["payment"] or {}).get("card")
                if order.card_number:
                    assert card["last4"] == order.card_number[-4:]
                    assert VAULT.open(card["card_ciphertext"]) == order.card_number
                    assert order.card_number not in repr(event.record)
                else:
                    assert card is None
                assert (event.record["recipient"] is None) == (order.status == "UNPAID")
        by_id = r.api.fetch_orders_by_id(session, [e.record["order_id"] for e in events[:3]], "WEBHOOK")
        assert [e.record["order_id"] for e in by_id] == [e.record["order_id"] for e in events[:3]]


def test_when_the_world_moves_on_then_an_incremental_window_with_lookback_finds_changes_and_late_updates():
    with rig(shops=1) as r:
        [session] = r.authorise()
        collect(r.api.fetch_orders(session, everything(), "FULL_SYNC"))
        synced_until = datetime.now(timezone.utc)
        changes = r.admin("POST", "/_sim/tick", {"changes": 40})
        late = [c for c in changes if c["kind"] == "late_update"]
        assert late and all(c["update_time"] < synced_until.timestamp() for c in late)
        window = TimeWindow(synced_until - timedelta(minutes=5), datetime.now(timezone.utc) + timedelta(seconds=1))
        products, _, _ = collect(r.api.fetch_products(session, window, "INCREMENTAL_SYNC"))
        orders, _, _ = collect(r.api.fetch_orders(session, window, "INCREMENTAL_SYNC"))
        truth = {**r.truth(Stream.PRODUCTS, session.shop_id), **r.truth(Stream.ORDERS, session.shop_id)}
        for change in changes:
            key = f"{change['shop_id']}:{change['entity_id']}"
            found = products if change["entity"] == "product" else orders
            assert found[key] == truth[key]


@pytest.mark.parametrize("connector_cap", [10_000, 12])   # learns of the cap from the error / from total_count
def test_when_the_product_result_cap_would_be_passed_then_the_window_moves_and_nothing_is_missed(connector_cap):
    with rig(shops=1, product_result_cap=12,
             api_options={"product_page_size": 5, "product_result_cap": connector_cap}) as r:
        [session] = r.authorise()
        seen, offset_error = [], None
        data = r.api._product_page(session, 0, 2 ** 31, "")
        while data.get("next_page_token"):          # paging straight through meets the platform's cap
            try:
                data = r.api._product_page(session, 0, 2 ** 31, data["next_page_token"])
                seen += data["products"]
            except ApiFailed as exc:
                offset_error = exc.code
                break
        assert offset_error == "12052180"
        products, dead, _ = collect(r.api.fetch_products(session, everything(), "FULL_SYNC"))
        assert not dead and products == r.truth(Stream.PRODUCTS, session.shop_id)


# ------------------------------------------------------------------ the platform says no
def _signed(r: Rig, session: ShopSession, *, timestamp: int | None = None, forge: bool = False,
            token: str | None = None, http: httpx.Client | None = None) -> httpx.Response:
    query = {"app_key": APP_KEY, "timestamp": str(timestamp or int(time.time())),
             "shop_cipher": session.auth.extra["shop_cipher"], "page_size": "10"}
    body = b'{"update_time_ge":0,"update_time_lt":2000000000}'
    query["sign"] = sign(APP_SECRET, PATH_ORDER_SEARCH, query, body, method="POST")
    if forge:
        query["sign"] = sign("not-the-secret", PATH_ORDER_SEARCH, query, body, method="POST")
    headers = {ACCESS_TOKEN_HEADER: token or session.auth.access_token, "content-type": "application/json"}
    return (http or httpx).post(r.url + PATH_ORDER_SEARCH, params=query, content=body, headers=headers, timeout=10)


def test_when_a_request_is_forged_stale_or_carries_a_dead_token_then_the_platform_refuses_it():
    with rig(shops=1) as r:
        [session] = r.authorise()
        assert _signed(r, session).json()["code"] == 0
        forged = _signed(r, session, forge=True)
        assert (forged.status_code, forged.json()["code"], forged.json()["message"]) == (401, 106001, "signature is invalid")
        for stale in (int(time.time()) - 301, int(time.time()) + 60):
            answer = _signed(r, session, timestamp=stale)
            assert (answer.status_code, answer.json()["code"]) == (401, 36009004)
        assert _signed(r, session, token="f" * 32).json()["code"] == 105001            # never issued
        r.admin("POST", f"/_sim/shops/{session.shop_id}/expire_token")
        expired = _signed(r, session)
        assert (expired.status_code, expired.json()["code"]) == (401, 105002)
        old = session.auth
        session.refresh()
        with pytest.raises(ApiFailed) as caught:                                       # a replayed refresh token
            r.api.refresh(old)
        assert caught.value.code == "36004004"
        assert _signed(r, session).json()["code"] == 0
        r.admin("POST", f"/_sim/shops/{session.shop_id}/cancel")
        assert _signed(r, session).json()["code"] == 105001                            # revoked
        with pytest.raises(ApiFailed):
            r.api.fetch_shop(session, "INCREMENTAL_SYNC")


def test_when_a_burst_passes_the_rate_limit_then_429_comes_back_and_the_connector_waits_and_completes():
    with rig(shops=1, rate_limit_per_second=10.0, rate_limit_burst=3) as r, httpx.Client() as http:
        [session] = r.authorise()
        answers = [_signed(r, session, http=http) for _ in range(12)]
        limited = [a for a in answers if a.status_code == 429]
        assert limited and all(a.json()["code"] == 36009002 for a in limited)
        time.sleep(0.5)
        products, dead, _ = collect(r.api.fetch_products(session, everything(), "FULL_SYNC"))
        assert not dead and products == r.truth(Stream.PRODUCTS, session.shop_id)
        assert r.metrics.rate_limit_waits > 0


@pytest.mark.parametrize("how", ["fault", "expired_mid_sync"])
def test_when_the_access_token_expires_mid_sync_then_it_is_refreshed_once_and_the_sync_completes(how):
    with rig(shops=1, api_options={"order_page_size": 10}) as r:
        [session] = r.authorise()
        if how == "fault":
            r.admin("POST", "/_sim/faults", {"kind": "expired_token", "count": 1, "path_prefix": PATH_ORDER_SEARCH})
            pages = r.api.fetch_orders(session, everything(), "FULL_SYNC")
        else:
            def expiring_pages():
                for n, page in enumerate(r.api.fetch_orders(session, everything(), "FULL_SYNC")):
                    if n == 1:
                        r.admin("POST", f"/_sim/shops/{session.shop_id}/expire_token")
                    yield page
            pages = expiring_pages()
        orders, dead, _ = collect(pages)
        assert not dead and orders == r.truth(Stream.ORDERS, session.shop_id)
        assert len(r.refreshes) == 1


# ------------------------------------------------------------------ injected faults
FAULTS = [("http_500", PATH_ORDER_SEARCH), ("slow", PATH_ORDER_SEARCH), ("timeout", PATH_ORDER_SEARCH),
          ("malformed_json", PATH_ORDER_SEARCH), ("invalid_utf8", PATH_ORDER_SEARCH), ("oversize", PATH_ORDER_SEARCH),
          ("missing_field", PATH_ORDER_SEARCH), ("wrong_type", PATH_ORDER_SEARCH),
          ("http_500", PATH_PRODUCT_SEARCH), ("malformed_json", "/product/202309/products/7"),
          ("missing_field", PATH_PRODUCT_SEARCH), ("wrong_type", "/product/202309/products/"),
          ("timeout", PATH_SHOPS)]


@pytest.mark.parametrize("kind, path", FAULTS)
def test_when_a_fault_is_injected_then_it_ends_in_a_retry_or_a_dead_payload_and_no_record_goes_missing(kind, path):
    with rig(shops=1, http_timeout=1.0) as r:
        [session] = r.authorise()
        r.admin("POST", "/_sim/faults", {"kind": kind, "count": 1, "path_prefix": path,
                                          "delay": 2.0 if kind == "timeout" else 0.2 if kind == "slow" else 0.0})
        stream = Stream.ORDERS if path.startswith("/order") else Stream.PRODUCTS
        if path == PATH_SHOPS:
            [shop] = r.api.fetch_shop(session, "FULL_SYNC")
            assert isinstance(shop, RawEvent) and r.metrics.outcomes.get("timeout") == 1
            return
        fetch = r.api.fetch_orders if stream is Stream.ORDERS else r.api.fetch_products
        got, dead, events = collect(fetch(session, everything(), "FULL_SYNC"))
        truth = r.truth(stream, session.shop_id)
        assert set(got) | dead_ids(session.shop_id, dead) == set(truth)             # nothing silently missing
        assert {k: v for k, v in got.items()} == {k: truth[k] for k in got}
        assert r.admin("GET", "/_sim/faults") == []                                    # the fault was served
        if kind in ("missing_field", "wrong_type"):
            assert [d.reason for d in dead] == [kind] and [d.stream for d in dead] == [stream]
            assert all(str(o.card_number) not in d.body.decode() for d in dead for o in r.sim.world.orders.values()
                       if o.card_number)
        else:
            assert not dead
        if kind in ("malformed_json", "invalid_utf8", "oversize"):
            assert [b.reason for b in r.bad] == [{"malformed_json": "invalid_json"}.get(kind, kind)]
        if kind in ("http_500", "timeout"):
            assert r.metrics.outcomes.get({"http_500": "error"}.get(kind, kind)) == 1


@pytest.mark.parametrize("kind", ["invalid_utf8", "malformed_json"])
def test_when_an_unreadable_page_holds_card_numbers_then_the_dead_lettered_body_holds_none(kind):
    with rig(shops=2) as r:
        cards = [o.card_number.encode() for o in r.sim.world.orders.values() if o.card_number]
        now = datetime.now(timezone.utc)
        for session in r.authorise():
            r.admin("POST", "/_sim/faults", {"kind": kind, "count": 1, "path_prefix": PATH_ORDER_SEARCH})
            got, _, _ = collect(r.api.fetch_orders(session, TimeWindow(now - timedelta(days=14), now), "FULL_SYNC"))
            assert got
        assert len(r.bad) == 2 and any(b"<redacted>" in bad.body for bad in r.bad)
        assert not [bad for bad in r.bad for card in cards if card in bad.body]


# ------------------------------------------------------------------ pushes
def test_when_the_simulator_pushes_then_verify_push_accepts_them_and_parse_push_reads_their_kind():
    received: list[tuple[dict, bytes]] = []
    arrived = threading.Event()

    async def receive(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        arrived.set()
        return web.Response(status=200)

    app = web.Application()
    app.add_routes([web.post("/tiktok", receive)])
    with serve_in_thread(app) as receiver, rig(shops=2) as r:
        hook = receiver.url + "/tiktok"
        r.admin("POST", "/_sim/webhook", {"url": hook})
        [first, second] = list(r.sim.world.shops)
        r.authorise([first])
        r.admin("POST", "/_sim/tick", {"changes": 10})
        r.admin("POST", f"/_sim/shops/{second}/expiring")
        r.admin("POST", f"/_sim/shops/{first}/cancel")
        deadline = time.time() + 10
        while time.time() < deadline and {json.loads(b)["type"] for _, b in received} < {1, 6, 7, 10001}:
            time.sleep(0.05)
        kinds = set()
        for headers, body in received:
            assert r.api.verify_push(hook, headers, body)
            notice = r.api.parse_push(body)
            kinds.add(notice.kind)
            assert notice.notification_id and notice.shop_id in r.sim.world.shops
            if notice.kind is PushKind.ORDER_STATUS:
                assert (notice.shop_id, notice.order_id) in r.sim.world.orders
        assert kinds == {PushKind.SHOP_AUTHORISED, PushKind.ORDER_STATUS, PushKind.AUTHORISATION_EXPIRING,
                         PushKind.AUTHORISATION_CANCELLED}
        headers, body = received[0]
        assert not r.api.verify_push(hook, headers, body.replace(b'"shop_id"', b'"shop_id" ', 1))
        assert not r.api.verify_push(hook, {**headers, "Authorization": "0" * 64}, body)
        assert not r.api.verify_push(hook, {k: v for k, v in headers.items() if k.lower() != "authorization"}, body)
