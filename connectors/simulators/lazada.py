"""Lazada Open Platform, simulated as strictly as its documentation allows.

Every request, GET (query) or POST (query + form), is checked as Lazada's gateway does:
system parameters app_key, timestamp (epoch ms, within 7200 s of now), sign_method=sha256 and
sign = UPPER(hex(HMAC-SHA256(app_secret, api_path + sorted k+v ...))) over every parameter but
sign, the api path without /rest. Stricter where the docs disagree (unverified): an empty
parameter value or a raw (non-form) body is refused with IncompleteSignature, because the
official samples sign those differently; only the upper-case hex sign is accepted; the
timestamp must be epoch milliseconds (the docs also allow an ISO time).

Errors come as Lazada's envelope {type, code, message, request_id} with HTTP 200 (unverified:
the stricter choice, as the envelope and not the status must then carry the error). Codes from
Lazada's docs: MissingParameter, IncompleteSignature, IllegalAccessToken (expired or invalid),
IllegalRefreshToken, 901 "The request is too frequent" (per app and seller), InvalidApiPath.
Names the docs do not give (unverified): InvalidTimestamp, InvalidAppKey, InvalidCode (a used or
unknown authorisation code), InvalidParameter (limits, offset caps, time formats).

Gateways: every API is served under /rest (all countries, for a token of one seller) and under
/vn/rest and /th/rest (for a token covering sellers in several countries, as Lazada's
country_user_info allows: the country gateway picks the seller). A multi-seller token used on
the plain /rest answers SIM_AmbiguousSeller (a simulator-only code).

Shapes: token replies are flat (no data); /seller/get; /products/get (data.total_products,
products[item_id, primary_category, attributes, skus[SkuId, SellerSku, price, quantity],
status, created_time/updated_time in epoch ms strings]); /orders/get (data.count, countTotal,
orders[...], times "YYYY-MM-DD HH:MM:SS +0700", price a string with thousands separators);
/order/get; /order/items/get and /orders/items/get (one row per unit). Every third order (by id)
carries its created_at/updated_at in ISO 8601 ("2024-05-01T10:20:30+07:00"), as GetOrders'
documentation shows them: the connector must read both forms.
Tokens: one token can cover sellers in several countries (cross-border); refresh tokens rotate
(a refresh spends the old one); with refresh_ttl 0 the app's tokens cannot be refreshed and
token replies say refresh_expires_in 0, as Lazada does. Time filters are
exclusive at both ends; offset + limit may not pass 5,000 (orders) or 10,000 (products).
Card orders carry the number in payment_details.card_number (Lazada publishes none; it is
here to exercise R10). Pushes: {seller_id, message_type, data, timestamp, site}, signed with
Authorization = hex(HMAC-SHA256(app_secret, app_key + body)); message_type 0 trade order
(timestamp ms) and 8 token expiry alert (seconds, top-level seller_id "null") are Lazada's;
100 authorised and 101 authorisation cancelled are this project's own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

from aiohttp import web

from .base import AuthPush, SimConfig, SimulatorBase, break_field, json_response
from .world import Change, SimAddress, SimOrder, SimProduct

LOCAL = timezone(timedelta(hours=7))                  # Vietnam and Thailand: UTC+7
COUNTRY_NAMES = {"VN": "Vietnam", "TH": "Thailand"}
ORDER_STATUS = {"UNPAID": "unpaid", "READY_TO_SHIP": "ready_to_ship", "SHIPPED": "shipped",
                "COMPLETED": "delivered", "CANCELLED": "canceled"}
PAYMENT = {"COD": "COD", "CARD": "MIXEDCARD", "WALLET": "PAYMENT_ACCOUNT", "BANK_TRANSFER": "BANK_TRANSFER"}
PRODUCT_STATUS = {"NORMAL": "Active", "UNLIST": "InActive", "DELETED": "Deleted"}
PRODUCT_FILTERS = {"all": None, "live": "NORMAL", "inactive": "UNLIST", "deleted": "DELETED"}
SHOP_APIS = ("/seller/get", "/products/get", "/orders/get", "/order/get", "/order/items/get", "/orders/items/get")
AUTH_APIS = ("/auth/token/create", "/auth/token/refresh")
# where a missing_field / wrong_type fault lands in the first record of each API's answer
RECORD_FAULTS = {"/seller/get": ("seller_id", "status"), "/products/get": ("item_id", "updated_time"),
                 "/orders/get": ("updated_at", "price"), "/order/get": ("updated_at", "price"),
                 "/order/items/get": ("product_id", "item_price"), "/orders/items/get": ("order_items", "order_items")}


class LazadaError(Exception):
    def __init__(self, code: str, message: str, kind: str = "ISV"):
        super().__init__(message)
        self.code, self.message, self.kind = code, message, kind


def missing(name: str) -> LazadaError:
    return LazadaError("MissingParameter", f"The input parameter “{name}” that is mandatory for processing "
                                           "this request is not supplied")


def local_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, LOCAL).strftime("%Y-%m-%d %H:%M:%S %z")


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, LOCAL).isoformat()


class LazadaSimulator(SimulatorBase):
    name = "lazada"
    TIMESTAMP_WINDOW = 7200.0
    ORDERS_MAX_LIMIT, PRODUCTS_MAX_LIMIT, ORDER_ITEMS_MAX_IDS = 100, 50, 50

    @staticmethod
    def default_config(**overrides) -> SimConfig:
        """Lazada's own lifetimes (docs, an app online: access token 30 days, refresh token 180 days;
        authorisation code 30 min). Lazada publishes no QPS figure: the shared default stays."""
        return SimConfig(**{"access_ttl": 30 * 86400, "refresh_ttl": 180 * 86400, "code_ttl": 1800, **overrides})

    def __init__(self, config: SimConfig, app_key: str, app_secret: str, clock: Callable[[], float] = time.time, *,
                 orders_offset_cap: int = 5_000, products_offset_cap: int = 10_000):
        super().__init__(config, app_key, app_secret, clock)
        self.orders_offset_cap, self.products_offset_cap = orders_offset_cap, products_offset_cap

    # ------------------------------------------------------------------ routing and the gateway checks
    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/rest{api:/.+}", self.handle),
                web.route("*", "/{country:vn|th}/rest{api:/.+}", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        rid = secrets.token_hex(13)
        try:
            api = request.match_info["api"]
            params = await self._params(request)
            self._check_signature(api, params)
            if api in AUTH_APIS:
                return json_response({**self._token(api, params), "code": "0", "request_id": rid})
            if api not in SHOP_APIS:
                raise LazadaError("InvalidApiPath", "The specified API path is invalid")
            shop_id = self._seller(request, params)
            allowed, _ = self.limiter.allow((self.app_key, shop_id))
            if not allowed:
                raise LazadaError("901", "The request is too frequent")
            data = getattr(self, "api_" + api.strip("/").replace("/", "_"))(shop_id, params)
            body = {"code": "0", "request_id": rid, "data": data}
            self._record_fault(request, api, body)
            return json_response(body)
        except LazadaError as error:
            return json_response({"type": error.kind, "code": error.code, "message": error.message,
                                  "request_id": rid})

    async def _params(self, request: web.Request) -> dict[str, str]:
        pairs = list(request.query.items())
        if request.method == "POST" and request.can_read_body:
            if request.content_type != "application/x-www-form-urlencoded":
                raise LazadaError("IncompleteSignature", "The request signature does not conform to platform "
                                  "standards (only form bodies are signed)")
            pairs += [(k, v) for k, v in (await request.post()).items() if isinstance(v, str)]
        params: dict[str, str] = {}
        for key, value in pairs:
            if key in params or value == "":
                raise LazadaError("IncompleteSignature", "The request signature does not conform to platform "
                                  "standards (repeated or empty parameter)")
            params[key] = value
        return params

    def _check_signature(self, api: str, params: dict[str, str]) -> None:
        for name in ("app_key", "timestamp", "sign_method", "sign"):
            if name not in params:
                raise missing(name)
        if params["app_key"] != self.app_key:
            raise LazadaError("InvalidAppKey", "The specified app key is invalid")
        if params["sign_method"] != "sha256":
            raise LazadaError("IncompleteSignature", "The request signature does not conform to platform standards")
        if not params["timestamp"].isdigit() or not self.timestamp_fresh(
                int(params["timestamp"]) / 1000, past=self.TIMESTAMP_WINDOW, future=self.TIMESTAMP_WINDOW):
            raise LazadaError("InvalidTimestamp", "The request timestamp is out of the allowed 7200 seconds")
        text = api + "".join(k + params[k] for k in sorted(params) if k != "sign")
        expected = hmac.new(self.app_secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()
        if not hmac.compare_digest(expected, params["sign"]):
            raise LazadaError("IncompleteSignature", "The request signature does not conform to platform standards")

    def _seller(self, request: web.Request, params: dict[str, str]) -> str:
        token = params.get("access_token")
        if token is None:
            raise missing("access_token")
        shops = self.tokens.shops_for(token)
        if "country" in request.match_info:
            shops = tuple(s for s in shops if self.world.shops[s].country == request.match_info["country"].upper())
        if len(shops) > 1:
            raise LazadaError("SIM_AmbiguousSeller", "this token covers several sellers: call a country gateway "
                              "(/vn/rest, /th/rest)")
        if self.take_fault(request, "expired_token") is not None and shops:
            self.tokens.expire_access_now(shops[0])
        if not shops or self.tokens.check_access(token, shops[0]) != "ok":
            raise LazadaError("IllegalAccessToken", "The specified access token is invalid or expired")
        return shops[0]

    def _record_fault(self, request: web.Request, api: str, body: dict) -> None:
        """missing_field / wrong_type: break one field of the first record (or the envelope's data
        when the answer has no record)."""
        fault = self.take_fault(request, "missing_field", "wrong_type")
        if fault is None:
            return
        data = body["data"]
        record = data if isinstance(data, dict) and api in ("/seller/get", "/order/get") else None
        if isinstance(data, dict) and not record:
            found = data.get("orders") or data.get("products")
            record = found[0] if found else None
        elif isinstance(data, list) and data:
            record = data[0]
        if record is None:                   # nothing to break but the envelope's data itself
            break_field(body, "data", fault.kind)
            return
        field = RECORD_FAULTS[api][0 if fault.kind == "missing_field" else 1]
        break_field(record, field, fault.kind)

    # ------------------------------------------------------------------ tokens
    def _token(self, api: str, params: dict[str, str]) -> dict:
        if api == "/auth/token/create":
            if "code" not in params:
                raise missing("code")
            grant = self.tokens.redeem_code(params["code"])
            if grant is None:
                raise LazadaError("InvalidCode", "The authorization code is invalid or has expired")
        else:
            if "refresh_token" not in params:
                raise missing("refresh_token")
            grant = self.tokens.refresh(params["refresh_token"])
            if grant is None:
                raise LazadaError("IllegalRefreshToken", "The specified refresh token is invalid or expired")
        now = self.clock()
        shops = [self.world.shops[s] for s in grant.shop_ids if s in self.world.shops]
        return {"access_token": grant.access_token, "refresh_token": grant.refresh_token,
                "expires_in": int(grant.access_expires_at - now), "refresh_expires_in": int(grant.refresh_expires_at - now) if self.config.refresh_ttl > 0 else 0,
                "country": shops[0].country.lower() if len({s.country for s in shops}) == 1 else "cb",
                "account_platform": "seller_center", "account": shops[0].email if shops else "",
                "country_user_info": [{"country": s.country.lower(), "seller_id": s.shop_id,
                                       "user_id": str(int(s.shop_id) + 700_000_000), "short_code": f"{s.country}{s.shop_id[-6:]}"}
                                      for s in shops]}

    # ------------------------------------------------------------------ shop APIs
    def api_seller_get(self, shop_id: str, params: dict[str, str]) -> dict:
        shop = self.world.shops[shop_id]
        return {"seller_id": int(shop.shop_id), "name": shop.name, "name_company": shop.seller_name,
                "short_code": f"{shop.country}{shop.shop_id[-6:]}", "email": shop.email, "location": shop.address.city,
                "logo_url": "", "status": "ACTIVE" if shop.status == "NORMAL" else shop.status, "verified": True,
                "cb": False, "marketplaceEaseMode": False}

    @staticmethod
    def _page(params: dict[str, str], max_limit: int, cap: int, default_limit: int) -> tuple[int, int]:
        try:
            offset, limit = int(params.get("offset", "0")), int(params.get("limit", str(default_limit)))
        except ValueError:
            raise LazadaError("InvalidParameter", "offset and limit must be integers") from None
        if offset < 0 or not 1 <= limit <= max_limit:
            raise LazadaError("InvalidParameter", f"limit must be 1..{max_limit} and offset not negative")
        if offset + limit > cap:
            raise LazadaError("InvalidParameter", f"offset + limit may not exceed {cap}: narrow the time filter")
        return offset, limit

    @staticmethod
    def _time(params: dict[str, str], name: str) -> float | None:
        """An ISO 8601 filter with an offset, as epoch seconds (None when absent)."""
        if name not in params:
            return None
        try:
            moment = datetime.fromisoformat(params[name])
        except ValueError:
            raise LazadaError("InvalidParameter", f"{name} is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise LazadaError("InvalidParameter", f"{name} needs a time zone offset")
        return moment.timestamp()

    def _filtered(self, records: list, params: dict[str, str], fields: dict[str, str]) -> list:
        """Exclusive time filters: {param prefix: record attribute}; update_after -> update_time > after."""
        for prefix, attr in fields.items():
            after, before = self._time(params, prefix + "_after"), self._time(params, prefix + "_before")
            records = [r for r in records if (after is None or getattr(r, attr) > after)
                       and (before is None or getattr(r, attr) < before)]
        return records

    @staticmethod
    def _sorted(records: list, params: dict[str, str], id_attr: str) -> list:
        by = params.get("sort_by", "created_at")
        direction = params.get("sort_direction", "DESC")
        if by not in ("created_at", "updated_at") or direction not in ("ASC", "DESC"):
            raise LazadaError("InvalidParameter", "sort_by must be created_at|updated_at, sort_direction ASC|DESC")
        attr = "create_time" if by == "created_at" else "update_time"
        return sorted(records, key=lambda r: (getattr(r, attr), getattr(r, id_attr)), reverse=direction == "DESC")

    def api_products_get(self, shop_id: str, params: dict[str, str]) -> dict:
        offset, limit = self._page(params, self.PRODUCTS_MAX_LIMIT, self.products_offset_cap, 20)
        wanted = params.get("filter", "all")
        if wanted not in PRODUCT_FILTERS:
            raise LazadaError("InvalidParameter", "filter must be one of " + ", ".join(PRODUCT_FILTERS))
        products = [p for p in self.world.products.values() if p.shop_id == shop_id
                    and PRODUCT_FILTERS[wanted] in (None, p.status)]
        products = self._sorted(self._filtered(products, params, {"update": "update_time", "create": "create_time"}),
                                params, "item_id")
        return {"total_products": len(products),
                "products": [self.product(p) for p in products[offset:offset + limit]]}

    def api_orders_get(self, shop_id: str, params: dict[str, str]) -> dict:
        if "created_after" not in params and "update_after" not in params:
            raise missing("created_after")
        offset, limit = self._page(params, self.ORDERS_MAX_LIMIT, self.orders_offset_cap, 100)
        orders = [o for o in self.world.orders.values() if o.shop_id == shop_id]
        if "status" in params:
            orders = [o for o in orders if ORDER_STATUS.get(o.status) == params["status"]]
        orders = self._sorted(self._filtered(orders, params, {"update": "update_time", "created": "create_time"}),
                              params, "order_id")
        page = [self.order(o) for o in orders[offset:offset + limit]]
        return {"count": len(page), "countTotal": len(orders), "orders": page}

    def _order(self, shop_id: str, order_id: str) -> SimOrder:
        order = self.world.orders.get((shop_id, order_id))
        if order is None:
            raise LazadaError("InvalidParameter", "The order does not exist")
        return order

    def api_order_get(self, shop_id: str, params: dict[str, str]) -> dict:
        if "order_id" not in params:
            raise missing("order_id")
        return self.order(self._order(shop_id, params["order_id"]))

    def api_order_items_get(self, shop_id: str, params: dict[str, str]) -> list:
        if "order_id" not in params:
            raise missing("order_id")
        return self.item_rows(self._order(shop_id, params["order_id"]))

    def api_orders_items_get(self, shop_id: str, params: dict[str, str]) -> list:
        if "order_ids" not in params:
            raise missing("order_ids")
        try:
            ids = [str(i) for i in json.loads(params["order_ids"])]
        except (ValueError, TypeError):
            raise LazadaError("InvalidParameter", "order_ids must be a list like [1,2,3]") from None
        if not 1 <= len(ids) <= self.ORDER_ITEMS_MAX_IDS:
            raise LazadaError("InvalidParameter", f"order_ids takes 1..{self.ORDER_ITEMS_MAX_IDS} ids")
        orders = [self._order(shop_id, i) for i in dict.fromkeys(ids)]
        return [{"order_id": int(o.order_id), "order_number": int(o.order_id), "order_items": self.item_rows(o)}
                for o in orders]

    # ------------------------------------------------------------------ rendering world records
    @staticmethod
    def address(a: SimAddress, name: str, phone: str) -> dict:
        lines = a.lines + ["", ""]
        return {"first_name": name, "last_name": "", "phone": phone, "phone2": "", "address1": lines[0],
                "address2": lines[1], "address3": a.province, "address4": a.district, "address5": a.ward or "",
                "city": a.city, "post_code": a.postal_code or "", "country": COUNTRY_NAMES[a.country]}

    def product(self, p: SimProduct) -> dict:
        country = self.world.shops[p.shop_id].country
        return {"item_id": int(p.item_id), "primary_category": int(p.category_id), "status": PRODUCT_STATUS.get(p.status, p.status),
                "created_time": str(p.create_time * 1000), "updated_time": str(p.update_time * 1000), "images": [],
                "attributes": {"name": p.title, "description": p.description, "short_description": "",
                               "brand": p.brand or "No Brand"},
                "skus": [{"SkuId": int(s.sku_id), "SellerSku": s.seller_sku, "ShopSku": f"{p.item_id}_{country}AMZ-{s.sku_id}",
                          "price": float(s.price), "special_price": 0.0, "quantity": s.stock, "Available": s.stock,
                          "Status": "active", "Images": []} for s in p.skus]}

    def order(self, o: SimOrder) -> dict:
        stamp = iso_time if int(o.order_id) % 3 == 0 else local_time   # both forms Lazada documents
        rendered = {"order_id": int(o.order_id), "order_number": int(o.order_id), "created_at": stamp(o.create_time),
                    "updated_at": stamp(o.update_time), "price": f"{o.total:,.2f}", "shipping_fee": float(o.shipping_fee),
                    "payment_method": PAYMENT.get(o.payment_method, o.payment_method),
                    "customer_first_name": o.buyer_username, "customer_last_name": "",
                    "statuses": [ORDER_STATUS.get(o.status, o.status.lower())],
                    "items_count": sum(i.quantity for i in o.items), "remarks": o.buyer_note or "",
                    "tax_code": "", "branch_number": "", "voucher": 0.0, "gift_option": False, "gift_message": "",
                    "delivery_info": "", "extra_attributes": "", "warehouse_code": "dropshipping",
                    "address_shipping": self.address(o.recipient_address, o.recipient_name, o.recipient_phone),
                    "address_billing": {**self.address(o.recipient_address, o.recipient_name, o.recipient_phone),
                                        "customer_email": o.buyer_email or ""}}
        if o.card_number:
            rendered["payment_details"] = {"card_number": o.card_number, "card_brand": o.card_brand}
        return rendered

    def item_rows(self, o: SimOrder) -> list[dict]:
        rows, n = [], 0
        for item in o.items:
            for _ in range(item.quantity):
                n += 1
                price = float(Decimal(item.unit_price))
                rows.append({"order_item_id": int(o.order_id) * 100 + n, "order_id": int(o.order_id),
                             "product_id": int(item.item_id), "sku_id": item.sku_id, "name": item.title,
                             "item_price": price, "paid_price": price, "currency": o.currency,
                             "status": ORDER_STATUS.get(o.status, o.status.lower()),
                             "tracking_code": o.tracking_number or "", "buyer_id": int(o.buyer_user_id),
                             "created_at": local_time(o.create_time), "updated_at": local_time(o.update_time)})
        return rows

    # ------------------------------------------------------------------ pushes
    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        mac = hmac.new(self.app_secret.encode(), self.app_key.encode() + body, hashlib.sha256)
        return {"Authorization": mac.hexdigest()}

    def _site(self, shop_id: str) -> str:
        return "lazada_" + self.world.shops[shop_id].country.lower()

    def push_for_change(self, change: Change) -> dict | None:
        if change.entity != "order":
            return None                      # Lazada's product pushes are about QC, not updates
        order = self.world.orders[(change.shop_id, change.entity_id)]
        return {"seller_id": change.shop_id, "message_type": 0, "site": self._site(change.shop_id),
                "timestamp": int(self.clock() * 1000),
                "data": {"order_status": ORDER_STATUS.get(order.status, order.status.lower()),
                         "status_update_time": change.update_time, "trade_order_id": order.order_id,
                         "trade_order_line_id": str(int(order.order_id) * 100 + 1)}}

    def push_for_auth(self, kind: AuthPush, shop_id: str) -> dict | None:
        now = int(self.clock())
        if kind == "expiring":
            return {"seller_id": "null", "message_type": 8, "site": self._site(shop_id), "timestamp": now,
                    "data": {"app_key": self.app_key, "auth_expiry_time": now + 48 * 3600, "seller_id": shop_id}}
        return {"seller_id": shop_id, "message_type": 100 if kind == "authorised" else 101, "site": self._site(shop_id),
                "timestamp": now, "data": {"app_key": self.app_key, "seller_id": shop_id}}
