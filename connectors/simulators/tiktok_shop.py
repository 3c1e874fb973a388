"""TikTok Shop Partner API 202309, simulated as strictly as the documentation allows.

Every API request is checked as the platform does: app_key, timestamp (now-5 min .. now+30 s),
sign (HMAC-SHA256 over path + sorted query + body, wrapped in the app secret; written here
independently of the connector), the `x-tts-access-token` header, the shop_cipher, then the
rate limit per (app, shop, API). Errors use the platform's envelope {code, message, request_id}.

Two hosts, as in production: the authorisation host (auth.tiktok-shops.com; `host_apps()["auth"]`,
its own port) serves /api/v2/token/get|refresh, and the open-API host refuses them (HTTP 404,
code 40006: the token paths do not exist there). One grant covers every shop the seller
authorised; refresh tokens rotate (a refresh spends the old one; TikTok does not document
rotation, so the simulator takes the stricter reading). The open-API host serves
/authorization/202309/shops, /order/202309/orders/search, /order/202309/orders?ids=,
/product/202309/products/search, /product/202309/products/{id}.

Our choices where the documentation is silent (marked unverified in the report):
- error codes other than the documented 105002, 106001, 36009002, 36009004, 105005, 12052180:
  105001 invalid token, 106011 unknown shop_cipher, 36004004 bad auth code or refresh token,
  40006 invalid parameter, 12052048 product not found; HTTP 401 for every auth failure.
- products/search returns results in product-id order (no time order is promised); its page_token
  is an offset, and a page reaching past `product_result_cap` answers 12052180.
- orders/search page_tokens are keyset cursors on (sort field, id), stable while records change.
- 202309 line items are one per unit; a CARD order carries its number at `payment.card_number`.
- World statuses map UNPAID->UNPAID, READY_TO_SHIP->AWAITING_SHIPMENT, SHIPPED->IN_TRANSIT,
  COMPLETED, CANCELLED; products NORMAL->ACTIVATE, UNLIST->SELLER_DEACTIVATED.
- Pushes: type 1 order status (documented); 6 authorisation cancelled, 7 authorisation expiring
  (public SDKs); 10001 shop authorised (ours). Products send no pushes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from .base import Clock, SimConfig, SimulatorBase, break_field, json_response
from .world import Change, SimAddress, SimOrder, SimProduct

DAY = 86_400
API = "202309"
TOKEN_HEADER = "x-tts-access-token"

ERR_INVALID_TOKEN, ERR_EXPIRED_TOKEN, ERR_MISSING_SCOPE = 105001, 105002, 105005
ERR_INVALID_SIGN, ERR_UNKNOWN_SHOP = 106001, 106011
ERR_RATE_LIMITED, ERR_BAD_CREDENTIALS = 36009002, 36009004
ERR_BAD_GRANT, ERR_PARAM = 36004004, 40006
ERR_PRODUCT_CAP, ERR_PRODUCT_NOT_FOUND = 12052180, 12052048

ORDER_STATUS = {"UNPAID": "UNPAID", "READY_TO_SHIP": "AWAITING_SHIPMENT", "SHIPPED": "IN_TRANSIT",
                "COMPLETED": "COMPLETED", "CANCELLED": "CANCELLED"}
PRODUCT_STATUS = {"NORMAL": "ACTIVATE", "UNLIST": "SELLER_DEACTIVATED"}
PAYMENT_NAMES = {"COD": "Cash on delivery", "CARD": "Credit/debit card", "WALLET": "E-wallet",
                 "BANK_TRANSFER": "Bank transfer"}
COUNTRY_NAMES = {"VN": "Vietnam", "TH": "Thailand"}
PUSH_ORDER_STATUS, PUSH_CANCELLED, PUSH_EXPIRING, PUSH_AUTHORISED = 1, 6, 7, 10001

Handler = Callable[..., Awaitable[web.Response]]


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _token(cursor: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def _untoken(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(ERR_PARAM, "page_token is invalid") from None


class TikTokShopSimulator(SimulatorBase):
    name = "tiktok_shop"

    @staticmethod
    def default_config(**overrides: Any) -> SimConfig:
        """TikTok's own lifetimes and limits: access token 7 days, auth code 30 min, 50 QPS."""
        values = {"access_ttl": 7 * DAY, "refresh_ttl": 30 * DAY, "code_ttl": 1800, "rate_limit_per_second": 50.0,
                  "rate_limit_burst": 50, **overrides}
        return SimConfig(**values)

    def __init__(self, config: SimConfig, app_key: str, app_secret: str, clock: Clock = time.time, *,
                 product_result_cap: int = 10_000):
        super().__init__(config, app_key, app_secret, clock)
        self.product_result_cap = product_result_cap
        self._notifications = 0
        self.ciphers = {self._cipher(s): s for s in self.world.shops}

    def _cipher(self, shop_id: str) -> str:
        digest = hashlib.sha256(f"{self.config.seed}:{shop_id}".encode()).digest()
        return "ROW_" + base64.urlsafe_b64encode(digest).decode()[:27]

    # ------------------------------------------------------------------ the platform's checks
    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/api/v2/token/{rest:.*}", self._not_this_host),
                web.get(f"/authorization/{API}/shops", self._api(self._shops, shop_scoped=False)),
                web.post(f"/order/{API}/orders/search", self._api(self._order_search)),
                web.get(f"/order/{API}/orders", self._api(self._order_detail)),
                web.post(f"/product/{API}/products/search", self._api(self._product_search)),
                web.get(f"/product/{API}/products/{{product_id:[0-9]+}}", self._api(self._product_detail))]

    def envelope(self, data: Any = None, code: int = 0, message: str = "Success", status: int = 200) -> web.Response:
        body = {"code": code, "message": message, "request_id": secrets.token_hex(10).upper()}
        if code == 0:
            body["data"] = data
        return json_response(body, status)

    def expected_sign(self, request: web.Request, body: bytes) -> str:
        text = request.path + "".join(k + request.query.get(k, "") for k in sorted(set(request.query.keys()))
                                      if k not in ("sign", "access_token"))
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        raw = text.encode() + (body if request.method != "GET" and content_type != "multipart/form-data" else b"")
        secret = self.app_secret.encode()
        return hmac.new(secret, secret + raw + secret, hashlib.sha256).hexdigest()

    def _api(self, handler: Handler, *, shop_scoped: bool = True) -> Handler:
        async def checked(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                query = request.query
                if query.get("app_key") != self.app_key:
                    raise ApiError(ERR_BAD_CREDENTIALS, "app_key is invalid", 401)
                stamp = query.get("timestamp", "")
                if not stamp.isdigit() or len(stamp) != 10 or not self.timestamp_fresh(int(stamp), future=30):
                    raise ApiError(ERR_BAD_CREDENTIALS, "timestamp is invalid or expired", 401)
                expected = self.expected_sign(request, body).encode()
                if not hmac.compare_digest(query.get("sign", "").encode(), expected):
                    raise ApiError(ERR_INVALID_SIGN, "signature is invalid", 401)
                scope = self._authorised(request, shop_scoped)
                api = request.match_info.route.resource.canonical   # 50 QPS per API, app and shop
                allowed, _ = self.limiter.allow((self.app_key, scope, api))
                if not allowed:
                    raise ApiError(ERR_RATE_LIMITED, "Too many requests. Please retry later.", 429)
                payload = json.loads(body) if body else {}
                if not isinstance(payload, dict):
                    raise ApiError(ERR_PARAM, "request body must be a JSON object")
                return self.envelope(await handler(request, scope, payload))
            except (json.JSONDecodeError, UnicodeDecodeError):
                return self.envelope(code=ERR_PARAM, message="request body is not JSON", status=400)
            except ApiError as error:
                return self.envelope(code=error.code, message=error.message, status=error.status)
        return checked

    def _authorised(self, request: web.Request, shop_scoped: bool) -> tuple[str, ...]:
        """The shop (shop-scoped) or the shops the token covers; raises the platform's error."""
        token = request.headers.get(TOKEN_HEADER, "")
        if self.take_fault(request, "expired_token"):
            raise ApiError(ERR_EXPIRED_TOKEN, "access token is expired", 401)
        if not shop_scoped:
            state = self.tokens.check_access(token)
            shops = self.tokens.shops_for(token)
        else:
            shop_id = self.ciphers.get(request.query.get("shop_cipher", ""))
            if shop_id is None:
                raise ApiError(ERR_UNKNOWN_SHOP, "shop_cipher is invalid", 401)
            state, shops = self.tokens.check_access(token, shop_id), (shop_id,)
        if state == "expired":
            raise ApiError(ERR_EXPIRED_TOKEN, "access token is expired", 401)
        if state != "ok":
            raise ApiError(ERR_INVALID_TOKEN, "access token is invalid", 401)
        return shops

    # ------------------------------------------------------------------ auth host
    def host_apps(self) -> dict[str, web.Application]:
        app = web.Application()
        app.add_routes([web.get("/api/v2/token/get", self._token_get),
                        web.get("/api/v2/token/refresh", self._token_refresh)])
        return {"auth": app}

    async def _not_this_host(self, request: web.Request) -> web.Response:
        return self.envelope(code=ERR_PARAM, message="token APIs are served by the authorisation host "
                                                     "(auth.tiktok-shops.com), not the open-API host", status=404)

    def _grant_answer(self, grant) -> web.Response:
        if grant is None:
            return self.envelope(code=ERR_BAD_GRANT, message="auth code or refresh token is invalid or expired")
        first = self.world.shops[grant.shop_ids[0]]
        return self.envelope({"access_token": grant.access_token, "refresh_token": grant.refresh_token,
                              "access_token_expire_in": int(grant.access_expires_at),
                              "refresh_token_expire_in": int(grant.refresh_expires_at),
                              "open_id": "7" + hashlib.sha256(first.shop_id.encode()).hexdigest()[:18],
                              "seller_name": first.name, "seller_base_region": first.country, "user_type": 0,
                              "granted_scopes": ["seller.authorization.info", "seller.order.info",
                                                 "seller.product.basic"]})

    def _token_check(self, request: web.Request, grant_type: str, field: str) -> str | web.Response:
        query = request.query
        if query.get("app_key") != self.app_key or query.get("app_secret") != self.app_secret:
            return self.envelope(code=ERR_BAD_CREDENTIALS, message="app_key or app_secret is invalid", status=401)
        if query.get("grant_type") != grant_type or not query.get(field):
            return self.envelope(code=ERR_PARAM, message=f"grant_type and {field} are required", status=400)
        return query[field]

    async def _token_get(self, request: web.Request) -> web.Response:
        code = self._token_check(request, "authorized_code", "auth_code")
        return code if isinstance(code, web.Response) else self._grant_answer(self.tokens.redeem_code(code))

    async def _token_refresh(self, request: web.Request) -> web.Response:
        token = self._token_check(request, "refresh_token", "refresh_token")
        return token if isinstance(token, web.Response) else self._grant_answer(self.tokens.refresh(token))

    # ------------------------------------------------------------------ shapes
    def _shop(self, shop_id: str) -> dict:
        shop = self.world.shops[shop_id]
        return {"id": shop.shop_id, "name": shop.name, "region": shop.country, "seller_type": "LOCAL",
                "cipher": self._cipher(shop_id), "code": f"{shop.country}LC{shop.shop_id[-6:]}"}

    @staticmethod
    def _address(o: SimOrder) -> dict:
        a: SimAddress = o.recipient_address
        levels = [("Country", COUNTRY_NAMES.get(a.country, a.country)), ("Province", a.province)]
        if a.city and a.city not in (a.province, a.district):
            levels.append(("City", a.city))
        levels += [("District", a.district), ("Ward" if a.country == "VN" else "Sub-district", a.ward)]
        lines = (a.lines + ["", "", "", ""])[:4]
        return {"name": o.recipient_name, "first_name": "", "last_name": "", "phone_number": o.recipient_phone,
                "full_address": a.full_address, "address_detail": lines[0],
                **{f"address_line{n + 1}": line for n, line in enumerate(lines)},
                "district_info": [{"address_level_name": name, "address_name": value, "address_level": f"L{n}"}
                                  for n, (name, value) in enumerate(levels) if value],
                "postal_code": a.postal_code or "", "region_code": a.country}

    def _order(self, o: SimOrder) -> dict:
        status = ORDER_STATUS.get(o.status, o.status)
        products = {(p.item_id, s.sku_id): s.seller_sku for p in self.world.products.values()
                    if p.shop_id == o.shop_id for s in p.skus}
        lines, sub_total = [], sum(i.unit_price * i.quantity for i in o.items)
        for item in o.items:
            for _ in range(item.quantity):   # 202309: one line item per unit
                lines.append({"id": f"{o.order_id[-12:]}{len(lines):03d}", "product_id": item.item_id,
                              "sku_id": item.sku_id, "product_name": item.title, "sku_name": "",
                              "seller_sku": products.get((item.item_id, item.sku_id), ""),
                              "sale_price": str(item.unit_price), "original_price": str(item.unit_price),
                              "currency": o.currency, "display_status": status, "is_gift": False,
                              "tracking_number": o.tracking_number or "",
                              "shipping_provider_name": "J&T Express" if o.tracking_number else ""})
        payment = {"currency": o.currency, "sub_total": str(sub_total), "shipping_fee": str(o.shipping_fee),
                   "seller_discount": "0", "platform_discount": "0", "total_amount": str(o.total), "tax": "0"}
        if o.card_number:
            payment["card_number"] = o.card_number
        order = {"id": o.order_id, "status": status, "create_time": o.create_time, "update_time": o.update_time,
                 "user_id": o.buyer_user_id, "buyer_email": o.buyer_email or "", "buyer_message": o.buyer_note or "",
                 "payment_method_name": PAYMENT_NAMES.get(o.payment_method, o.payment_method),
                 "is_cod": o.payment_method == "COD", "payment": payment, "line_items": lines,
                 "tracking_number": o.tracking_number or "", "delivery_type": "HOME_DELIVERY",
                 "fulfillment_type": "FULFILLMENT_BY_SELLER", "is_on_hold_order": False}
        if status != "UNPAID":
            order["paid_time"] = o.create_time
            order["recipient_address"] = self._address(o)   # absent for UNPAID / ON_HOLD orders
        return order

    @staticmethod
    def _skus(p: SimProduct) -> list[dict]:
        return [{"id": s.sku_id, "seller_sku": s.seller_sku,
                 "price": {"currency": p.currency, "sale_price": str(s.price), "tax_exclusive_price": str(s.price)},
                 "inventory": [{"warehouse_id": "7068517275539719942", "quantity": s.stock}]} for s in p.skus]

    def _product_summary(self, p: SimProduct) -> dict:
        return {"id": p.item_id, "title": p.title, "status": PRODUCT_STATUS.get(p.status, p.status),
                "skus": self._skus(p), "sales_regions": [self.world.shops[p.shop_id].country],
                "create_time": p.create_time, "update_time": p.update_time, "is_not_for_sale": False}

    def _product(self, p: SimProduct) -> dict:
        product = {**self._product_summary(p), "description": p.description,
                   "category_chains": [{"id": p.category_id, "parent_id": "0", "local_name": p.category_name,
                                        "is_leaf": True}], "is_cod_allowed": True}
        if p.brand:
            product["brand"] = {"id": hashlib.sha256(p.brand.encode()).hexdigest()[:16], "name": p.brand}
        return product

    def _break(self, request: web.Request, records: list[dict]) -> None:
        """missing_field / wrong_type faults: the first record's update_time loses its value or type."""
        if records and (fault := self.take_fault(request, "missing_field", "wrong_type")):
            break_field(records[0], "update_time", fault.kind)

    # ------------------------------------------------------------------ endpoints
    async def _shops(self, request: web.Request, shops: tuple[str, ...], body: dict) -> dict:
        return {"shops": [self._shop(s) for s in shops if s in self.world.shops]}

    @staticmethod
    def _int(source: dict, key: str, low: int = 0, high: int = 2 ** 40) -> int | None:
        value = source.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ApiError(ERR_PARAM, f"{key} is invalid")
        return value

    def _page_size(self, request: web.Request) -> int:
        size = self._int(dict(request.query), "page_size", 1, 100)
        if size is None:
            raise ApiError(ERR_PARAM, "page_size is required")
        return size

    async def _order_search(self, request: web.Request, shops: tuple[str, ...], body: dict) -> dict:
        size, query = self._page_size(request), request.query
        field, order = query.get("sort_field", "create_time"), query.get("sort_order", "DESC")
        if field not in ("create_time", "update_time") or order not in ("ASC", "DESC"):
            raise ApiError(ERR_PARAM, "sort_field or sort_order is invalid")
        bounds = {k: self._int(body, k) for k in ("update_time_ge", "update_time_lt", "create_time_ge",
                                                  "create_time_lt")}
        found = [o for o in self.world.orders.values() if o.shop_id == shops[0]
                 and all(v is None or (getattr(o, k[:-3]) >= v if k.endswith("_ge") else getattr(o, k[:-3]) < v)
                         for k, v in bounds.items())
                 and ("order_status" not in body or ORDER_STATUS.get(o.status) == body["order_status"])]
        found.sort(key=lambda o: (getattr(o, field), o.order_id), reverse=order == "DESC")
        found_after = found
        if query.get("page_token"):   # keyset cursor: the records strictly after the last one served
            after = _untoken(query["page_token"])
            if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], int)
                    and isinstance(after[1], str)):
                raise ApiError(ERR_PARAM, "page_token is invalid")
            after = tuple(after)
            found_after = [o for o in found if ((getattr(o, field), o.order_id) > after if order == "ASC"
                                                else (getattr(o, field), o.order_id) < after)]
        page = found_after[:size]
        more = len(found_after) > size
        orders = [self._order(o) for o in page]
        self._break(request, orders)
        return {"orders": orders, "total_count": len(found),
                "next_page_token": _token([getattr(page[-1], field), page[-1].order_id]) if more else ""}

    async def _order_detail(self, request: web.Request, shops: tuple[str, ...], body: dict) -> dict:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 50:
            raise ApiError(ERR_PARAM, "ids must hold 1 to 50 order ids")
        orders = [self._order(self.world.orders[(shops[0], i)]) for i in ids if (shops[0], i) in self.world.orders]
        self._break(request, orders)
        return {"orders": orders}

    async def _product_search(self, request: web.Request, shops: tuple[str, ...], body: dict) -> dict:
        size, token = self._page_size(request), request.query.get("page_token")
        offset = _untoken(token) if token else 0
        if not isinstance(offset, int) or offset < 0:
            raise ApiError(ERR_PARAM, "page_token is invalid")
        if offset + size > self.product_result_cap:
            raise ApiError(ERR_PRODUCT_CAP, f"Only the first {self.product_result_cap} results can be paged through; "
                                            "narrow the search")
        bounds = {k: self._int(body, k) for k in ("update_time_ge", "update_time_le", "create_time_ge",
                                                  "create_time_le")}
        found = sorted((p for p in self.world.products.values() if p.shop_id == shops[0]
                        and all(v is None or (getattr(p, k[:-3]) >= v if k.endswith("_ge") else getattr(p, k[:-3]) <= v)
                                for k, v in bounds.items())
                        and body.get("status", "ALL") in ("ALL", PRODUCT_STATUS.get(p.status))),
                       key=lambda p: p.item_id)
        products = [self._product_summary(p) for p in found[offset:offset + size]]
        self._break(request, products)
        return {"products": products, "total_count": len(found),
                "next_page_token": _token(offset + size) if offset + size < len(found) else ""}

    async def _product_detail(self, request: web.Request, shops: tuple[str, ...], body: dict) -> dict:
        product = self.world.products.get((shops[0], request.match_info["product_id"]))
        if product is None:
            raise ApiError(ERR_PRODUCT_NOT_FOUND, "product does not exist")
        rendered = self._product(product)
        self._break(request, [rendered])
        return rendered

    # ------------------------------------------------------------------ pushes
    def _notification(self, kind: int, shop_id: str, data: dict) -> dict:
        self._notifications += 1
        return {"type": kind, "tts_notification_id": str(7_300_000_000_000_000_000 + self._notifications),
                "shop_id": shop_id, "timestamp": int(self.clock()), "data": data}

    def push_for_change(self, change: Change) -> dict | None:
        if change.entity != "order":
            return None
        order = self.world.orders[(change.shop_id, change.entity_id)]
        return self._notification(PUSH_ORDER_STATUS, change.shop_id, {
            "order_id": order.order_id, "order_status": ORDER_STATUS.get(order.status, order.status),
            "is_on_hold_order": False, "update_time": change.update_time})

    def push_for_auth(self, kind: str, shop_id: str) -> dict | None:
        if kind == "authorised":
            return self._notification(PUSH_AUTHORISED, shop_id, {"region": self.world.shops[shop_id].country})
        if kind == "cancelled":
            return self._notification(PUSH_CANCELLED, shop_id, {"message": "The seller deauthorized the app."})
        return self._notification(PUSH_EXPIRING, shop_id, {"message": "The authorization expires in 30 days.",
                                                           "expiration_time": int(self.clock()) + 30 * DAY})

    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        """Authorization = hex(HMAC-SHA256(app_secret, app_key + raw body)); the URL is not signed."""
        return {"Authorization": hmac.new(self.app_secret.encode(), self.app_key.encode() + body,
                                          hashlib.sha256).hexdigest()}
