"""Lazada Open Platform: signer, LazadaApi (token exchange, paging, gateways), pure mappings
from Lazada's payloads to our raw events, and push verification/parsing.

Signing (docs "Signature algorithm", docId 108068, and "HTTP request sample", docId 108069):
every parameter except `sign` (query and form alike), sorted by name in ASCII order, written
as name+value after the API path without the `/rest` prefix, HMAC-SHA256 with the app secret,
upper-case hex. The docs' samples disagree on empty values (the Java and C# samples skip
them, the Python sample keeps the name) and on bodies (Java appends a raw body, Python does
not): this connector never sends an empty value nor a raw body, so every sample agrees on
what it sends. Data calls are GET with everything in the query; token calls are POST with
the system parameters in the query and the code or refresh token in a form body, as the
official Python SDK does (so neither lands in an access log's URL).

Gateways: one per country (`api.lazada.vn/rest`, `api.lazada.co.th/rest`) plus the auth
gateway (`auth.lazada.com/rest`); a shop's gateway comes from ShopAuth.extra["country"],
which exchange_code fills from the token reply's country_user_info. Lazada addresses the
seller by token and gateway only (one token can cover a seller in each country), so the
gateways must stay apart: `gateways=` sets them; by default a base URL on a lazada host
gives the production gateways, and any other base URL (the simulator, one server) gives
{base}/vn/rest, {base}/th/rest and {base}/rest for auth.

Choices the docs leave open ("unverified"), each the stricter reading:
- Time filters (update_after/update_before, ISO 8601, whole seconds) are treated as exclusive at
  both ends: a window [start, end) asks for ceil(start) - 1 < t < ceil(end), so consecutive
  windows neither overlap nor leave a gap (were they inclusive, the cost is duplicates only).
- Lists are sorted by updated_at ascending, so a page-cap hit continues from the last update
  time seen (orders: offset + limit <= 5,000; products: offset + limit <= 10,000).
- Every error can come with HTTP 200: the envelope's `code` decides, never the status alone.
- Order lines: /orders/items/get (GetMultipleOrderItems) with at most 50 ids a call; its rows
  are one per unit and are grouped into lines by (product, SKU, price).
- Lazada's seller record has no update time: a shop event's time is when it was read, and its
  event id is derived from a digest of the payload, so an unchanged re-read is a duplicate.
- Order times: the samples show "2024-05-01 10:20:30 +0700" while GetOrders' documentation shows
  ISO 8601 ("2018-02-09T22:44:30+08:00"): both are accepted, an offset is required.
- Tokens: refresh_expires_in = 0 means the token cannot be refreshed (not "expires now"): the
  authorisation then ends with the access token. Refresh tokens rotate ("you must save the latest
  refresh_token"); one token can cover a seller in several countries (cross-border), so all the
  shops of one token reply are one grant, refreshed once for all of them. IllegalRefreshToken on a
  refresh is RefreshRefused: the grant is gone until the seller authorises again.

Addresses (Lazada address1..address5): address1 and address2 are street lines; in VN (and the
same layout is read for TH) address3 is the province/region, address4 the district, address5
the ward or sub-district; `city` and `post_code` map as named; `country` is a name
("Vietnam", "Thailand") turned into an ISO code. Lazada gives no one-line full address.

Cards (R10): Lazada does not publish card numbers; the simulator carries one for CARD orders
in `payment_details.card_number` (with `card_brand`), so the mapping seals it with seal_card:
the raw event holds ciphertext, brand and last four, never the number.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

import httpx

from schemas import event_id

from ..base import (Action, ApiFailed, BadPayload, DeadPayload, Item, MappingError, MarketplaceApi, Outcome,
                   PushKind, PushNotice, RefreshRefused, ShopAuth, ShopSession, Stream, TimeWindow)
from ..normalise import address, card, envelope, get, json_object, money, raw_event, utc

SIGN_METHOD = "sha256"
DEFAULT_GATEWAYS = {"vn": "https://api.lazada.vn/rest", "th": "https://api.lazada.co.th/rest",
                    "auth": "https://auth.lazada.com/rest"}
CURRENCIES = {"VN": "VND", "TH": "THB"}
COUNTRY_NAMES = {"vietnam": "VN", "viet nam": "VN", "việt nam": "VN", "thailand": "TH", "ประเทศไทย": "TH"}

# Envelope codes (Lazada's own, as the docs name them).
CODE_OK = "0"
TOKEN_CODES = frozenset({"IllegalAccessToken"})               # expired or invalid: refresh once, retry
RATE_LIMIT_CODES = frozenset({"901", "ApiCallLimit"})         # "The request is too frequent"
RETRY_CODES = frozenset({"InvalidTimestamp", "ServiceTimeout", "ServiceUnavailable", "InternalError"})

# Push message types: 0 trade order and 8 token-expiry alert are Lazada's documented ones; Lazada
# documents no push for an authorisation granted or cancelled, so these two are this project's
# own (unverified; the simulator sends them, the connector reads them).
MSG_TRADE_ORDER = 0
MSG_AUTH_EXPIRING = 8
MSG_AUTHORISED = 100
MSG_AUTH_CANCELLED = 101

_SAFE_CODE = re.compile(r"[^A-Za-z0-9_.\-]")


# ---------------------------------------------------------------------------- signing
def sign_request(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """UPPER(hex(HMAC-SHA256(app_secret, api_path + k1 + v1 + k2 + v2 ...))) over every
    parameter but `sign`, sorted by name in ASCII (code point) order."""
    text = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """Lazada push: hex(HMAC-SHA256(app_secret, app_key + raw body))."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def iso8601(moment: datetime) -> str:
    """The filter format Lazada takes: 2024-05-01T03:00:00+00:00."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def whole_second_after(moment: datetime) -> datetime:
    """The first whole second not before moment: with whole-second update times, a window
    [start, end) holds exactly the records with ceil(start) <= t < ceil(end)."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def _safe_code(code: Any) -> str:
    return _SAFE_CODE.sub("_", str(code))[:64] or "empty"


# ---------------------------------------------------------------------------- reading answers
DATA_OBJECT: Mapping[str, type] = {"data": dict}
TOKEN_REPLY: Mapping[str, type] = {"access_token": str, "refresh_token": str, "expires_in": int,
                                   "refresh_expires_in": int, "country_user_info": list}    # flat: no "data"


def classify(status: int, headers: Mapping[str, str], data: Any, required: Mapping[str, type] = DATA_OBJECT
             ) -> Outcome:
    """Read Lazada's envelope {code, type, message, request_id, data}. `required` names the
    paths (and types) the platform promises on success; their absence is a bad payload."""
    if status == 429:
        return Outcome(Action.RATE_LIMITED, code="http_429")
    if status >= 500:
        return Outcome(Action.RETRY, code=f"http_{status}")
    if not isinstance(data, dict):
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field" if data is None else "wrong_type",
                                                      f"HTTP {status} body is not a Lazada envelope",
                                                      _json_bytes(data)), code="envelope")
    if "code" not in data:
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", "envelope lacks code", _json_bytes(data)),
                       code="envelope")
    code = _safe_code(data["code"])
    if code == CODE_OK:
        for path, kind in required.items():
            try:
                get(data, path, kind)
            except MappingError as exc:
                return Outcome(Action.BAD_PAYLOAD, BadPayload(exc.reason, f"envelope: {exc}", _json_bytes(data)),
                               code=exc.reason)
        return Outcome(Action.OK, data)
    if code in TOKEN_CODES:
        return Outcome(Action.REFRESH_TOKEN, code=code)
    if code in RATE_LIMIT_CODES:
        return Outcome(Action.RATE_LIMITED, code=code)
    if code in RETRY_CODES or data.get("type") == "ISP":
        return Outcome(Action.RETRY, code=code)
    return Outcome(Action.FAIL, code=code)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------- pure mappings
def parse_lazada_time(value: Any, path: str) -> datetime:
    """Order times as Lazada writes them: "2024-05-01 10:20:30 +0700" in the samples, ISO 8601
    ("2018-02-09T22:44:30+08:00") in the GetOrders documentation; both, always with an offset."""
    if not isinstance(value, str):
        raise MappingError("wrong_type", path)
    text = value.strip()
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(timezone.utc)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError("wrong_type", path) from None
    if moment.tzinfo is None:          # a local time of an unknown zone: refuse rather than guess
        raise MappingError("wrong_type", path)
    return moment.astimezone(timezone.utc)


def parse_epoch_ms(value: Any, path: str) -> datetime:
    """Product times: epoch milliseconds, as a string ("1611554600000") or a number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).isdigit():
        raise MappingError("wrong_type", path)
    return utc(int(value) / 1000)


def lazada_money(value: Any, path: str) -> Decimal:
    """Prices come as numbers or strings, the strings with thousands separators ("1,299,000.00")."""
    if isinstance(value, str):
        value = value.replace(",", "").strip()
    return money(value, path)


def country_code(value: Any, fallback: str | None, path: str) -> str:
    if isinstance(value, str) and value.strip():
        name = value.strip()
        if len(name) == 2 and name.isalpha():
            return name.upper()
        if name.lower() in COUNTRY_NAMES:
            return COUNTRY_NAMES[name.lower()]
    if fallback:
        return fallback.upper()
    raise MappingError("missing_field", path)


def _text(payload: Any, path: str) -> str | None:
    """An optional text field; numbers are accepted as text (Lazada mixes them)."""
    value = get(payload, path, (str, int), required=False)
    if value is None or isinstance(value, bool):
        return None
    value = str(value).strip()
    return value or None


class _within:
    """Prefix the path of a MappingError raised inside a nested record ("order_items[1].")."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if isinstance(exc, MappingError) and not exc.path.startswith(self.prefix):
            raise MappingError(exc.reason, f"{self.prefix}.{exc.path}") from None


def _id(payload: Any, path: str) -> str:
    value = get(payload, path, (str, int))
    if isinstance(value, bool) or str(value).strip() == "":
        raise MappingError("wrong_type", path)
    return str(value)


def map_address_contact(payload: Any, path: str, fallback_country: str | None) -> dict | None:
    """Lazada address_shipping / address_billing -> AddressContact (see the module doc)."""
    node = get(payload, path, dict, required=False)
    if node is None:
        return None
    with _within(path):
        return _contact(node, path, fallback_country)


def _contact(node: dict, path: str, fallback_country: str | None) -> dict:
    name = " ".join(p for p in (_text(node, "first_name"), _text(node, "last_name")) if p) or None
    return {
        "name": name,
        "phone": _text(node, "phone"),
        "phone2": _text(node, "phone2"),
        "address": address(full_address=None,
                           lines=[_text(node, "address1") or "", _text(node, "address2") or ""],
                           ward=_text(node, "address5"), district=_text(node, "address4"),
                           city=_text(node, "city"), province=_text(node, "address3"),
                           postal_code=_text(node, "post_code"),
                           country=country_code(node.get("country"), fallback_country, "country")),
    }


def order_lines(rows: Any) -> list[dict]:
    """/order(s)/items/get rows are one per unit: group them into lines with a quantity."""
    if not isinstance(rows, list):
        raise MappingError("missing_field" if rows is None else "wrong_type", "order_items")
    lines: dict[tuple, dict] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MappingError("wrong_type", f"order_items[{i}]")
        with _within(f"order_items[{i}]"):
            item_id = _id(row, "product_id")
            sku_id = _text(row, "sku_id")
            price = lazada_money(get(row, "item_price", (int, float, str)), "item_price")
        key = (item_id, sku_id, price)
        if key in lines:
            lines[key]["quantity"] += 1
        else:
            lines[key] = {"item_id": item_id, "sku_id": sku_id, "product_title": _text(row, "name"),
                          "quantity": 1, "unit_price": price}
    return list(lines.values())


PAYMENT_METHODS = {"COD": "COD", "MIXEDCARD": "CARD", "CREDITCARD": "CARD", "CREDIT_CARD": "CARD",
                   "LAZADA_WALLET": "WALLET", "PAYMENT_ACCOUNT": "WALLET", "BANK_TRANSFER": "BANK_TRANSFER"}


def map_order(payload: Any, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None, *, country: str | None = None) -> dict:
    """A Lazada order (from /orders/get or /order/get) with its item rows under "order_items"
    (as /orders/items/get returns them) -> RawOrderEvent."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "order")
    order_id = _id(payload, "order_id")
    created = parse_lazada_time(get(payload, "created_at", str), "created_at")
    updated = parse_lazada_time(get(payload, "updated_at", str), "updated_at")
    statuses = get(payload, "statuses", list)
    if not statuses or not all(isinstance(s, str) for s in statuses):
        raise MappingError("wrong_type", "statuses")
    rows = payload.get("order_items")
    items = order_lines(rows)
    currencies = {r.get("currency") for r in rows if isinstance(r.get("currency"), str)}
    if len(currencies) > 1:
        raise MappingError("wrong_type", "order_items.currency")
    currency = currencies.pop() if currencies else CURRENCIES.get((country or "").upper())
    if currency is None:
        raise MappingError("missing_field", "order_items.currency")
    method_raw = _text(payload, "payment_method")
    payment = None
    if method_raw is not None:
        details = get(payload, "payment_details", dict, required=False) or {}
        with _within("payment_details"):
            sealed = card(get(details, "card_number", str, required=False), seal_card)
        payment = {"method": PAYMENT_METHODS.get(method_raw.upper(), method_raw.upper()),
                   "card": sealed,
                   "billing_tax_code": _text(payload, "tax_code"), "billing_company": None}
    shipping_fee = get(payload, "shipping_fee", (int, float, str), required=False)
    tracking = next((_text(r, "tracking_code") for r in rows if _text(r, "tracking_code")), None)
    buyer_id = next((_text(r, "buyer_id") for r in rows if _text(r, "buyer_id")), None)
    billing_email = get(payload, "address_billing.customer_email", str, required=False)
    username = " ".join(p for p in (_text(payload, "customer_first_name"), _text(payload, "customer_last_name")) if p)
    record = envelope("LAZADA", shop_id, "order", order_id, updated, ingest_source, ingest_time)
    record.update({
        "order_id": order_id,
        "status": ",".join(dict.fromkeys(statuses)),
        "create_time": created,
        "update_time": updated,
        "currency": currency,
        "total_amount": lazada_money(get(payload, "price", (int, float, str)), "price"),
        "shipping_fee": None if shipping_fee is None else lazada_money(shipping_fee, "shipping_fee"),
        "buyer": {"buyer_user_id": buyer_id, "buyer_username": username or None,
                  "buyer_email": billing_email or None},
        "recipient": map_address_contact(payload, "address_shipping", country),
        "billing": map_address_contact(payload, "address_billing", country),
        "buyer_note": _text(payload, "remarks"),
        "payment": payment,
        "items": items,
        "buyer_ip": None,                     # Lazada does not share it
        "tracking_number": tracking,
    })
    return record


def map_product(payload: Any, shop_id: str, ingest_source: str, ingest_time: datetime | None = None, *,
                country: str) -> dict:
    """A /products/get product -> RawProductEvent (currency from the shop's country: Lazada
    prices carry none; the category name needs the category tree, so it is left empty)."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "product")
    item_id = _id(payload, "item_id")
    created = parse_epoch_ms(get(payload, "created_time", (str, int)), "created_time")
    updated = parse_epoch_ms(get(payload, "updated_time", (str, int)), "updated_time")
    skus = []
    for i, sku in enumerate(get(payload, "skus", list)):
        if not isinstance(sku, dict):
            raise MappingError("wrong_type", f"skus[{i}]")
        with _within(f"skus[{i}]"):
            stock = get(sku, "quantity", int, required=False)
            skus.append({"sku_id": _id(sku, "SkuId"), "seller_sku": _text(sku, "SellerSku"),
                         "price": lazada_money(get(sku, "price", (int, float, str)), "price"),
                         "stock": stock if stock is None or -2**31 <= stock < 2**31 else None})
    currency = CURRENCIES.get(country.upper())
    if currency is None:
        raise MappingError("missing_field", "country")
    record = envelope("LAZADA", shop_id, "product", item_id, updated, ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(payload, "status", str),
        "title": get(payload, "attributes.name", str),
        "description": get(payload, "attributes.description", str, required=False),
        "category_id": _id(payload, "primary_category"),
        "category_name": None,
        "brand": _text(payload, "attributes.brand"),
        "currency": currency,
        "skus": skus,
        "created_time": created,
        "updated_time": updated,
    })
    return record


def map_shop(payload: Any, shop_id: str, ingest_source: str, ingest_time: datetime | None = None, *,
             country: str, authorised_until: datetime | None = None) -> dict:
    """/seller/get data -> RawShopEvent. No update time exists: see the module doc."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "seller")
    seller_id = _id(payload, "seller_id")
    if seller_id != str(shop_id):
        raise MappingError("wrong_type", "seller_id")
    read_at = (ingest_time or datetime.now(timezone.utc)).astimezone(timezone.utc)
    country = country.upper()
    record = envelope("LAZADA", shop_id, "shop", seller_id, read_at, ingest_source, read_at)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    record["event_id"] = event_id("LAZADA", "shop", seller_id, int(digest[:12], 16))
    location = _text(payload, "location")
    record.update({
        "shop_name": _text(payload, "name"),
        "country": country,
        "status": get(payload, "status", str),
        "authorised_until": authorised_until,
        "seller": {"seller_name": _text(payload, "name_company"), "email": _text(payload, "email"),
                   "phone": None, "fax": None, "website_url": None,
                   "address": None if location is None else address(
                       full_address=None, lines=[], ward=None, district=None, city=location, province=None,
                       postal_code=None, country=country)},
        "tax_code": None,
    })
    return record


# ---------------------------------------------------------------------------- the API
def default_gateways(base_url: str) -> dict[str, str]:
    """Production gateways for a Lazada host; per-country paths under any other base URL."""
    if "lazada." in (httpx.URL(base_url).host or ""):
        return dict(DEFAULT_GATEWAYS)
    root = base_url.rstrip("/").removesuffix("/rest")
    return {"vn": root + "/vn/rest", "th": root + "/th/rest", "auth": root + "/rest"}


class LazadaApi(MarketplaceApi):
    name = "lazada"
    marketplace_symbol = "LAZADA"

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
                seller_id = _id(info, "seller_id")
                country = get(info, "country", str).upper()
            except MappingError as exc:
                raise BadPayload(exc.reason, f"token reply: country_user_info[{i}] {exc}") from None
            extra = {"country": country, "user_id": _text(info, "user_id") or "",
                     "short_code": _text(info, "short_code") or ""}
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
            if exc.code == "IllegalRefreshToken":
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
            return [DeadPayload(Stream.SHOP, exc.reason, str(exc), _json_bytes(payload))]
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
                    page.append(DeadPayload(Stream.PRODUCTS, exc.reason, str(exc), _json_bytes(product)))
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
                page.append(DeadPayload(Stream.ORDERS, exc.reason, str(exc), _json_bytes(payload)))
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
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not isinstance(given, str) or not given:
            return False
        expected = push_signature(self.app.app_key, self.app.app_secret, body)
        return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii", "replace"))

    def parse_push(self, body: bytes) -> PushNotice:
        return parse_push(body)


def parse_push(body: bytes) -> PushNotice:
    """A verified Lazada push {seller_id, message_type, data, timestamp, site} -> PushNotice.
    Lazada sends no message id: the notice id is a digest of the message, stable across the
    platform's retries of it. Timestamps come in ms (order pushes) or s (the others)."""
    message = json_object(body, "push body")
    try:
        kind_code = get(message, "message_type", int)
        data = get(message, "data", dict)
        stamp = get(message, "timestamp", int)
        order_id = None
        if kind_code == MSG_TRADE_ORDER:
            kind, order_id = PushKind.ORDER_STATUS, _id(data, "trade_order_id")
        else:
            kind = {MSG_AUTH_EXPIRING: PushKind.AUTHORISATION_EXPIRING, MSG_AUTHORISED: PushKind.SHOP_AUTHORISED,
                    MSG_AUTH_CANCELLED: PushKind.AUTHORISATION_CANCELLED}.get(kind_code, PushKind.OTHER)
        top = message.get("seller_id")  # the expiry alert's top-level seller_id is the string "null"
        seller = _id(data, "seller_id") if top in (None, "", "null") else _id(message, "seller_id")
    except MappingError as exc:
        raise BadPayload(exc.reason, f"push: {exc}", body) from None
    canonical = json.dumps(message, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return PushNotice("lazada", kind, seller, hashlib.sha256(canonical).hexdigest()[:32],
                      utc(stamp / 1000 if stamp > 10**11 else stamp), order_id)
