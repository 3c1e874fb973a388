"""Lazada push bodies -> PushNotice."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Mapping

from ..base import AppCredentials, BadPayload, MappingError, PushKind, PushNotice
from ..normalise import get, json_object, utc
from .mapping import NAME, required_id
from .signing import push_signature

# Push message types: 0 trade order and 8 token-expiry alert are Lazada's documented ones; Lazada
# documents no push for an authorisation granted or cancelled, so these two are this project's
# own (unverified; the simulator sends them, the connector reads them).
MSG_TRADE_ORDER = 0
MSG_AUTH_EXPIRING = 8
MSG_AUTHORISED = 100
MSG_AUTH_CANCELLED = 101


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
            kind, order_id = PushKind.ORDER_STATUS, required_id(data, "trade_order_id")
        else:
            kind = {MSG_AUTH_EXPIRING: PushKind.AUTHORISATION_EXPIRING, MSG_AUTHORISED: PushKind.SHOP_AUTHORISED,
                    MSG_AUTH_CANCELLED: PushKind.AUTHORISATION_CANCELLED}.get(kind_code, PushKind.OTHER)
        top = message.get("seller_id")  # the expiry alert's top-level seller_id is the string "null"
        seller = required_id(data, "seller_id") if top in (None, "", "null") else required_id(message, "seller_id")
    except MappingError as exc:
        raise BadPayload(exc.reason, f"push: {exc}", body) from None
    canonical = json.dumps(message, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return PushNotice(NAME, kind, seller, hashlib.sha256(canonical).hexdigest()[:32],
                      utc(stamp / 1000 if stamp > 10**11 else stamp), order_id)


def verify_push(app: AppCredentials, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
    """True if the push's Authorization header is the platform's signature over the raw body."""
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(given, str) or not given:
        return False
    expected = push_signature(app.app_key, app.app_secret, body)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii", "replace"))
