"""TikTokShopApi: tokens on the authorisation host, shop ciphers, searches and pages over the 202309 endpoints."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping

import httpx

from ..base import (ApiFailed, AppCredentials, BadPayload, DeadPayload, Item, MappingError, MarketplaceApi, PushNotice,
                    RefreshRefused, ShopAuth, ShopSession, Stream, TimeWindow)
from ..normalise import get, raw_event, utc
from . import CONNECTOR
from .answers import ERR_PRODUCT_NOT_FOUND, ERR_PRODUCT_RESULT_CAP, REFRESH_REFUSED_CODES, classify, classify_token
from .mapping import NAME, SYMBOL, dead_payload, map_order, map_product, map_shop, scrub_body, scrub_card
from .push import parse_push, verify_push
from .signing import sign

API_VERSION = "202309"

PATH_TOKEN_GET = "/api/v2/token/get"
PATH_TOKEN_REFRESH = "/api/v2/token/refresh"
PATH_SHOPS = f"/authorization/{API_VERSION}/shops"
PATH_ORDER_SEARCH = f"/order/{API_VERSION}/orders/search"
PATH_ORDER_DETAIL = f"/order/{API_VERSION}/orders"
PATH_PRODUCT_SEARCH = f"/product/{API_VERSION}/products/search"
PATH_PRODUCT_DETAIL = f"/product/{API_VERSION}/products/{{product_id}}"

AUTH_HOST = CONNECTOR.production_auth_url   # serves PATH_TOKEN_GET and PATH_TOKEN_REFRESH
ACCESS_TOKEN_HEADER = "x-tts-access-token"


ORDER_PAGE_SIZE = 100          # orders/search page_size: 1-100
ORDER_DETAIL_BATCH = 50        # GET orders?ids=: up to 50
PRODUCT_PAGE_SIZE = 100
PRODUCT_RESULT_CAP = 10_000    # products/search: page_token paging ends at 10,000 results


def _bounds(window: TimeWindow) -> tuple[int, int]:
    """[start, end) in whole seconds, widened so no record inside the window is left out."""
    return math.floor(window.start.timestamp()), math.ceil(window.end.timestamp())


class TikTokShopApi(MarketplaceApi):
    name = NAME
    marketplace_symbol = SYMBOL
    max_window_seconds = 15 * 24 * 3600   # undocumented for TikTok: we keep each query to 15 days

    def __init__(self, base_url: str, app: AppCredentials, client, seal_card: Callable[[str], bytes],
                 clock: Callable[[], float] = time.time, *, auth_base_url: str | None = None,
                 product_result_cap: int = PRODUCT_RESULT_CAP, product_page_size: int = PRODUCT_PAGE_SIZE,
                 order_page_size: int = ORDER_PAGE_SIZE):
        super().__init__(base_url, app, client, seal_card, clock)
        passed_on = client.on_bad_payload   # answers that could not be read are dead-lettered card-free
        client.on_bad_payload = lambda bad: passed_on(BadPayload(bad.reason, str(bad), scrub_body(bad.body)))
        self.auth_base_url = (auth_base_url or AUTH_HOST).rstrip("/")   # never the open-API host
        self.product_result_cap, self.product_page_size = product_result_cap, product_page_size
        self.order_page_size = order_page_size

    # ------------------------------------------------------------------ requests
    def _builder(self, method: str, path: str, *, session: ShopSession | None = None, token: str | None = None,
                 params: Mapping[str, Any] | None = None, body: dict | None = None, shop_scoped: bool = True):
        def build() -> httpx.Request:
            query = {"app_key": self.app.app_key, "timestamp": str(int(self.clock()))}
            if session is not None and shop_scoped:
                query["shop_cipher"] = session.auth.extra.get("shop_cipher", "")
            query.update({k: str(v) for k, v in (params or {}).items()})
            content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers = {"content-type": "application/json",
                       ACCESS_TOKEN_HEADER: session.auth.access_token if session is not None else token or ""}
            query["sign"] = sign(self.app.app_secret, path, query, content, method=method)
            return httpx.Request(method, self.base_url + path, params=query, headers=headers,
                                 content=content if method != "GET" else None)
        return build

    def _call(self, endpoint: str, build, session: ShopSession | None, records: str | None = None) -> dict:
        return self.client.call(endpoint, build, lambda s, h, d: classify(s, h, d, records=records),
                                refresh=session.refresh if session is not None else None)

    # ------------------------------------------------------------------ authorisation
    def _token(self, endpoint: str, path: str, params: dict) -> dict:
        def build() -> httpx.Request:  # the token endpoints take the app secret itself, not a signature
            return httpx.Request("GET", self.auth_base_url + path, params={
                "app_key": self.app.app_key, "app_secret": self.app.app_secret, **params})
        return self.client.call(endpoint, build, classify_token)

    def _authorised_shops(self, token: str) -> list[dict]:
        data = self._call("shops", self._builder("GET", PATH_SHOPS, token=token, shop_scoped=False), None,
                          records="shops")
        return [s for s in data.get("shops") or [] if isinstance(s, dict)]

    def exchange_code(self, code: str, shop_id: str | None = None) -> list[ShopAuth]:
        grant = self._token("token.get", PATH_TOKEN_GET, {"auth_code": code, "grant_type": "authorized_code"})
        auths = []
        shops = self._authorised_shops(grant["access_token"])
        seller = str(grant.get("open_id") or "") or "+".join(sorted(str(s.get("id")) for s in shops))
        for shop in shops:
            sid, cipher = shop.get("id"), shop.get("cipher")
            if not isinstance(sid, str) or not isinstance(cipher, str) or (shop_id is not None and sid != shop_id):
                continue
            extra = {"shop_cipher": cipher, "region": str(shop.get("region", "")),
                     "open_id": str(grant.get("open_id", ""))}
            auths.append(ShopAuth(NAME, sid, grant["access_token"], grant["refresh_token"],
                                  float(grant["access_token_expire_in"]), float(grant["refresh_token_expire_in"]),
                                  extra, grant=f"seller:{seller}"))
        return auths

    def refresh(self, auth: ShopAuth) -> ShopAuth:
        try:
            grant = self._token("token.refresh", PATH_TOKEN_REFRESH,
                                {"refresh_token": auth.refresh_token, "grant_type": "refresh_token"})
        except ApiFailed as exc:
            if exc.code in REFRESH_REFUSED_CODES:
                raise RefreshRefused(exc.endpoint, exc.code) from None
            raise
        return replace(auth, access_token=grant["access_token"], refresh_token=grant["refresh_token"],
                       access_expires_at=float(grant["access_token_expire_in"]),
                       refresh_expires_at=float(grant["refresh_token_expire_in"]))

    # ------------------------------------------------------------------ data
    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        data = self._call("shops", self._builder("GET", PATH_SHOPS, session=session, shop_scoped=False), session,
                          records="shops")
        until = utc(session.auth.refresh_expires_at) if session.auth.refresh_expires_at else None
        for shop in data.get("shops") or []:
            if isinstance(shop, dict) and shop.get("id") == session.shop_id:
                try:
                    record = map_shop(shop, ingest_source, authorised_until=until)
                except MappingError as exc:
                    return [dead_payload(Stream.SHOP, exc, shop)]
                return [raw_event(Stream.SHOP, SYMBOL, session.shop_id, record)]
        raise ApiFailed("shops", "shop_not_authorised")  # R1: no longer authorised, nothing of it passes

    def _split(self, window: TimeWindow) -> Iterator[tuple[int, int]]:
        start, end = _bounds(window)
        while start < end:
            yield start, min(end, start + self.max_window_seconds)
            start += self.max_window_seconds

    def _orders(self, rows: list, shop_id: str, source: str) -> list[Item]:
        items: list[Item] = []
        for row in rows:
            try:
                items.append(raw_event(Stream.ORDERS, SYMBOL, shop_id, map_order(row, shop_id, source, self.seal_card)))
            except MappingError as exc:
                items.append(dead_payload(Stream.ORDERS, exc, scrub_card(row, self.seal_card)))
        return items

    def fetch_orders(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        for ge, lt in self._split(window):
            page_token = ""
            while True:
                params = {"page_size": self.order_page_size, "sort_field": "update_time", "sort_order": "ASC"}
                if page_token:
                    params["page_token"] = page_token
                data = self._call("orders.search", self._builder(
                    "POST", PATH_ORDER_SEARCH, session=session, params=params,
                    body={"update_time_ge": ge, "update_time_lt": lt}), session, records="orders")
                yield self._orders(data.get("orders") or [], session.shop_id, ingest_source)
                page_token = data.get("next_page_token")
                if not isinstance(page_token, str) or not page_token:
                    break

    def fetch_orders_by_id(self, session: ShopSession, order_ids: list[str], ingest_source: str) -> list[Item]:
        items: list[Item] = []
        for i in range(0, len(order_ids), ORDER_DETAIL_BATCH):
            batch = order_ids[i:i + ORDER_DETAIL_BATCH]
            data = self._call("orders.get", self._builder("GET", PATH_ORDER_DETAIL, session=session,
                                                          params={"ids": ",".join(batch)}), session, records="orders")
            items += self._orders(data.get("orders") or [], session.shop_id, ingest_source)
        return items

    def _product_page(self, session: ShopSession, ge: int, le: int, page_token: str) -> dict:
        params = {"page_size": self.product_page_size}
        if page_token:
            params["page_token"] = page_token
        return self._call("products.search", self._builder(
            "POST", PATH_PRODUCT_SEARCH, session=session, params=params,
            body={"update_time_ge": ge, "update_time_le": le}), session, records="products")

    def _product(self, session: ShopSession, summary: Any, source: str) -> Item | None:
        try:
            product_id = get(summary, "id", str)
            get(summary, "update_time", int)
        except MappingError as exc:
            return dead_payload(Stream.PRODUCTS, exc, summary)
        path = PATH_PRODUCT_DETAIL.format(product_id=product_id)
        try:
            detail = self._call("products.get", self._builder("GET", path, session=session), session)
        except ApiFailed as exc:   # hard-deleted since the search listed it: nothing left to read
            if exc.code != str(ERR_PRODUCT_NOT_FOUND):
                raise
            return None
        try:
            return raw_event(Stream.PRODUCTS, SYMBOL, session.shop_id,
                             map_product(detail, session.shop_id, source))
        except MappingError as exc:
            return dead_payload(Stream.PRODUCTS, exc, detail)

    def fetch_products(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        for piece in self._split(window):
            pending = [(piece[0], piece[1] - 1)]   # update_time_le is inclusive
            while pending:
                ge, le = pending.pop(0)
                page_token, first = "", True
                while True:
                    try:
                        data = self._product_page(session, ge, le, page_token)
                    except ApiFailed as exc:
                        if exc.code != str(ERR_PRODUCT_RESULT_CAP):
                            raise
                        if ge >= le:   # more than the cap updated within one second: cannot narrow further
                            yield [DeadPayload(Stream.PRODUCTS, "oversize",
                                               "products/search result cap reached within one second", b"")]
                        else:          # the result set grew past the cap while paging: narrow the window
                            pending[:0] = _halves(ge, le)
                        break
                    total = data.get("total_count")
                    if first and isinstance(total, int) and total > self.product_result_cap and ge < le:
                        pending[:0] = _halves(ge, le)   # more than the cap: never page into it
                        break
                    first = False
                    items = [self._product(session, summary, ingest_source) for summary in data.get("products") or []]
                    yield [item for item in items if item is not None]
                    page_token = data.get("next_page_token")
                    if not isinstance(page_token, str) or not page_token:
                        break

    # ------------------------------------------------------------------ pushes
    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        return verify_push(self.app, callback_url, headers, body)

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)


def _halves(ge: int, le: int) -> list[tuple[int, int]]:
    mid = (ge + le) // 2
    return [(ge, mid), (mid + 1, le)]
