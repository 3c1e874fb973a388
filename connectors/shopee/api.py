"""Shopee Open Platform v2: signing, the shop/product/order/push endpoints, and pure
mappings from Shopee's payloads to our raw events.

Signing (developer guide "API calls"): lowercase hex HMAC-SHA256 keyed with the partner
key over a plain concatenation, host and body not signed:
  public API  partner_id + path + timestamp
  shop API    partner_id + path + timestamp + access_token + shop_id
  merchant    partner_id + path + timestamp + access_token + merchant_id
Common parameters always travel in the query; GET business parameters too, POST ones in
a JSON body. Pushes carry Authorization = hex(HMAC-SHA256(partner_key, url + "|" + body)).

Choices where Shopee's documentation is silent (the stricter reading, see the report):
- time_from/time_to and update_time_from/to are read as inclusive on both ends; windows are
  sent as [floor(start), ceil(end)], so a boundary second may be read twice (idempotent).
- get_item_list's visible results are capped (number unpublished; `item_list_cap`); a window
  whose total_count exceeds it, or whose pages end before total_count, is split in two,
  recursively, so nothing depends on the order Shopee lists items in.
- get_shop_info has no update time: a shop's event_time is the time it was read.
- order windows: time_from must be earlier than time_to (order.order_list_invalid_time, "start
  time must be earlier than end time"), so 15-day chunks overlap by their boundary second
  instead of starting at chunk_end + 1, which could leave a last chunk with time_from == time_to.
- error codes: error_too_frequent is the rate-limit answer whatever its message or HTTP status
  (limits are unpublished: waited out with backoff, never a failure); error_auth with an
  access-token message ("Invalid access_token.") and invalid_acceess_token (Shopee's spelling)
  mean the access token is no longer good: refresh once. error_auth on a refresh is the refresh
  token refused (spent, revoked or the authorisation lapsed): RefreshRefused.
- lifetimes: access 4 h (expire_in; both a duration and an absolute time are accepted), refresh
  30 days from each refresh, but never past the authorisation's own expire_time (get_shop_info,
  read at authorisation: at most 365 days). Past it the authorisation has lapsed (EXPIRED consent).
  Each shop is its own grant: a main account's first pair is refreshed once per shop (Shopee
  returns a pair per shop_id).
- a product without models (has_model false) gets sku_id = item_id; an order line with
  model_id 0 likewise, so products and order lines join.
- get_order_detail returns no tracking number, buyer e-mail or IP: those stay None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import httpx

from ..base import (Action, ApiFailed, BadPayload, ConnectorError, DeadPayload, Item, MappingError, MarketplaceApi,
                   Outcome, PushKind, PushNotice, RefreshRefused, ShopAuth, ShopSession, Stream, TimeWindow)
from ..normalise import address, card, envelope, get, int32, json_object, money, raw_event, utc

SYMBOL = "SHOPEE"

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
TOKEN_EXPIRED_ERRORS = frozenset({"invalid_acceess_token", "invalid_access_token", "error_access_token"})
BUSY_ERRORS = frozenset({"error_system_busy", "error_server", "error_network", "error_inner", "error_busi"})
RATE_LIMIT_ERRORS = frozenset({"error_too_frequent", "error_rate_limit"})
REFRESH_TOKEN_DAYS = 30
PAYMENT_METHODS = {"cash on delivery": "COD", "cod": "COD", "credit card/debit card": "CARD", "credit card": "CARD",
                   "debit card": "CARD", "shopeepay": "WALLET", "shopeepay balance": "WALLET", "airpay": "WALLET",
                   "bank transfer": "BANK_TRANSFER", "online banking": "BANK_TRANSFER"}


# ------------------------------------------------------------------ signing
def base_string(partner_id: str | int, path: str, timestamp: int, access_token: str = "", target_id: str | int = "") -> str:
    """The documented concatenation; target_id is the shop_id (shop API) or merchant_id (merchant API)."""
    return f"{partner_id}{path}{timestamp}{access_token}{target_id}"


def hmac_hex(partner_key: str, message: str | bytes) -> str:
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(partner_key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def public_sign(partner_id: str | int, partner_key: str, path: str, timestamp: int) -> str:
    return hmac_hex(partner_key, base_string(partner_id, path, timestamp))


def shop_sign(partner_id: str | int, partner_key: str, path: str, timestamp: int, access_token: str,
              shop_id: str | int) -> str:
    return hmac_hex(partner_key, base_string(partner_id, path, timestamp, access_token, shop_id))


def merchant_sign(partner_id: str | int, partner_key: str, path: str, timestamp: int, access_token: str,
                  merchant_id: str | int) -> str:
    return hmac_hex(partner_key, base_string(partner_id, path, timestamp, access_token, merchant_id))


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    """Authorization header of a push: over the raw body bytes, never a re-serialised JSON."""
    return hmac_hex(partner_key, callback_url.encode("utf-8") + b"|" + body)


# ------------------------------------------------------------------ reading answers
def classify(status: int, headers: Mapping[str, str], data: Any, *, flat: bool = False,
             required: Mapping[str, type | tuple[type, ...]] = {}, ok_errors: tuple[str, ...] = ("",)) -> Outcome:
    """Read Shopee's envelope {request_id, error, message, response}; `flat` for the endpoints
    without `response` (tokens, get_shop_info). required: fields the payload must carry."""
    if not isinstance(data, dict) or not isinstance(data.get("error", ""), str):
        if status == 429:
            return Outcome(Action.RATE_LIMITED, code="http_429")
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"HTTP {status} envelope is not a Shopee envelope"))
    if "error" not in data:
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"HTTP {status} envelope lacks error"))
    error, message = data["error"], data.get("message")
    message = message.lower() if isinstance(message, str) else ""
    if error in ok_errors and status < 400:
        payload = data if flat else data.get("response")
        if not isinstance(payload, dict):
            reason = "missing_field" if payload is None else "wrong_type"
            return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, "envelope lacks an object at response"))
        for field, kind in required.items():
            value = payload.get(field)
            if value is None:
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"envelope lacks {field}"))
            if isinstance(value, bool) and kind is int or not isinstance(value, kind):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"envelope field {field} has a wrong type"))
        return Outcome(Action.OK, payload)
    code = error or f"http_{status}"
    if error in TOKEN_EXPIRED_ERRORS or (error == "error_auth" and "access_token" in message):
        return Outcome(Action.REFRESH_TOKEN, code=code)
    if status == 429 or error in RATE_LIMIT_ERRORS or "too many request" in message or "too frequent" in message:
        return Outcome(Action.RATE_LIMITED, code=code)
    if error in BUSY_ERRORS or status >= 500:
        return Outcome(Action.RETRY, code=code)
    return Outcome(Action.FAIL, code=code)


def _reader(**kwargs) -> Callable[[int, Mapping[str, str], Any], Outcome]:
    return lambda status, headers, data: classify(status, headers, data, **kwargs)


def _without_cards(node: Any) -> Any:
    """The record as received but for card numbers, which never leave the connector in the clear (R10)."""
    if isinstance(node, dict):
        return {k: ("[card number withheld: R10]" if k == "card_number" and v else _without_cards(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_without_cards(v) for v in node]
    return node


def _dead(stream: Stream, err: MappingError, record: Any) -> DeadPayload:
    body = json.dumps(_without_cards(record), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return DeadPayload(stream, err.reason, f"shopee {stream.value} record: {err}", body)


def _missing(stream: Stream, id_field: str, entity_id: str) -> DeadPayload:
    """A listed record the detail call did not return: reported, never silently dropped."""
    return DeadPayload(stream, "missing_field", f"shopee {stream.value}: listed {id_field} absent from the detail answer",
                       json.dumps({id_field: entity_id}).encode("utf-8"))


def _batches(ids: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


class ShopeeApi(MarketplaceApi):
    name = "shopee"
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
                                _reader(**read), refresh=session.refresh)

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
                                _reader(flat=True, required={"access_token": str, "refresh_token": str, "expire_in": int}))
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
                                    _reader(flat=True, required={"access_token": str, "refresh_token": str,
                                                                 "expire_in": int}))
        except ApiFailed as exc:
            if exc.code in ("error_auth", "refresh_token_expired"):   # the latter: EcomPHP/shopee-php's list
                raise RefreshRefused(exc.endpoint, exc.code) from None
            raise
        return self._grant(data, auth.shop_id, auth.extra)

    # ---- shop
    def fetch_shop(self, session: ShopSession, ingest_source: str) -> list[Item]:
        info = self._shop_call(session, "v2.shop.get_shop_info", SHOP_INFO, [], flat=True)
        try:
            record = map_shop(info, session.shop_id, ingest_source, datetime.fromtimestamp(self.clock(), timezone.utc))
        except MappingError as err:
            return [_dead(Stream.SHOP, err, {k: v for k, v in info.items() if k not in ("request_id",)})]
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
                    items.append(_dead(Stream.PRODUCTS, MappingError(reason, "item.item_id"), entry))
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
                    out.append(_dead(Stream.PRODUCTS, err, item))
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
                        items.append(_dead(Stream.ORDERS, MappingError(reason, "order_list.order_sn"), entry))
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
                    out.append(_dead(Stream.ORDERS, err, order))
            out += [_missing(Stream.ORDERS, "order_sn", sn) for sn in batch if sn not in returned]
        return out

    # ---- pushes
    def verify_push(self, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not isinstance(given, str) or not given:
            return False
        return hmac.compare_digest(push_signature(self.app.app_secret, callback_url, body).encode("ascii"),
                                   given.strip().lower().encode("ascii", "replace"))  # non-ASCII: no match, no TypeError

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)

    def fetch_lost_pushes(self) -> tuple[list[bytes], str | None]:
        """The earliest (up to 100) pushes Shopee could not deliver in the last 3 days, as raw push
        bodies, and the last_message_id to confirm once they are durably handled. Shopee only moves
        past them after confirm_lost_pushes, so call again until the list comes back empty."""
        data = self.client.call("v2.push.get_lost_push_message", lambda: self._request("GET", LOST_PUSH),
                                _reader(ok_errors=("", "-")))
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
                         _reader(flat=True, ok_errors=("", "-")))


# ------------------------------------------------------------------ pure mappings
def _opt_str(payload: dict, path: str) -> str | None:
    value = get(payload, path, str, required=False)
    return value if value else None


def map_shop(info: dict, shop_id: str, ingest_source: str, ingest_time: datetime | None = None) -> dict:
    """v2.shop.get_shop_info (flat). Shopee exposes no seller name, e-mail, phone, address or tax
    code, so `seller` and `tax_code` are None; no update time either, so event_time is the read time."""
    read_at = (ingest_time or datetime.now(timezone.utc)).replace(microsecond=0)
    expire = get(info, "expire_time", int, required=False)
    record = envelope(SYMBOL, shop_id, "shop", shop_id, read_at, ingest_source, read_at)
    record.update({
        "shop_name": _opt_str(info, "shop_name"),
        "country": get(info, "region", str).upper(),
        "status": get(info, "status", str),
        "authorised_until": utc(expire) if expire else None,
        "seller": None,
        "tax_code": None,
    })
    return record


def _price(rows: Any, path: str) -> tuple[Any, str]:
    if not isinstance(rows, list):
        raise MappingError("missing_field" if rows is None else "wrong_type", path)
    if not rows or not isinstance(rows[0], dict):
        raise MappingError("missing_field", f"{path}[0]")
    row = rows[0]
    return money(get(row, "current_price", (int, float, str)), f"{path}[0].current_price"), get(row, "currency", str)


def _stock(payload: dict) -> int | None:
    stock = get(payload, "stock_info_v2.summary_info.total_available_stock", int, required=False)
    return stock if stock is None or -2**31 <= stock < 2**31 else None  # as Lazada's: unusable, not fatal


def map_product(item: dict, models: list | None, shop_id: str, ingest_source: str, *,
                category_names: Mapping[str, str] | None = None, ingest_time: datetime | None = None) -> dict:
    """One get_item_base_info item (plus get_model_list's models when has_model)."""
    if not isinstance(item, dict):
        raise MappingError("wrong_type", "item")
    item_id = str(get(item, "item_id", int))
    updated = get(item, "update_time", int)
    if models is None:
        price, currency = _price(item.get("price_info"), "price_info")
        skus = [{"sku_id": item_id, "seller_sku": _opt_str(item, "item_sku"), "price": price, "stock": _stock(item)}]
    else:
        skus, currency = [], None
        for i, model in enumerate(models):
            if not isinstance(model, dict):
                raise MappingError("wrong_type", f"model[{i}]")
            price, currency = _price(model.get("price_info"), f"model[{i}].price_info")
            skus.append({"sku_id": str(get(model, "model_id", int)), "seller_sku": _opt_str(model, "model_sku"),
                         "price": price, "stock": _stock(model)})
        if currency is None:
            raise MappingError("missing_field", "model")
    category_id = str(get(item, "category_id", int))
    brand = get(item, "brand.original_brand_name", str, required=False)
    description = get(item, "description", str, required=False)
    if description is None and isinstance(item.get("description_info"), dict):  # description_type "extended"
        fields = get(item, "description_info.extended_description.field_list", list, required=False) or []
        description = "\n".join(f["text"] for f in fields if isinstance(f, dict) and isinstance(f.get("text"), str)) or None
    record = envelope(SYMBOL, shop_id, "product", item_id, utc(updated), ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(item, "item_status", str),
        "title": get(item, "item_name", str),
        "description": description or None,
        "category_id": category_id,
        "category_name": (category_names or {}).get(category_id),
        "brand": None if not brand or brand.lower() in ("nobrand", "no brand") else brand,
        "currency": currency,
        "skus": skus,
        "created_time": utc(get(item, "create_time", int)),
        "updated_time": utc(updated),
    })
    return record


def payment_method(raw: str) -> str:
    """Shopee's display name of the channel to our closed-ish set; an unknown one passes as it is."""
    return PAYMENT_METHODS.get(raw.strip().lower(), raw.strip().upper().replace(" ", "_"))


def map_order(order: dict, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None) -> dict:
    """One get_order_detail order, fetched with ORDER_OPTIONAL_FIELDS. A card number (the simulator's
    payment_info.card_number) leaves this function only as ciphertext, brand and last four (R10)."""
    if not isinstance(order, dict):
        raise MappingError("wrong_type", "order")
    order_sn = get(order, "order_sn", str)
    updated = get(order, "update_time", int)
    region = get(order, "region", str).upper()
    recipient = None
    if order.get("recipient_address") is not None:
        get(order, "recipient_address", dict)
        recipient = {
            "name": _opt_str(order, "recipient_address.name"),
            "phone": _opt_str(order, "recipient_address.phone"),
            "phone2": None,
            "address": address(full_address=_opt_str(order, "recipient_address.full_address"), lines=[],
                               ward=_opt_str(order, "recipient_address.town"),
                               district=_opt_str(order, "recipient_address.district"),
                               city=_opt_str(order, "recipient_address.city"),
                               province=_opt_str(order, "recipient_address.state"),
                               postal_code=_opt_str(order, "recipient_address.zipcode"),
                               country=(_opt_str(order, "recipient_address.region") or region).upper()),
        }
    payment = None
    method = _opt_str(order, "payment_method")
    if method is not None:
        number = get(order, "payment_info.card_number", str, required=False)
        payment = {"method": payment_method(method), "card": card(number, seal_card),
                   "billing_tax_code": None, "billing_company": None}
    items = []
    for i, line in enumerate(get(order, "item_list", list)):
        if not isinstance(line, dict):
            raise MappingError("wrong_type", f"item_list[{i}]")
        item_id = str(get(line, "item_id", int))
        model_id = get(line, "model_id", int, required=False)
        items.append({"item_id": item_id, "sku_id": str(model_id) if model_id else item_id,
                      "product_title": _opt_str(line, "item_name"),
                      "quantity": int32(get(line, "model_quantity_purchased", int), f"item_list[{i}].model_quantity_purchased"),
                      "unit_price": money(get(line, "model_discounted_price", (int, float, str)),
                                          f"item_list[{i}].model_discounted_price")})
    fee = order.get("actual_shipping_fee")
    fee_path = "actual_shipping_fee"
    if not fee:
        fee, fee_path = order.get("estimated_shipping_fee"), "estimated_shipping_fee"
    buyer_id = get(order, "buyer_user_id", int, required=False)
    record = envelope(SYMBOL, shop_id, "order", order_sn, utc(updated), ingest_source, ingest_time)
    record.update({
        "order_id": order_sn,
        "status": get(order, "order_status", str),
        "create_time": utc(get(order, "create_time", int)),
        "update_time": utc(updated),
        "currency": get(order, "currency", str),
        "total_amount": money(get(order, "total_amount", (int, float, str)), "total_amount"),
        "shipping_fee": money(fee, fee_path) if fee is not None else None,
        "buyer": {"buyer_user_id": str(buyer_id) if buyer_id else None,
                  "buyer_username": _opt_str(order, "buyer_username"), "buyer_email": None},
        "recipient": recipient,
        "billing": None,
        "buyer_note": _opt_str(order, "message_to_seller"),
        "payment": payment,
        "items": items,
        "buyer_ip": None,
        "tracking_number": None,
    })
    return record


def _push_shop(body: dict, data: dict) -> str:
    for value in (body.get("shop_id"), data.get("shop_id"), data.get("shopid")):
        if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value):
            return str(value)
    for key in ("shop_id_list", "shop_expire_soon"):
        listed = data.get(key)
        if isinstance(listed, list) and listed and isinstance(listed[0], (int, str)):
            return str(listed[0])
    raise BadPayload("missing_field", "shopee push names no shop")


PUSH_KINDS = {1: PushKind.SHOP_AUTHORISED, 2: PushKind.AUTHORISATION_CANCELLED, 12: PushKind.AUTHORISATION_EXPIRING,
              3: PushKind.ORDER_STATUS, 4: PushKind.ORDER_STATUS}


def parse_push(body: bytes) -> PushNotice:
    """{shop_id?, code, timestamp, data}. Code 4 (tracking number) is an order change too. Shopee
    gives no message id: notification_id hashes code, shop and data (plus the timestamp when data
    carries no update_time), so the platform's retries of one message collapse to one id."""
    parsed = json_object(body, "shopee push body")
    code, timestamp, data = parsed.get("code"), parsed.get("timestamp"), parsed.get("data", {})
    for name, value, kind in (("code", code, int), ("timestamp", timestamp, int), ("data", data, dict)):
        if value is None:
            raise BadPayload("missing_field", f"shopee push lacks {name}", body)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BadPayload("wrong_type", f"shopee push field {name} has a wrong type", body)
    try:
        shop_id = _push_shop(parsed, data)
    except BadPayload as bad:
        raise BadPayload(bad.reason, str(bad), body) from None
    kind = PUSH_KINDS.get(code, PushKind.OTHER)
    order_id = data.get("ordersn") if kind is PushKind.ORDER_STATUS else None
    if kind is PushKind.ORDER_STATUS and not isinstance(order_id, str):
        raise BadPayload("missing_field" if order_id is None else "wrong_type", "shopee order push lacks data.ordersn", body)
    material = f"{code}|{shop_id}|{json.dumps(data, sort_keys=True, separators=(',', ':'))}"
    if "update_time" not in data:
        material += f"|{timestamp}"
    notification_id = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    return PushNotice("shopee", kind, shop_id, notification_id, utc(timestamp), order_id)
