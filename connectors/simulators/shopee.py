"""Shopee Open Platform v2, simulated as strictly as the documentation allows.

Every request is checked like the gateway does: partner_id, timestamp (within
`timestamp_window`, 300 s) and sign (lowercase hex HMAC-SHA256 keyed with the partner key over
partner_id + path + timestamp [+ access_token + shop_id]), computed here independently of
the connector. Errors come as {request_id, error, message}: error_param "Invalid timestamp",
error_sign "Wrong sign.", error_auth "Invalid access_token." for an expired access token and
invalid_acceess_token "Invalid access_token." (Shopee's own spelling) for one never issued or
revoked, error_shop, error_auth, order.order_list_invalid_time (a window over 15 days, or
time_from not earlier than time_to: "Start time must be earlier than end time."); over the
rate limit (per app and shop) error_too_frequent with HTTP 200 (Shopee publishes neither the
limit nor the status: the stricter choice is an envelope the client must read).

Authorisations lapse: each shop's authorisation ends `authorisation_seconds` (365 days by
default, Shopee's maximum) after it was granted, at get_shop_info's expire_time; from then on
its access tokens are refused (error_auth) and so is its refresh token.

Served: auth/token/get (shop_id or main_account_id), auth/access_token/get, shop/get_shop_info
(flat, no `response`), product/get_category, get_item_list (offset pagination, page_size
<= 100, visible results capped at `item_list_cap` while total_count stays true),
get_item_base_info and get_model_list, order/get_order_list (windows <= 15 days, opaque cursor),
get_order_detail (order_sn_list <= 50, optional fields only when asked for) and push/
get_lost_push_message + confirm_consumed_lost_push_message (unacknowledged pushes, 3 days).

Choices where Shopee is silent (the stricter one): HTTP 400 for error_param, 403 for
auth/sign/token errors, 200 with error_too_frequent for the rate limit; time ranges inclusive on both ends; the
item list newest first. Not real Shopee: for CARD orders, get_order_detail carries
`payment_info: {card_number, card_brand}` when response_optional_fields asks for
"payment_info" (real Shopee rarely exposes a card number; this exercises R10).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import zlib
from typing import Any, Awaitable, Callable

from aiohttp import web

from . import vocab
from .base import AuthPush, Change, SimConfig, SimulatorBase, break_field, json_response
from .world import SimOrder, SimProduct

DAY = 86_400
ORDER_WINDOW = 15 * DAY
LOST_PUSH_SECONDS = 3 * DAY
ITEM_STATUSES = {"NORMAL", "BANNED", "UNLIST", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE"}
ORDER_OPTIONAL = {"buyer_user_id", "buyer_username", "estimated_shipping_fee", "recipient_address",
                  "actual_shipping_fee", "goods_to_declare", "note", "note_update_time", "item_list", "pay_time",
                  "dropshipper", "dropshipper_phone", "split_up", "buyer_cancel_reason", "cancel_by", "cancel_reason",
                  "actual_shipping_fee_confirmed", "buyer_cpf_id", "fulfillment_flag", "pickup_done_time",
                  "package_list", "shipping_carrier", "payment_method", "total_amount", "invoice_data",
                  "order_chargeable_weight_gram", "payment_info"}
PAYMENT_NAMES = {"COD": "Cash on Delivery", "CARD": "Credit Card/Debit Card", "WALLET": "ShopeePay",
                 "BANK_TRANSFER": "Bank Transfer"}
CATEGORIES = {c.category_id: c.name for c in (*vocab.VN_CATEGORIES, *vocab.TH_CATEGORIES)}


class Refused(Exception):
    """A request the platform answers with an error envelope."""

    def __init__(self, error: str, message: str, status: int = 400):
        super().__init__(message)
        self.error, self.message, self.status = error, message, status


def _int(raw: Any, name: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).lstrip("-").isdigit():
        raise Refused("error_param", f"{name} is invalid.")
    return int(raw)


def _id_list(raw: str | None, name: str, limit: int) -> list[str]:
    ids = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not 1 <= len(ids) <= limit:
        raise Refused("error_param", f"{name} should contain 1 to {limit} entries.")
    return ids


class ShopeeSimulator(SimulatorBase):
    name = "shopee"
    item_list_cap = 10_000            # visible get_item_list results per query (Shopee publishes no number)

    def __init__(self, config: SimConfig, app_key: str, app_secret: str, clock: Callable[[], float] = time.time,
                 *, item_list_cap: int | None = None, authorisation_seconds: int = 365 * DAY):
        super().__init__(config, app_key, app_secret, clock)
        self.authorisation_seconds = authorisation_seconds
        if item_list_cap is not None:
            self.item_list_cap = item_list_cap
        self._main_accounts: dict[str, int] = {}          # code -> main_account_id
        self._fan_out: dict[str, set[str]] = {}           # main-account refresh token -> shops yet to use it
        self._authorised_at: dict[str, int] = {}
        self._cursors: dict[str, tuple[tuple, tuple]] = {}  # opaque cursor -> (query, last sort key)
        self._lost_confirmed = 0                          # watermark of confirm_consumed_lost_push_message

    # ------------------------------------------------------------------ gateway
    def _sign(self, *parts: Any) -> str:
        message = "".join(str(p) for p in parts).encode("utf-8")
        return hmac.new(self.app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()

    def _envelope(self, payload: dict | None = None, *, flat: bool = False, **extra) -> web.Response:
        body: dict[str, Any] = {"request_id": secrets.token_hex(16), "error": "", "message": "", **extra}
        if flat:
            body.update(payload or {})
        elif payload is not None:
            body["response"] = payload
        return json_response(body)

    def _api(self, method: str, path: str, handler: Callable[..., Awaitable[web.Response]], *, shop: bool) -> web.RouteDef:
        async def guarded(request: web.Request) -> web.Response:
            try:
                shop_id = self._check(request, shop)
                return await (handler(request, shop_id) if shop else handler(request))
            except Refused as refused:
                return json_response({"request_id": secrets.token_hex(16), "error": refused.error,
                                      "message": refused.message}, refused.status)
        return web.route(method, path, guarded)

    def _check(self, request: web.Request, shop: bool) -> str | None:
        query = request.query
        partner_id, timestamp, sign = query.get("partner_id"), query.get("timestamp"), query.get("sign")
        if not partner_id or not timestamp or not sign:
            raise Refused("error_param", "partner_id, timestamp and sign are required in the query.")
        if not timestamp.isdigit() or not self.timestamp_fresh(int(timestamp)):
            raise Refused("error_param", "Invalid timestamp", 403)
        if partner_id != self.app_key:
            raise Refused("error_auth", "Invalid partner_id.", 403)
        token = shop_id = ""
        if shop:
            token, shop_id = query.get("access_token", ""), query.get("shop_id", "")
            if not token or not shop_id:
                raise Refused("error_param", "access_token and shop_id are required for a shop API.")
        if not hmac.compare_digest(self._sign(partner_id, request.path, timestamp, token, shop_id), sign):
            raise Refused("error_sign", "Wrong sign.", 403)
        if shop:
            if shop_id not in self.world.shops:
                raise Refused("error_shop", "shop_id is invalid.", 403)
            state = self.tokens.check_access(token, shop_id)
            if self.take_fault(request, "expired_token") or state == "invalid":
                raise Refused("invalid_acceess_token", "Invalid access_token.", 403)
            if state == "expired" or self._lapsed(shop_id):
                raise Refused("error_auth", "Invalid access_token.", 403)
        allowed, _ = self.limiter.allow((partner_id, shop_id))
        if not allowed:
            raise Refused("error_too_frequent", "Your request is too frequent, please try again later.", 200)
        return shop_id or None

    async def _json(self, request: web.Request, *, partner_in_body: bool = True) -> dict:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Refused("error_param", "Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise Refused("error_param", "Request body must be a JSON object.")
        if partner_in_body and _int(body.get("partner_id"), "partner_id") != int(self.app_key):
            raise Refused("error_param", "partner_id in the body does not match the query.")
        return body

    def routes(self) -> list[web.RouteDef]:
        public = [("POST", "/api/v2/auth/token/get", self.token_get),
                  ("POST", "/api/v2/auth/access_token/get", self.token_refresh),
                  ("GET", "/api/v2/push/get_lost_push_message", self.lost_pushes),
                  ("POST", "/api/v2/push/confirm_consumed_lost_push_message", self.confirm_lost_pushes)]
        shop = [("GET", "/api/v2/shop/get_shop_info", self.shop_info),
                ("GET", "/api/v2/product/get_category", self.categories),
                ("GET", "/api/v2/product/get_item_list", self.item_list),
                ("GET", "/api/v2/product/get_item_base_info", self.item_base_info),
                ("GET", "/api/v2/product/get_model_list", self.model_list),
                ("GET", "/api/v2/order/get_order_list", self.order_list),
                ("GET", "/api/v2/order/get_order_detail", self.order_detail)]
        return ([self._api(m, p, h, shop=False) for m, p, h in public]
                + [self._api(m, p, h, shop=True) for m, p, h in shop])

    # ------------------------------------------------------------------ tokens
    def expire_time(self, shop_id: str) -> int | None:
        since = self._authorised_at.get(shop_id)
        return None if since is None else since + self.authorisation_seconds

    def _lapsed(self, shop_id: str) -> bool:
        end = self.expire_time(shop_id)
        return end is not None and self.clock() >= end

    async def _admin_authorize(self, request: web.Request) -> web.Response:
        """The base's authorisation plus what Shopee's redirect carries: shop_id for one shop,
        main_account_id when a main account authorised several."""
        reply = await super()._admin_authorize(request)
        data = json.loads(reply.body)
        if reply.status == 200:
            if len(data["shop_ids"]) == 1:
                data["shop_id"] = data["shop_ids"][0]
            else:
                data["main_account_id"] = self._main_accounts[data["code"]] = 68_000 + len(self._main_accounts)
        return json_response(data, reply.status)

    async def token_get(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        code, shop_id, main_id = body.get("code"), body.get("shop_id"), body.get("main_account_id")
        if not isinstance(code, str) or (shop_id is None) == (main_id is None):
            raise Refused("error_param", "code and exactly one of shop_id or main_account_id are required.")
        main = self._main_accounts.pop(code, None)
        grant = self.tokens.redeem_code(code)
        if grant is None:
            raise Refused("error_auth", "Invalid code.", 403)
        if shop_id is not None and (main is not None or str(_int(shop_id, "shop_id")) not in grant.shop_ids):
            raise Refused("error_auth", "The code was not issued for this shop_id.", 403)
        if main_id is not None and _int(main_id, "main_account_id") != main:
            raise Refused("error_auth", "The code was not issued for this main_account_id.", 403)
        now = int(self.clock())
        for shop in grant.shop_ids:
            self._authorised_at[shop] = now
        extra = {}
        if main is not None:
            self._fan_out[grant.refresh_token] = set(grant.shop_ids)
            extra = {"shop_id_list": [int(s) for s in grant.shop_ids], "merchant_id_list": []}
        return self._envelope({"access_token": grant.access_token, "refresh_token": grant.refresh_token,
                               "expire_in": int(self.config.access_ttl), **extra}, flat=True)

    async def token_refresh(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        token, shop_id = body.get("refresh_token"), body.get("shop_id")
        if not isinstance(token, str) or shop_id is None:
            raise Refused("error_param", "refresh_token and shop_id are required.")
        shop_id = str(_int(shop_id, "shop_id"))
        if self._lapsed(shop_id):
            raise Refused("error_auth", "Invalid refresh_token.", 403)
        waiting = self._fan_out.get(token)
        if waiting is not None:  # a main account's first pair: refreshed once per shop, each getting its own
            if shop_id not in waiting:
                raise Refused("error_auth", "Invalid refresh_token.", 403)
            waiting.discard(shop_id)
            if not waiting:
                del self._fan_out[token]
                self.tokens.refresh(token)
            grant = self.tokens.redeem_code(self.tokens.issue_code([shop_id]))
        else:
            grant = self.tokens.refresh(token)
        if grant is None or shop_id not in grant.shop_ids:
            raise Refused("error_auth", "Invalid refresh_token.", 403)
        return self._envelope({"partner_id": int(self.app_key), "shop_id": int(shop_id), "access_token": grant.access_token,
                               "refresh_token": grant.refresh_token, "expire_in": int(self.config.access_ttl)}, flat=True)

    # ------------------------------------------------------------------ shop and products
    def _record_fault(self, request: web.Request, record: dict | None, path: str) -> None:
        fault = self.take_fault(request, "missing_field", "wrong_type")
        if fault is not None and record is not None:
            break_field(record, path, fault.kind)

    async def shop_info(self, request: web.Request, shop_id: str) -> web.Response:
        shop = self.world.shops[shop_id]
        since = self._authorised_at.get(shop_id, shop.update_time)
        info = {"shop_name": shop.name, "region": shop.country, "status": shop.status, "is_cb": False,
                "is_cnsc": False, "auth_time": since, "expire_time": since + self.authorisation_seconds, "is_sip": False,
                "is_main_shop": False, "is_direct_shop": False, "shop_fulfillment_flag": "Others"}
        self._record_fault(request, info, "region")
        return self._envelope(info, flat=True)

    async def categories(self, request: web.Request, shop_id: str) -> web.Response:
        rows = [{"category_id": int(cid), "parent_category_id": 0, "original_category_name": name,
                 "display_category_name": name, "has_children": False} for cid, name in sorted(CATEGORIES.items())]
        return self._envelope({"category_list": rows})

    async def item_list(self, request: web.Request, shop_id: str) -> web.Response:
        query = request.query
        offset, size = _int(query.get("offset", "0"), "offset"), _int(query.get("page_size"), "page_size")
        statuses = set(query.getall("item_status", []))
        if not 1 <= size <= 100 or offset < 0:
            raise Refused("error_param", "page_size should be 1 to 100 and offset not negative.")
        if not statuses or not statuses <= ITEM_STATUSES:
            raise Refused("error_param", "item_status is required and must be valid.")
        if offset >= self.item_list_cap:
            raise Refused("error_param", f"offset should be less than {self.item_list_cap}.")
        start = _int(query.get("update_time_from", "0"), "update_time_from")
        end = _int(query.get("update_time_to", str(2**40)), "update_time_to")
        if start > end:
            raise Refused("error_param", "update_time_from should be earlier than update_time_to.")
        found = [p for p in self.world.products_updated(shop_id, start, end + 1) if p.status in statuses]
        found.sort(key=lambda p: (-p.update_time, p.item_id))
        visible = found[: self.item_list_cap]
        page = visible[offset: offset + size]
        response = {"item": [{"item_id": int(p.item_id), "item_status": p.status, "update_time": p.update_time}
                             for p in page],
                    "total_count": len(found), "has_next_page": offset + size < len(visible),
                    "next_offset": offset + len(page)}
        self._record_fault(request, response, "has_next_page")   # an envelope the connector must not trust
        return self._envelope(response)

    def _product(self, shop_id: str, raw_id: str) -> SimProduct | None:
        return self.world.products.get((shop_id, raw_id)) if raw_id.isdigit() else None

    async def item_base_info(self, request: web.Request, shop_id: str) -> web.Response:
        ids = _id_list(request.query.get("item_id_list"), "item_id_list", 50)
        products = [p for p in (self._product(shop_id, i) for i in ids) if p is not None]
        items = [self._render_item(p) for p in products]
        self._record_fault(request, items[0] if items else None, "item_name")
        missing = [i for i in ids if self._product(shop_id, i) is None]
        extra = {"warning": f"item_id {','.join(missing)} not found"} if missing else {}
        return self._envelope({"item_list": items}, **extra)

    @staticmethod
    def _price(product: SimProduct, price) -> list[dict]:
        return [{"currency": product.currency, "original_price": float(price), "current_price": float(price)}]

    def _render_item(self, p: SimProduct) -> dict:
        item = {"item_id": int(p.item_id), "category_id": int(p.category_id), "item_name": p.title,
                "description": p.description, "description_type": "normal", "item_sku": p.skus[0].seller_sku,
                "create_time": p.create_time, "update_time": p.update_time, "attribute_list": [],
                "image": {"image_url_list": [], "image_id_list": []}, "weight": "0.5",
                "pre_order": {"is_pre_order": False, "days_to_ship": 2}, "condition": "NEW", "item_status": p.status,
                "has_model": len(p.skus) > 1, "promotion_id": 0, "item_dangerous": 0,
                "brand": {"brand_id": zlib.crc32(p.brand.encode()) % 10**6 + 1 if p.brand else 0,
                          "original_brand_name": p.brand or "NoBrand"}}
        if len(p.skus) == 1:
            item["price_info"] = self._price(p, p.skus[0].price)
            item["stock_info_v2"] = {"summary_info": {"total_reserved_stock": 0, "total_available_stock": p.skus[0].stock}}
        return item

    async def model_list(self, request: web.Request, shop_id: str) -> web.Response:
        product = self._product(shop_id, request.query.get("item_id", ""))
        if product is None:
            raise Refused("product.error_item_not_found", "Item not found.")
        models = [{"model_id": int(s.sku_id), "model_sku": s.seller_sku, "tier_index": [i],
                   "price_info": self._price(product, s.price),
                   "stock_info_v2": {"summary_info": {"total_reserved_stock": 0, "total_available_stock": s.stock}}}
                  for i, s in enumerate(product.skus)] if len(product.skus) > 1 else []
        self._record_fault(request, models[0] if models else None, "price_info")
        tiers = [{"name": "Variant", "option_list": [{"option": s.seller_sku} for s in product.skus]}] if models else []
        return self._envelope({"tier_variation": tiers, "model": models})

    # ------------------------------------------------------------------ orders
    async def order_list(self, request: web.Request, shop_id: str) -> web.Response:
        query = request.query
        field, size = query.get("time_range_field"), _int(query.get("page_size"), "page_size")
        start, end = _int(query.get("time_from"), "time_from"), _int(query.get("time_to"), "time_to")
        if field not in ("create_time", "update_time") or not 1 <= size <= 100:
            raise Refused("error_param", "time_range_field must be create_time or update_time; page_size 1 to 100.")
        if start >= end:
            raise Refused("order.order_list_invalid_time", "Start time must be earlier than end time.")
        if end - start > ORDER_WINDOW:
            raise Refused("order.order_list_invalid_time",
                          "The time range between time_from and time_to must be no more than 15 days.")
        key, after = (shop_id, field, start, end, query.get("order_status")), None
        if cursor := query.get("cursor", ""):
            if cursor not in self._cursors or self._cursors[cursor][0] != key:
                raise Refused("error_param", "Invalid cursor.")
            after = self._cursors[cursor][1]
        found = [o for o in self.world.orders_in(shop_id, start, end + 1, field) if key[4] in (None, o.status)
                 and (after is None or (getattr(o, field), o.order_id) > after)]   # keyset: stable under updates
        page, more = found[:size], len(found) > size
        next_cursor = ""
        if more:
            next_cursor = secrets.token_urlsafe(12)
            self._cursors[next_cursor] = (key, (getattr(page[-1], field), page[-1].order_id))
        with_status = "order_status" in query.get("response_optional_fields", "").split(",")
        rows = [{"order_sn": o.order_id, **({"order_status": o.status} if with_status else {})} for o in page]
        response = {"more": more, "next_cursor": next_cursor, "order_list": rows}
        self._record_fault(request, response, "more")
        return self._envelope(response)

    async def order_detail(self, request: web.Request, shop_id: str) -> web.Response:
        ids = _id_list(request.query.get("order_sn_list"), "order_sn_list", 50)
        wanted = {f.strip() for f in request.query.get("response_optional_fields", "").split(",")} & ORDER_OPTIONAL
        orders = [self.world.orders[(shop_id, sn)] for sn in ids if (shop_id, sn) in self.world.orders]
        rendered = [self._render_order(o, wanted) for o in orders]
        self._record_fault(request, rendered[0] if rendered else None, "update_time")
        missing = [sn for sn in ids if (shop_id, sn) not in self.world.orders]
        extra = {"warning": f"order_sn {','.join(missing)} not found"} if missing else {}
        return self._envelope({"order_list": rendered}, **extra)

    def _render_order(self, o: SimOrder, wanted: set[str]) -> dict:
        a, paid = o.recipient_address, o.status not in ("UNPAID",) and o.payment_method != "COD"
        base = {"order_sn": o.order_id, "region": a.country, "currency": o.currency, "cod": o.payment_method == "COD",
                "order_status": o.status, "create_time": o.create_time, "update_time": o.update_time,
                "days_to_ship": 3, "ship_by_date": o.create_time + 3 * DAY, "message_to_seller": o.buyer_note or "",
                "booking_sn": "", "advance_package": False, "reverse_shipping_fee": 0.0}
        lines = []
        for n, line in enumerate(o.items):
            product = self.world.products.get((o.shop_id, line.item_id))
            single = product is None or len(product.skus) == 1
            lines.append({"item_id": int(line.item_id), "item_name": line.title, "item_sku": "",
                          "model_id": 0 if single else int(line.sku_id), "model_name": "", "model_sku": "",
                          "model_quantity_purchased": line.quantity, "model_original_price": float(line.unit_price),
                          "model_discounted_price": float(line.unit_price), "wholesale": False, "weight": 0.3,
                          "add_on_deal": False, "main_item": False, "add_on_deal_id": 0, "promotion_type": "",
                          "promotion_id": 0, "order_item_id": n + 1, "promotion_group_id": 0,
                          "image_info": {"image_url": ""}, "is_prescription_item": False, "is_b2c_owned_item": False})
        optional = {
            "buyer_user_id": int(o.buyer_user_id), "buyer_username": o.buyer_username,
            "estimated_shipping_fee": float(o.shipping_fee), "actual_shipping_fee": float(o.shipping_fee),
            "actual_shipping_fee_confirmed": o.status in ("SHIPPED", "COMPLETED"),
            "recipient_address": {"name": o.recipient_name, "phone": o.recipient_phone, "town": a.ward or "",
                                  "district": a.district, "city": a.city, "state": a.province, "region": a.country,
                                  "zipcode": a.postal_code or "", "full_address": a.full_address},
            "goods_to_declare": False, "note": "", "note_update_time": 0, "item_list": lines,
            "pay_time": o.create_time + 60 if paid else 0, "dropshipper": "", "dropshipper_phone": "",
            "split_up": False, "buyer_cancel_reason": "", "cancel_by": "buyer" if o.status == "CANCELLED" else "",
            "cancel_reason": "", "buyer_cpf_id": "", "fulfillment_flag": "fulfilled_by_local_seller",
            "pickup_done_time": 0, "shipping_carrier": "SPX Express", "payment_method": PAYMENT_NAMES[o.payment_method],
            "total_amount": float(o.total), "invoice_data": None, "order_chargeable_weight_gram": 300,
            "package_list": [{"package_number": f"OFG{o.order_id}", "logistics_status": "LOGISTICS_READY",
                              "shipping_carrier": "SPX Express",
                              "item_list": [{"item_id": int(i.item_id), "model_id": 0, "quantity": i.quantity}
                                            for i in o.items]}],
        }
        if o.card_number:
            optional["payment_info"] = {"card_number": o.card_number, "card_brand": o.card_brand}
        return {**base, **{k: v for k, v in optional.items() if k in wanted}}

    # ------------------------------------------------------------------ pushes
    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        digest = hmac.new(self.app_secret.encode("utf-8"), url.encode("utf-8") + b"|" + body, hashlib.sha256)
        return {"Authorization": digest.hexdigest()}

    def push_acknowledged(self, status: int, body: bytes) -> bool:
        return 200 <= status < 300 and body == b""   # Shopee: 2xx AND an empty body, else it is retried

    def push_for_change(self, change: Change) -> dict | None:
        if change.entity != "order":
            return None
        order = self.world.orders[(change.shop_id, change.entity_id)]
        return {"shop_id": int(change.shop_id), "code": 3, "timestamp": int(self.clock()),
                "data": {"items": [], "ordersn": order.order_id, "status": order.status, "completed_scenario": "",
                         "update_time": change.update_time}}

    def push_for_auth(self, kind: AuthPush, shop_id: str) -> dict | None:
        now, shop = int(self.clock()), int(shop_id)
        if kind == "expiring":
            since = self._authorised_at.get(shop_id, now)
            return {"code": 12, "timestamp": now,
                    "data": {"merchant_expire_soon": [], "shop_expire_soon": [shop], "user_expire_soon": [],
                             "expire_before": since + self.authorisation_seconds, "page_no": 1, "total_page": 1}}
        authorised = kind == "authorised"
        return {"code": 1 if authorised else 2, "timestamp": now, "partner_id": int(self.app_key),
                "data": {"authorize_type": "shop authorization by user" if authorised else "user cancel shop authorization",
                         "extra": f"shop id {shop} has been {'authorized' if authorised else 'cancelled'} successfully",
                         "shop_id": shop, "success": 1}}

    async def lost_pushes(self, request: web.Request) -> web.Response:
        since = self.clock() - LOST_PUSH_SECONDS
        lost = [m for m in self.pushes.unacknowledged()
                if m.message_id > self._lost_confirmed and m.body.get("timestamp", 0) >= since]
        page = lost[:100]
        rows = [{**({"shop_id": m.body["shop_id"]} if m.body["code"] not in (1, 2, 12) else {}),
                 "code": m.body["code"], "timestamp": m.body["timestamp"], "data": m.raw.decode("utf-8")}
                for m in page]
        return self._envelope({"push_message_list": rows, "has_next_page": len(lost) > 100,
                               "last_message_id": page[-1].message_id if page else 0})

    async def confirm_lost_pushes(self, request: web.Request) -> web.Response:
        body = await self._json(request, partner_in_body=False)
        last = _int(body.get("last_message_id"), "last_message_id")
        if last <= 0:
            raise Refused("error_param", "last_message_id is invalid.")
        self._lost_confirmed = max(self._lost_confirmed, last)
        return self._envelope()
