"""Shopee push bodies -> PushNotice."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Mapping

from ..base import AppCredentials, BadPayload, PushKind, PushNotice
from ..normalise import json_object, utc
from .mapping import NAME
from .signing import push_signature

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
    return PushNotice(NAME, kind, shop_id, notification_id, utc(timestamp), order_id)


def verify_push(app: AppCredentials, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
    """True if the push's Authorization header is the platform's signature over the raw body."""
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(push_signature(app.app_secret, callback_url, body).encode("ascii"),
                               given.strip().lower().encode("ascii", "replace"))  # non-ASCII: no match, no TypeError
