"""LazadaApi: token exchange, per-country gateways, paging and time filters over Lazada's endpoints."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Mapping

import httpx

from ..base import (ApiFailed, BadPayload, DeadPayload, Item, MappingError, MarketplaceApi, PushNotice, RefreshRefused,
                    ShopAuth, ShopSession, Stream, TimeWindow)
from ..normalise import get, raw_event, utc
from .answers import DATA_OBJECT, REFRESH_REFUSED_CODES, TOKEN_REPLY, classify
from .mapping import (NAME, SYMBOL, dead_payload, map_order, map_product, map_shop, optional_text, parse_epoch_ms,
                      parse_lazada_time, required_id)
from .push import parse_push, verify_push
from .signing import SIGN_METHOD, sign_request

DEFAULT_GATEWAYS = {"vn": "https://api.lazada.vn/rest", "th": "https://api.lazada.co.th/rest",
                    "auth": "https://auth.lazada.com/rest"}


def iso8601(moment: datetime) -> str:
    """The filter format Lazada takes: 2024-05-01T03:00:00+00:00."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def whole_second_after(moment: datetime) -> datetime:
    """The first whole second not before moment: with whole-second update times, a window
    [start, end) holds exactly the records with ceil(start) <= t < ceil(end)."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def default_gateways(base_url: str) -> dict[str, str]:
    """Production gateways for a Lazada host; per-country paths under any other base URL."""
    if "lazada." in (httpx.URL(base_url).host or ""):
        return dict(DEFAULT_GATEWAYS)
    root = base_url.rstrip("/").removesuffix("/rest")
    return {"vn": root + "/vn/rest", "th": root + "/th/rest", "auth": root + "/rest"}


class LazadaApi(MarketplaceApi):
    name = NAME
    marketplace_symbol = SYMBOL

    ORDERS_PAGE = 100              # /orders/get limit <= 100
    ORDERS_OFFSET_CAP = 5_000      # offset + limit beyond it: move the time filter
    PRODUCTS_PAGE = 50             # /products/get limit <= 50
    PRODUCTS_OFFSET_CAP = 10_000
    ORDER_ITEMS_BATCH = 50         # /orders/items/get order_ids per call (unverified: the stricter 50)

    def __init__(self, base_url: str, app, client, seal_card: Callable[[str], bytes],
                 clock: Callable[[], float] = time.time, *, gateways: Mapping[str, str] | None = None):
        super().__init__(base_url, app, client, seal_card, clock)
        self.gateways = default_gateways(self.base_url)
        self.gateways.update({k.lower(): v.rstrip("/") for k, v in (gateways or {}).items()})

    # ------------------------------------------------------------------ requests
    def _build(self, gateway: str, api_path: str, business: Mapping[str, Any], *, method: str = "GET",
               access_token: Callable[[], str] | None = None) -> Callable[[], httpx.Request]:
        """A zero-argument builder: each attempt gets a fresh timestamp, the session's current
        token and a new signature. Empty business values are never sent (see the module doc)."""
        values = {k: str(v) for k, v in business.items() if v is not None and str(v) != ""}

        def build() -> httpx.Request:
            system = {"app_key": self.app.app_key, "sign_method": SIGN_METHOD,
                      "timestamp": str(int(self.clock() * 1000))}
            if access_token is not None:
                system["access_token"] = access_token()
            sign = sign_request(self.app.app_secret, api_path, {**values, **system})
            url = self.gateways[gateway] + api_path
            if method == "GET":
                return httpx.Request("GET", url, params={**values, **system, "sign": sign})
            return httpx.Request("POST", url, params={**system, "sign": sign}, data=values)
        return build

    def _gateway(self, session: ShopSession) -> str:
        country = str(session.auth.extra.get("country", "")).lower()
        if country not in self.gateways or country == "auth":
            raise ApiFailed("gateway", "unknown_country")
        return country

    def _shop_call(self, session: ShopSession, endpoint: str, business: Mapping[str, Any],
                   required: Mapping[str, type]) -> dict:
        build = self._build(self._gateway(session), endpoint, business,
                            access_token=lambda: session.auth.access_token)
        return self.client.call(endpoint, build,
                                lambda status, headers, data: classify(status, headers, data, required),
                                refresh=session.refresh)

    # ------------------------------------------------------------------ authorisation
    def _token_call(self, endpoint: str, business: Mapping[str, str]) -> dict:
        build = self._build("auth", endpoint, business, method="POST")
        return self.client.call(endpoint, build,
                                lambda status, headers, data: classify(status, headers, data, TOKEN_REPLY))

    def _auths(self, reply: dict, grant: str | None = None) -> list[ShopAuth]:
        now = self.clock()
        access_until = now + reply["expires_in"]
        # 0: the token cannot be refreshed; the authorisation ends with the access token
        refresh_until = now + reply["refresh_expires_in"] if reply["refresh_expires_in"] > 0 else access_until
        auths = []
        for i, info in enumerate(reply["country_user_info"]):
            try:
                seller_id = required_id(info, "seller_id")
                country = get(info, "country", str).upper()
            except MappingError as exc:
                raise BadPayload(exc.reason, f"token reply: country_user_info[{i}] {exc}") from None
            extra = {"country": country, "user_id": optional_text(info, "user_id") or "",
                     "short_code": optional_text(info, "short_code") or ""}
            auths.append(ShopAuth(self.name, seller_id, reply["access_token"], reply["refresh_token"],
                                  access_expires_at=access_until, refresh_expires_at=refresh_until, extra=extra))
        if not auths:
            raise BadPayload("missing_field", "token reply: country_user_info is empty")
        grant = grant or "sellers:" + "+".join(sorted(a.shop_id for a in auths))
        return [replace(a, grant=grant) for a in auths]

    def exchange_code(self, code: str, shop_id: str | None = None) -> list[ShopAuth]:
        auths = self._auths(self._token_call("/auth/token/create", {"code": code}))
        if shop_id is not None:
            auths = [a for a in auths if a.shop_id == str(shop_id)] or auths
        return auths

    def refresh(self, auth: ShopAuth) -> ShopAuth:
        if auth.refresh_expires_at and auth.refresh_expires_at <= self.clock():
            raise RefreshRefused("/auth/token/refresh", "refresh_token_expired")   # or never refreshable (0)
        try:
            reply = self._token_call("/auth/token/refresh", {"refresh_token": auth.refresh_token})
        except ApiFailed as exc:
            if exc.code in REFRESH_REFUSED_CODES:
                raise RefreshRefused(exc.endpoint, exc.code) from None
            raise
        for new in self._auths(reply, auth.grant or None):
            if new.shop_id == auth.shop_id:
                return new
        raise BadPayload("missing_field", "refresh reply does not cover the shop")

    # ------------------------------------------------------------------ data
    def _country(self, session: ShopSession) -> str:
        return str(session.auth.extra.get("country", "")).upper()

    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        reply = self._shop_call(session, "/seller/get", {}, DATA_OBJECT)
        payload = reply["data"]
        until = utc(session.auth.refresh_expires_at) if session.auth.refresh_expires_at else None
        try:
            record = map_shop(payload, session.shop_id, ingest_source, datetime.now(timezone.utc),
                              country=self._country(session), authorised_until=until)
        except MappingError as exc:
            return [dead_payload(Stream.SHOP, exc, payload)]
        return [raw_event(Stream.SHOP, self.marketplace_symbol, session.shop_id, record)]

    def _pages(self, session: ShopSession, window: TimeWindow, stream: Stream) -> Iterator[tuple[list, Any]]:
        """(records, None) per page over the window, sorted by update time; on the offset cap the
        time filter moves to the last update time seen. A window that cannot move ends with a
        DeadPayload (None, dead) instead of looping."""
        orders = stream is Stream.ORDERS
        endpoint = "/orders/get" if orders else "/products/get"
        key = "orders" if orders else "products"
        limit = self.ORDERS_PAGE if orders else self.PRODUCTS_PAGE
        cap = self.ORDERS_OFFSET_CAP if orders else self.PRODUCTS_OFFSET_CAP
        start, offset, last_seen = window.start, 0, None
        while True:
            if offset + limit > cap:
                if last_seen is None or last_seen <= start:
                    yield [], DeadPayload(stream, "pagination_cap", f"more than {cap} records share one update "
                                          "second; the time filter cannot move", b"")
                    return
                start, offset = last_seen, 0
            business = {"update_after": iso8601(whole_second_after(start) - timedelta(seconds=1)),
                        "update_before": iso8601(whole_second_after(window.end)), "offset": offset, "limit": limit,
                        "sort_by": "updated_at", "sort_direction": "ASC"}
            if not orders:
                business["filter"] = "all"
            reply = self._shop_call(session, endpoint, business, {"data": dict, f"data.{key}": list})
            records = reply["data"][key]
            for record in records:
                seen = self._update_time(record, orders)
                if seen is not None and (last_seen is None or seen > last_seen):
                    last_seen = seen
            yield records, None
            if len(records) < limit:
                return
            offset += limit

    @staticmethod
    def _update_time(record: Any, orders: bool) -> datetime | None:
        try:
            if orders:
                return parse_lazada_time(get(record, "updated_at", str), "updated_at")
            return parse_epoch_ms(get(record, "updated_time", (str, int)), "updated_time")
        except MappingError:
            return None

    def fetch_products(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        country = self._country(session)
        for records, dead in self._pages(session, window, Stream.PRODUCTS):
            if dead is not None:
                yield [dead]
                continue
            now = datetime.now(timezone.utc)
            page: list[Item] = []
            for product in records:
                try:
                    record = map_product(product, session.shop_id, ingest_source, now, country=country)
                    page.append(raw_event(Stream.PRODUCTS, self.marketplace_symbol, session.shop_id, record))
                except MappingError as exc:
                    page.append(dead_payload(Stream.PRODUCTS, exc, product))
            yield page

    def _order_items(self, session: ShopSession, order_ids: list[str]) -> dict[str, Any]:
        """order_id -> its item rows, by /orders/items/get in batches."""
        rows: dict[str, Any] = {}
        for i in range(0, len(order_ids), self.ORDER_ITEMS_BATCH):
            batch = order_ids[i:i + self.ORDER_ITEMS_BATCH]
            reply = self._shop_call(session, "/orders/items/get", {"order_ids": "[" + ",".join(batch) + "]"},
                                    {"data": list})
            for entry in reply["data"]:
                if isinstance(entry, dict) and entry.get("order_id") is not None:
                    rows[str(entry["order_id"])] = entry.get("order_items")
        return rows

    def _map_orders(self, session: ShopSession, orders: list, ingest_source: str) -> list[Item]:
        ids = [str(o["order_id"]) for o in orders
               if isinstance(o, dict) and isinstance(o.get("order_id"), (str, int)) and not isinstance(o["order_id"], bool)]
        items = self._order_items(session, list(dict.fromkeys(ids))) if ids else {}
        now, country = datetime.now(timezone.utc), self._country(session)
        page: list[Item] = []
        for order in orders:
            payload = order
            if isinstance(order, dict) and "order_id" in order:
                payload = {**order, "order_items": items.get(str(order["order_id"]))}
            try:
                record = map_order(payload, session.shop_id, ingest_source, self.seal_card, now, country=country)
                page.append(raw_event(Stream.ORDERS, self.marketplace_symbol, session.shop_id, record))
            except MappingError as exc:
                page.append(dead_payload(Stream.ORDERS, exc, payload))
        return page

    def fetch_orders(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        for records, dead in self._pages(session, window, Stream.ORDERS):
            yield [dead] if dead is not None else self._map_orders(session, records, ingest_source)

    def fetch_orders_by_id(self, session: ShopSession, order_ids: list[str], ingest_source: str) -> list[Item]:
        orders = []
        for order_id in dict.fromkeys(str(o) for o in order_ids):
            reply = self._shop_call(session, "/order/get", {"order_id": order_id}, DATA_OBJECT)
            orders.append(reply["data"])
        return self._map_orders(session, orders, ingest_source) if orders else []

    # ------------------------------------------------------------------ pushes
    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        return verify_push(self.app, callback_url, headers, body)

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)
