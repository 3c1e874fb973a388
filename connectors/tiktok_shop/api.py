"""TikTok Shop Partner API, version 202309: signer, requests, pure mappings, pushes.

Signing (partner.tiktokshop.com, "Sign your API request"): the query parameters except
`sign` and `access_token`, sorted by key, concatenated as key+value after the request
path; the raw body is appended unless the request is a GET or multipart; the string is
wrapped in the app secret and HMAC-SHA256'd with the app secret (lowercase hex). Common
query parameters: app_key, timestamp (epoch seconds), sign, shop_cipher (shop-scoped
calls). The access token travels in the `x-tts-access-token` header, never the query.

Tokens come from a separate host (auth.tiktok-shops.com, `auth_base_url`; the token paths do
not exist on the open-API host): one grant covers every shop the seller authorised, so every
shop of one exchange shares one grant (keyed by the seller's open_id) and a refresh renews it
once for all of them; expiries are absolute epoch seconds. Shops and their ciphers come from
Get Authorized Shops.

Our assumptions where the documentation is silent (the stricter reading, see the report):
- Product search results come in no guaranteed order, so the 10,000-result cap is met by
  splitting the update-time window (using total_count up front, and again if the cap
  error 12052180 arrives mid-way); orders are searched sorted by update_time ascending.
- Orders have no documented maximum window; we still query at most `max_window_seconds`.
- Refresh-token rotation is not documented: the tolerant reading stores whatever refresh token
  each refresh returns (a new one or the same) and never reuses one a refresh has replaced; a
  refresh refused with 36004004 (bad or spent refresh token) is RefreshRefused.
- TikTok gives no shop update time: a shop event's time is when it was read, its id a content digest.
- A card number, where a payment carries one, is at `payment.card_number` (the simulator's
  choice); it is sealed before it leaves this module, also inside dead-lettered bodies (R10).
- Push types: 1 order status change (documented); 6 authorisation cancelled and 7
  authorisation expiring (public SDKs); 10001 shop authorised (ours: TikTok has no such push).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import httpx

from schemas import event_id

from ..base import (Action, ApiFailed, AppCredentials, BadPayload, DeadPayload, Item, MappingError,
                   MarketplaceApi, Outcome, PushKind, PushNotice, RefreshRefused, ShopAuth, ShopSession, Stream,
                   TimeWindow)
from ..normalise import address, card, envelope, get, int32, json_object, money, raw_event, utc

MARKETPLACE = "tiktok_shop"
SYMBOL = "TIKTOK_SHOP"
API_VERSION = "202309"

PATH_TOKEN_GET = "/api/v2/token/get"
PATH_TOKEN_REFRESH = "/api/v2/token/refresh"
PATH_SHOPS = f"/authorization/{API_VERSION}/shops"
PATH_ORDER_SEARCH = f"/order/{API_VERSION}/orders/search"
PATH_ORDER_DETAIL = f"/order/{API_VERSION}/orders"
PATH_PRODUCT_SEARCH = f"/product/{API_VERSION}/products/search"
PATH_PRODUCT_DETAIL = f"/product/{API_VERSION}/products/{{product_id}}"

AUTH_HOST = "https://auth.tiktok-shops.com"   # serves PATH_TOKEN_GET and PATH_TOKEN_REFRESH
ACCESS_TOKEN_HEADER = "x-tts-access-token"
UNSIGNED_PARAMS = frozenset({"sign", "access_token"})

# Platform error codes (envelope `code`)
OK_CODE = 0
ERR_EXPIRED_TOKEN = 105002
ERR_MISSING_SCOPE = 105005
ERR_INVALID_SIGN = 106001
ERR_RATE_LIMITED = 36009002
ERR_BAD_CREDENTIALS = 36009004
ERR_BAD_GRANT = 36004004           # unverified: the code our simulator uses for a bad or spent code/refresh token
ERR_PRODUCT_RESULT_CAP = 12052180
ERR_PRODUCT_NOT_FOUND = 12052048   # unverified: the code our simulator uses for a product that is gone

ORDER_PAGE_SIZE = 100          # orders/search page_size: 1-100
ORDER_DETAIL_BATCH = 50        # GET orders?ids=: up to 50
PRODUCT_PAGE_SIZE = 100
PRODUCT_RESULT_CAP = 10_000    # products/search: page_token paging ends at 10,000 results

# Push `type` values
PUSH_ORDER_STATUS = 1
PUSH_AUTHORISATION_CANCELLED = 6
PUSH_AUTHORISATION_EXPIRING = 7
PUSH_SHOP_AUTHORISED = 10001
PUSH_KINDS = {PUSH_ORDER_STATUS: PushKind.ORDER_STATUS,
              PUSH_AUTHORISATION_CANCELLED: PushKind.AUTHORISATION_CANCELLED,
              PUSH_AUTHORISATION_EXPIRING: PushKind.AUTHORISATION_EXPIRING,
              PUSH_SHOP_AUTHORISED: PushKind.SHOP_AUTHORISED}

# payment_method_name as TikTok displays it -> our Payment.method
PAYMENT_METHODS = {"cash on delivery": "COD", "cod": "COD", "credit/debit card": "CARD", "card": "CARD",
                   "e-wallet": "WALLET", "wallet": "WALLET", "bank transfer": "BANK_TRANSFER",
                   "paylater": "PAY_LATER"}


# ---------------------------------------------------------------------------------------- signing
def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def sign_base(path: str, query: Mapping[str, Any], body: bytes = b"", *, method: str = "GET",
              content_type: str | None = "application/json") -> bytes:
    """What the platform signs: path + key+value of the sorted query (minus sign and access_token)
    + the raw body, unless the request is a GET or multipart/form-data."""
    parts = [path.encode("utf-8")]
    parts += [f"{key}{query[key]}".encode("utf-8") for key in sorted(k for k in query if k not in UNSIGNED_PARAMS)]
    if method.upper() != "GET" and _media_type(content_type) != "multipart/form-data":
        parts.append(body)
    return b"".join(parts)


def sign(app_secret: str, path: str, query: Mapping[str, Any], body: bytes = b"", *, method: str = "GET",
         content_type: str | None = "application/json") -> str:
    """hex(HMAC-SHA256(app_secret, app_secret + sign_base + app_secret))."""
    secret = app_secret.encode("utf-8")
    message = secret + sign_base(path, query, body, method=method, content_type=content_type) + secret
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign_request(request: httpx.Request, app_secret: str) -> str:
    """The signature of a built request, read back from its URL, headers and body."""
    query = {key: request.url.params.get(key) for key in request.url.params.keys()}
    return sign(app_secret, request.url.path, query, request.content, method=request.method,
                content_type=request.headers.get("content-type"))


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """A push's `Authorization` header: hex(HMAC-SHA256(app_secret, app_key + raw body))."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------- answers
def classify(status: int, headers: Mapping[str, str], data: Any, *, records: str | None = None) -> Outcome:
    """Read TikTok's envelope {code, message, request_id, data}. `records` names the list that an OK
    `data` must hold (it may be absent only when the answer says total_count 0)."""
    if not isinstance(data, dict) or "code" not in data:
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        reason = "wrong_type" if data is not None and not isinstance(data, dict) else "missing_field"
        return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, f"HTTP {status} answer has no envelope code"))
    code = data["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"HTTP {status} envelope code is not a number"))
    if code == OK_CODE and status < 300:
        payload = data.get("data")
        if not isinstance(payload, dict):
            reason = "missing_field" if payload is None else "wrong_type"
            return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, "envelope data is not an object"))
        if records is not None:
            rows = payload.get(records)
            if rows is None and payload.get("total_count") != 0:
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"data lacks {records}"))
            if rows is not None and not isinstance(rows, list):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"data.{records} is not a list"))
        return Outcome(Action.OK, payload)
    if status == 429 or code == ERR_RATE_LIMITED:
        return Outcome(Action.RATE_LIMITED, code=str(code))
    if code == ERR_EXPIRED_TOKEN:
        return Outcome(Action.REFRESH_TOKEN, code=str(code))
    if status >= 500:
        return Outcome(Action.RETRY, code=str(code))
    return Outcome(Action.FAIL, code=str(code))


TOKEN_FIELDS = (("access_token", str), ("refresh_token", str), ("access_token_expire_in", int),
                ("refresh_token_expire_in", int))


def classify_token(status: int, headers: Mapping[str, str], data: Any) -> Outcome:
    """The token endpoints' answer: the envelope, then the grant's promised fields."""
    outcome = classify(status, headers, data)
    if outcome.action is Action.OK:
        for key, kind in TOKEN_FIELDS:
            value = outcome.payload.get(key)
            if value is None or isinstance(value, bool) or not isinstance(value, kind):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field" if value is None else "wrong_type",
                                                              f"token answer field {key}"))
    return outcome


# ---------------------------------------------------------------------------------------- mapping
def _money_at(node: Any, path: str, *, required: bool = True):
    value = get(node, path, (str, int, float), required=required)
    if value is None or (not required and value == ""):
        return None
    return money(value, path)


def _nested(prefix: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except MappingError as exc:
        raise MappingError(exc.reason, f"{prefix}.{exc.path}") from None


def map_shop(payload: dict, ingest_source: str, *, authorised_until: datetime | None = None,
             ingest_time: datetime | None = None) -> dict:
    """One entry of Get Authorized Shops. TikTok exposes no shop update time and no seller contact:
    event_time is when we read it, seller is None, and the event id is derived from the content
    (a digest stands in for the update time), so re-reading an unchanged shop repeats its id."""
    shop_id = get(payload, "id", str)
    observed = ingest_time or datetime.now(timezone.utc)
    record = envelope(SYMBOL, shop_id, "shop", shop_id, observed, ingest_source, observed)
    version = json.dumps([payload, authorised_until.isoformat() if authorised_until else None], sort_keys=True,
                         ensure_ascii=False, default=str)
    record["event_id"] = event_id(SYMBOL, "shop", shop_id, int(hashlib.sha256(version.encode()).hexdigest()[:12], 16))
    record.update({
        "shop_name": get(payload, "name", str, required=False),
        "country": get(payload, "region", str),
        "status": "AUTHORIZED",          # listed by Get Authorized Shops: the only status TikTok gives
        "authorised_until": authorised_until,
        "seller": None,
        "tax_code": None,
    })
    return record


def _sku(sku: dict) -> dict:
    inventory = get(sku, "inventory", list, required=False)
    stock = None
    if inventory is not None:
        stock = sum(_nested(f"inventory.{i}", lambda w=w: get(w, "quantity", int)) for i, w in enumerate(inventory))
        stock = stock if -2**31 <= stock < 2**31 else None  # unusable, not fatal (as Lazada's)
    return {"sku_id": get(sku, "id", str), "seller_sku": get(sku, "seller_sku", str, required=False) or None,
            "price": _money_at(sku, "price.sale_price"), "stock": stock}


def map_product(payload: dict, shop_id: str, ingest_source: str, ingest_time: datetime | None = None) -> dict:
    """Get Product (202309) -> RawProductEvent."""
    item_id = get(payload, "id", str)
    updated = utc(get(payload, "update_time", int))
    chains = get(payload, "category_chains", list)
    if not chains:
        raise MappingError("missing_field", "category_chains")
    leaf = next((c for c in chains if isinstance(c, dict) and c.get("is_leaf") is True), chains[-1])
    if not isinstance(leaf, dict):
        raise MappingError("wrong_type", "category_chains")
    skus = get(payload, "skus", list)
    if not skus:
        raise MappingError("missing_field", "skus")
    record = envelope(SYMBOL, shop_id, "product", item_id, updated, ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(payload, "status", str),
        "title": get(payload, "title", str),
        "description": get(payload, "description", str, required=False) or None,
        "category_id": _nested("category_chains", lambda: get(leaf, "id", str)),
        "category_name": _nested("category_chains", lambda: get(leaf, "local_name", str, required=False)),
        "brand": get(payload, "brand.name", str, required=False),
        "currency": _nested("skus.0", lambda: get(skus[0], "price.currency", str)),
        "skus": [_nested(f"skus.{i}", lambda s=s: _sku(s)) for i, s in enumerate(skus)],
        "created_time": utc(get(payload, "create_time", int)),
        "updated_time": updated,
    })
    return record


_LEVELS = {"ward": "ward", "sub-district": "ward", "subdistrict": "ward", "town": "ward", "district": "district",
           "city": "city", "province": "province", "state": "province"}


def _recipient(addr: dict) -> dict:
    levels: dict[str, str | None] = {"ward": None, "district": None, "city": None, "province": None}
    for i, entry in enumerate(get(addr, "district_info", list, required=False) or []):
        level = _nested(f"district_info.{i}", lambda e=entry: get(e, "address_level_name", str)).strip().lower()
        name = _nested(f"district_info.{i}", lambda e=entry: get(e, "address_name", str, required=False))
        if level in _LEVELS and name:
            levels[_LEVELS[level]] = name
    lines = [get(addr, f"address_line{n}", str, required=False) or "" for n in range(1, 5)]
    return {
        "name": get(addr, "name", str, required=False) or None,
        "phone": get(addr, "phone_number", str, required=False) or None,
        "phone2": None,
        "address": address(full_address=get(addr, "full_address", str, required=False) or None, lines=lines,
                           postal_code=get(addr, "postal_code", str, required=False) or None,
                           country=get(addr, "region_code", str), **levels),
    }


def _order_items(lines: list) -> list[dict]:
    """202309 line items are one per unit (a `quantity`, if present, is honoured): equal lines are merged."""
    merged: dict[tuple, dict] = {}
    for i, line in enumerate(lines):
        def read(line=line):
            item = {"item_id": get(line, "product_id", str), "sku_id": get(line, "sku_id", str, required=False),
                    "product_title": get(line, "product_name", str, required=False),
                    "quantity": get(line, "quantity", int, required=False, default=1),
                    "unit_price": _money_at(line, "sale_price")}
            return item
        item = _nested(f"line_items.{i}", read)
        key = (item["item_id"], item["sku_id"], item["product_title"], item["unit_price"])
        if key in merged:
            merged[key]["quantity"] += item["quantity"]
        else:
            merged[key] = item
    for item in merged.values():
        int32(item["quantity"], "line_items.quantity")
    return list(merged.values())


def _payment_method(name: str | None) -> str:
    if not name:
        return "UNKNOWN"
    return PAYMENT_METHODS.get(name.strip().lower(), name.strip().upper().replace(" ", "_"))


def map_order(payload: dict, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None) -> dict:
    """Order (202309, as in Get Order List / Get Order Detail) -> RawOrderEvent; the card number is sealed."""
    order_id = get(payload, "id", str)
    updated = utc(get(payload, "update_time", int))
    lines = get(payload, "line_items", list)
    recipient_raw = get(payload, "recipient_address", dict, required=False)  # absent for UNPAID / ON_HOLD
    card_number = get(payload, "payment.card_number", str, required=False)
    method_name = get(payload, "payment_method_name", str, required=False)
    tracking = get(payload, "tracking_number", str, required=False) or next(
        (line.get("tracking_number") for line in lines if isinstance(line, dict)
         and isinstance(line.get("tracking_number"), str) and line.get("tracking_number")), None)
    record = envelope(SYMBOL, shop_id, "order", order_id, updated, ingest_source, ingest_time)
    record.update({
        "order_id": order_id,
        "status": get(payload, "status", str),
        "create_time": utc(get(payload, "create_time", int)),
        "update_time": updated,
        "currency": get(payload, "payment.currency", str),
        "total_amount": _money_at(payload, "payment.total_amount"),
        "shipping_fee": _money_at(payload, "payment.shipping_fee", required=False),
        "buyer": {"buyer_user_id": get(payload, "user_id", str, required=False) or None,
                  "buyer_username": None,   # TikTok does not share the buyer's name or handle
                  "buyer_email": get(payload, "buyer_email", str, required=False) or None},
        "recipient": _nested("recipient_address", lambda: _recipient(recipient_raw)) if recipient_raw else None,
        "billing": None,
        "buyer_note": get(payload, "buyer_message", str, required=False) or None,
        "payment": None if not (method_name or card_number) else {
            "method": _payment_method(method_name),
            "card": _nested("payment", lambda: card(card_number, seal_card)),
            "billing_tax_code": None, "billing_company": None},
        "items": _order_items(lines),
        "buyer_ip": None,
        "tracking_number": tracking,
    })
    return record


def scrub_card(record: Any, seal_card: Callable[[str], bytes]) -> Any:
    """A copy of an order payload safe to dead-letter: the card number sealed (R10), never in the clear."""
    if not isinstance(record, dict) or not isinstance(record.get("payment"), dict) \
            or "card_number" not in record["payment"]:
        return record
    clean = copy.deepcopy(record)
    number = clean["payment"]["card_number"]
    digits = "".join(ch for ch in number if ch.isdigit()) if isinstance(number, str) else ""
    clean["payment"]["card_number"] = (
        {"sealed": base64.b64encode(seal_card(digits)).decode("ascii")} if digits else "<redacted>")
    return clean


_CARD_MEMBER = re.compile(rb'("card_number"\s*:\s*)"[^"]*(?:"|$)')


def scrub_body(body: bytes) -> bytes:
    """An undecodable answer (cut, not UTF-8, oversize) made safe to dead-letter: every card_number
    value blanked, even one cut short (R10)."""
    return _CARD_MEMBER.sub(rb'\1"<redacted>"', body)


def dead(stream: Stream, exc: MappingError, record: Any) -> DeadPayload:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    return DeadPayload(stream, exc.reason, str(exc), body)


def parse_push(body: bytes) -> PushNotice:
    """A verified push -> PushNotice; BadPayload (no values in the message) when malformed."""
    data = json_object(body, "push body")
    try:
        kind_code = get(data, "type", int)
        notice = PushNotice(MARKETPLACE, PUSH_KINDS.get(kind_code, PushKind.OTHER), get(data, "shop_id", str),
                            get(data, "tts_notification_id", str), utc(get(data, "timestamp", int)))
        if notice.kind is PushKind.ORDER_STATUS:
            notice = replace(notice, order_id=get(data, "data.order_id", str))
        for path, value in (("shop_id", notice.shop_id), ("tts_notification_id", notice.notification_id),
                            ("data.order_id", notice.order_id)):
            if value == "":  # present but empty names no shop, message or order: as good as missing
                raise MappingError("missing_field", path)
    except MappingError as exc:
        raise BadPayload(exc.reason, f"push {exc}", body) from None
    return notice


# ---------------------------------------------------------------------------------------- the API
def _bounds(window: TimeWindow) -> tuple[int, int]:
    """[start, end) in whole seconds, widened so no record inside the window is left out."""
    return math.floor(window.start.timestamp()), math.ceil(window.end.timestamp())


class TikTokShopApi(MarketplaceApi):
    name = MARKETPLACE
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
            auths.append(ShopAuth(MARKETPLACE, sid, grant["access_token"], grant["refresh_token"],
                                  float(grant["access_token_expire_in"]), float(grant["refresh_token_expire_in"]),
                                  extra, grant=f"seller:{seller}"))
        return auths

    def refresh(self, auth: ShopAuth) -> ShopAuth:
        try:
            grant = self._token("token.refresh", PATH_TOKEN_REFRESH,
                                {"refresh_token": auth.refresh_token, "grant_type": "refresh_token"})
        except ApiFailed as exc:
            if exc.code == str(ERR_BAD_GRANT):
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
                    return [dead(Stream.SHOP, exc, shop)]
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
                items.append(dead(Stream.ORDERS, exc, scrub_card(row, self.seal_card)))
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
            return dead(Stream.PRODUCTS, exc, summary)
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
            return dead(Stream.PRODUCTS, exc, detail)

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
        """TikTok signs app_key + raw body (the callback URL is not part of it)."""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not isinstance(given, str) or not given:
            return False
        expected = push_signature(self.app.app_key, self.app.app_secret, body)
        return hmac.compare_digest(given.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)


def _halves(ge: int, le: int) -> list[tuple[int, int]]:
    mid = (ge + le) // 2
    return [(ge, mid), (mid + 1, le)]


__all__ = ["TikTokShopApi", "sign", "sign_base", "sign_request", "push_signature", "classify", "classify_token",
           "map_shop", "map_product", "map_order", "parse_push", "scrub_card", "scrub_body", "dead"]
