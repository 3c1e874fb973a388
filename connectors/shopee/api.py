"""ShopeeApi: building and signing requests, tokens, windows and pages over Shopee's endpoints."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

import httpx

from ..base import (ApiFailed, BadPayload, ConnectorError, DeadPayload, Item, MappingError, MarketplaceApi, PushNotice,
                    RefreshRefused, ShopAuth, ShopSession, Stream, TimeWindow)
from ..normalise import get, raw_event
from .answers import REFRESH_REFUSED_CODES, reader
from .mapping import NAME, SYMBOL, dead_payload, map_order, map_product, map_shop
from .push import parse_push, verify_push
from .signing import public_sign, shop_sign

TOKEN_GET = "/api/v2/auth/token/get"
TOKEN_REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
CATEGORY = "/api/v2/product/get_category"
ITEM_LIST = "/api/v2/product/get_item_list"
ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
MODEL_LIST = "/api/v2/product/get_model_list"
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
LOST_PUSH = "/api/v2/push/get_lost_push_message"
CONFIRM_LOST_PUSH = "/api/v2/push/confirm_consumed_lost_push_message"

ITEM_STATUSES = ("NORMAL", "BANNED", "UNLIST", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE")
ORDER_OPTIONAL_FIELDS = ("buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,actual_shipping_fee,"
                         "item_list,pay_time,total_amount,payment_method,payment_info")


REFRESH_TOKEN_DAYS = 30


def _missing(stream: Stream, id_field: str, entity_id: str) -> DeadPayload:
    """A listed record the detail call did not return: reported, never silently dropped."""
    return DeadPayload(stream, "missing_field", f"shopee {stream.value}: listed {id_field} absent from the detail answer",
                       json.dumps({id_field: entity_id}).encode("utf-8"))


def _batches(ids: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


class ShopeeApi(MarketplaceApi):
    name = NAME
    marketplace_symbol = SYMBOL
    max_window_seconds = 15 * 24 * 3600          # get_order_list: else order.order_list_invalid_time
    item_page_size = 100                          # get_item_list page_size <= 100
    order_page_size = 100                         # get_order_list page_size 1..100
    detail_batch = 50                             # get_item_base_info / get_order_detail: up to 50 ids
    item_list_cap = 10_000                        # unpublished: visible get_item_list results per query

    # ---- requests
    def _request(self, method: str, path: str, *, session: ShopSession | None = None,
                 params: list[tuple[str, Any]] = (), body: dict | None = None) -> httpx.Request:
        timestamp = int(self.clock())
        query: list[tuple[str, Any]] = [("partner_id", self.app.app_key), ("timestamp", timestamp)]
        if session is None:
            query.append(("sign", public_sign(self.app.app_key, self.app.app_secret, path, timestamp)))
        else:
            token, shop_id = session.auth.access_token, session.auth.shop_id
            query += [("access_token", token), ("shop_id", shop_id),
                      ("sign", shop_sign(self.app.app_key, self.app.app_secret, path, timestamp, token, shop_id))]
        query += list(params)
        url = self.base_url + path
        if method == "GET":
            return httpx.Request("GET", url, params=query)
        return httpx.Request("POST", url, params=query, json=body or {})

    def _shop_call(self, session: ShopSession, endpoint: str, path: str, params: list[tuple[str, Any]],
                   **read) -> dict:
        return self.client.call(endpoint, lambda: self._request("GET", path, session=session, params=params),
                                reader(**read), refresh=session.refresh)

    # ---- authorisation
    def _grant(self, data: dict, shop_id: str, extra: Mapping[str, str] = {}) -> ShopAuth:
        now = self.clock()
        expire_in = data["expire_in"]
        expires = float(expire_in) if expire_in > 1_000_000_000 else now + expire_in  # docs disagree: both forms seen
        refresh_until = now + REFRESH_TOKEN_DAYS * 86400
        lapses = extra.get("expire_time", "")
        if lapses.isdigit():      # the authorisation's own end: no refresh outlives it
            refresh_until = min(refresh_until, float(lapses))
        return ShopAuth(self.name, str(shop_id), data["access_token"], data["refresh_token"], expires,
                        refresh_until, dict(extra), grant=f"shop:{shop_id}")

    def _authorisation_end(self, auth: ShopAuth) -> dict[str, str]:
        """get_shop_info's expire_time, read with the new token (tolerant: unknown stays unknown)."""
        try:
            info = self._shop_call(ShopSession(self, auth), "v2.shop.get_shop_info", SHOP_INFO, [], flat=True)
        except ConnectorError:
            return {}
        expire = info.get("expire_time")
        return {"expire_time": str(expire)} if isinstance(expire, int) and not isinstance(expire, bool) else {}

    def exchange_code(self, code: str, shop_id: str | None = None) -> list[ShopAuth]:
        """shop_id: what Shopee's redirect carried with the code: the shop_id (a shop account
        authorised) or "main_account:<main_account_id>" (a main account authorised several shops;
        the answer's shop_id_list names them). Shopee needs one of the two."""
        if shop_id is None:
            raise ConnectorError("shopee needs the shop_id or main_account_id that came back with the code")
        body: dict[str, Any] = {"code": code, "partner_id": int(self.app.app_key)}
        if shop_id.startswith("main_account:"):
            body["main_account_id"] = int(shop_id.split(":", 1)[1])
        else:
            body["shop_id"] = int(shop_id)
        data = self.client.call("v2.public.get_access_token", lambda: self._request("POST", TOKEN_GET, body=body),
                                reader(flat=True, required={"access_token": str, "refresh_token": str, "expire_in": int}))
        shops = data.get("shop_id_list") if "main_account_id" in body else [shop_id]
        if not isinstance(shops, list) or not shops:
            raise BadPayload("missing_field", "main-account token answer lacks shop_id_list")
        first = [self._grant(data, str(s)) for s in shops]  # the same first pair for every shop
        return [self._grant(data, a.shop_id, self._authorisation_end(a)) for a in first]

    def refresh(self, auth: ShopAuth) -> ShopAuth:
        body = {"refresh_token": auth.refresh_token, "shop_id": int(auth.shop_id), "partner_id": int(self.app.app_key)}
        try:
            data = self.client.call("v2.public.refresh_access_token",
                                    lambda: self._request("POST", TOKEN_REFRESH, body=body),
                                    reader(flat=True, required={"access_token": str, "refresh_token": str,
                                                                 "expire_in": int}))
        except ApiFailed as exc:
            if exc.code in REFRESH_REFUSED_CODES:
                raise RefreshRefused(exc.endpoint, exc.code) from None
            raise
        return self._grant(data, auth.shop_id, auth.extra)

    # ---- shop
    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        info = self._shop_call(session, "v2.shop.get_shop_info", SHOP_INFO, [], flat=True)
        try:
            record = map_shop(info, session.shop_id, ingest_source, datetime.fromtimestamp(self.clock(), timezone.utc))
        except MappingError as err:
            return [dead_payload(Stream.SHOP, err, {k: v for k, v in info.items() if k not in ("request_id",)})]
        return [raw_event(Stream.SHOP, SYMBOL, session.shop_id, record)]

    # ---- products
    def _category_names(self, session: ShopSession) -> dict[str, str]:
        try:
            data = self._shop_call(session, "v2.product.get_category", CATEGORY, [],
                                   required={"category_list": list})
        except ConnectorError:
            return {}  # names are a nicety (nullable); ids always come with the product
        names = {}
        for row in data["category_list"]:
            if isinstance(row, dict) and isinstance(row.get("category_id"), int):
                name = row.get("display_category_name") or row.get("original_category_name")
                names[str(row["category_id"])] = name if isinstance(name, str) else None
        return names

    def _item_list_pages(self, session: ShopSession, start: int, end: int) -> Iterator[tuple[list, int, int]]:
        """Pages of get_item_list entries updated in [start, end] (seconds, inclusive), each with how
        many results the cap hid (non-zero only when one second alone holds more than the cap)."""
        offset, seen, last_total = 0, 0, None
        while True:
            params = [("offset", offset), ("page_size", self.item_page_size), ("update_time_from", start),
                      ("update_time_to", end)] + [("item_status", s) for s in ITEM_STATUSES]
            page = self._shop_call(session, "v2.product.get_item_list", ITEM_LIST, params,
                                   required={"total_count": int, "has_next_page": bool})
            total, entries = page["total_count"], page.get("item") or []
            if not isinstance(entries, list):
                entries = []
            capped = total > self.item_list_cap or (not page["has_next_page"] and seen + len(entries) < total)
            if capped and end > start:  # more than the platform will show: split the window, never lose the tail
                mid = (start + end) // 2
                yield from self._item_list_pages(session, start, mid)
                yield from self._item_list_pages(session, mid + 1, end)
                return
            if last_total is not None and total < last_total and offset > 0:
                # results left the window (updated since) and the list shifted: step back, re-read
                back = min(offset, last_total - total)
                offset, seen, last_total = offset - back, seen - back, total
                continue
            last_total = total
            seen += len(entries)
            next_offset = page.get("next_offset")
            if not page["has_next_page"] or not isinstance(next_offset, int) or next_offset <= offset:
                yield entries, max(0, total - seen), start
                return
            yield entries, 0, start
            offset = next_offset

    def fetch_products(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        start, end = math.floor(window.start.timestamp()), math.ceil(window.end.timestamp())
        categories: dict[str, str] | None = None
        for entries, hidden, second in self._item_list_pages(session, start, end):
            if categories is None:
                categories = self._category_names(session)
            items: list[Item] = []
            if hidden:
                items.append(DeadPayload(Stream.PRODUCTS, "result_cap", f"shopee get_item_list hid {hidden} results "
                                         "updated within one second", json.dumps({"update_time": second}).encode()))
            ids: list[str] = []
            for entry in entries:
                item_id = entry.get("item_id") if isinstance(entry, dict) else None
                if isinstance(item_id, int) and not isinstance(item_id, bool):
                    ids.append(str(item_id))
                else:
                    reason = "missing_field" if item_id is None else "wrong_type"
                    items.append(dead_payload(Stream.PRODUCTS, MappingError(reason, "item.item_id"), entry))
            items += self._products_by_id(session, ids, ingest_source, categories)
            yield items

    def _products_by_id(self, session: ShopSession, ids: list[str], ingest_source: str,
                        categories: Mapping[str, str]) -> list[Item]:
        out: list[Item] = []
        for batch in _batches(ids, self.detail_batch):
            data = self._shop_call(session, "v2.product.get_item_base_info", ITEM_BASE_INFO,
                                   [("item_id_list", ",".join(batch))], required={"item_list": list})
            returned = set()
            for item in data["item_list"]:
                returned.add(str(item.get("item_id")) if isinstance(item, dict) else None)
                try:
                    models = None
                    if isinstance(item, dict) and item.get("has_model") is True:
                        models = self._models(session, get(item, "item_id", int))
                    record = map_product(item, models, session.shop_id, ingest_source,
                                         category_names=categories, ingest_time=datetime.now(timezone.utc))
                    out.append(raw_event(Stream.PRODUCTS, SYMBOL, session.shop_id, record))
                except MappingError as err:
                    out.append(dead_payload(Stream.PRODUCTS, err, item))
            out += [_missing(Stream.PRODUCTS, "item_id", i) for i in batch if i not in returned]
        return out

    def _models(self, session: ShopSession, item_id: int) -> list:
        data = self._shop_call(session, "v2.product.get_model_list", MODEL_LIST, [("item_id", item_id)],
                               required={"model": list})
        return data["model"]

    # ---- orders
    def fetch_orders(self, session: ShopSession, window: TimeWindow, ingest_source: str) -> Iterator[list[Item]]:
        start, end = math.floor(window.start.timestamp()), math.ceil(window.end.timestamp())
        end = max(end, start + 1)         # time_from must be earlier than time_to
        while True:  # windows of at most 15 days, else order.order_list_invalid_time
            chunk_end = min(end, start + self.max_window_seconds)
            cursor = ""
            while True:
                params = [("time_range_field", "update_time"), ("time_from", start), ("time_to", chunk_end),
                          ("page_size", self.order_page_size), ("cursor", cursor),
                          ("response_optional_fields", "order_status")]
                page = self._shop_call(session, "v2.order.get_order_list", ORDER_LIST, params,
                                       required={"more": bool, "next_cursor": str})
                items: list[Item] = []
                ids: list[str] = []
                for entry in page.get("order_list") or []:
                    sn = entry.get("order_sn") if isinstance(entry, dict) else None
                    if isinstance(sn, str) and sn:
                        ids.append(sn)
                    else:
                        reason = "missing_field" if sn is None else "wrong_type"
                        items.append(dead_payload(Stream.ORDERS, MappingError(reason, "order_list.order_sn"), entry))
                yield items + self.fetch_orders_by_id(session, ids, ingest_source)
                if not page["more"] or not page["next_cursor"] or page["next_cursor"] == cursor:
                    break
                cursor = page["next_cursor"]
            if chunk_end >= end:
                break
            start = chunk_end     # overlap by the boundary second: never a chunk with time_from == time_to

    def fetch_orders_by_id(self, session: ShopSession, order_ids: list[str], ingest_source: str) -> list[Item]:
        out: list[Item] = []
        for batch in _batches(list(dict.fromkeys(order_ids)), self.detail_batch):
            data = self._shop_call(session, "v2.order.get_order_detail", ORDER_DETAIL,
                                   [("order_sn_list", ",".join(batch)),
                                    ("response_optional_fields", ORDER_OPTIONAL_FIELDS)],
                                   required={"order_list": list})
            returned = set()
            for order in data["order_list"]:
                returned.add(str(order.get("order_sn")) if isinstance(order, dict) else None)
                try:
                    record = map_order(order, session.shop_id, ingest_source, self.seal_card,
                                       ingest_time=datetime.now(timezone.utc))
                    out.append(raw_event(Stream.ORDERS, SYMBOL, session.shop_id, record))
                except MappingError as err:
                    out.append(dead_payload(Stream.ORDERS, err, order))
            out += [_missing(Stream.ORDERS, "order_sn", sn) for sn in batch if sn not in returned]
        return out

    # ---- pushes
    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        return verify_push(self.app, callback_url, headers, body)

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)

    def fetch_lost_pushes(self) -> tuple[list[bytes], str | None]:
        """The earliest (up to 100) pushes Shopee could not deliver in the last 3 days, as raw push
        bodies, and the last_message_id to confirm once they are durably handled. Shopee only moves
        past them after confirm_lost_pushes, so call again until the list comes back empty."""
        data = self.client.call("v2.push.get_lost_push_message", lambda: self._request("GET", LOST_PUSH),
                                reader(ok_errors=("", "-")))
        messages = data.get("push_message_list") or []
        bodies: list[bytes] = []
        for message in messages if isinstance(messages, list) else []:
            raw = message.get("data") if isinstance(message, dict) else None
            if isinstance(raw, str):       # the whole original push envelope, as a JSON string
                bodies.append(raw.encode("utf-8"))
            elif isinstance(raw, dict):
                bodies.append(json.dumps(raw, separators=(",", ":")).encode("utf-8"))
        last = data.get("last_message_id")
        return bodies, (str(last) if isinstance(last, int) and not isinstance(last, bool) and messages else None)

    def confirm_lost_pushes(self, last_message_id: str) -> None:
        body = {"last_message_id": int(last_message_id)}
        self.client.call("v2.push.confirm_consumed_lost_push_message",
                         lambda: self._request("POST", CONFIRM_LOST_PUSH, body=body),
                         reader(flat=True, ok_errors=("", "-")))
