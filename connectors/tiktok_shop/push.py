"""TikTok Shop push bodies -> PushNotice."""

from __future__ import annotations

import hmac
from dataclasses import replace
from typing import Mapping

from ..base import AppCredentials, BadPayload, MappingError, PushKind, PushNotice
from ..normalise import get, json_object, utc
from .mapping import NAME
from .signing import push_signature

# Push `type` values
PUSH_ORDER_STATUS = 1
PUSH_AUTHORISATION_CANCELLED = 6
PUSH_AUTHORISATION_EXPIRING = 7
PUSH_SHOP_AUTHORISED = 10001
PUSH_KINDS = {PUSH_ORDER_STATUS: PushKind.ORDER_STATUS,
              PUSH_AUTHORISATION_CANCELLED: PushKind.AUTHORISATION_CANCELLED,
              PUSH_AUTHORISATION_EXPIRING: PushKind.AUTHORISATION_EXPIRING,
              PUSH_SHOP_AUTHORISED: PushKind.SHOP_AUTHORISED}


def parse_push(body: bytes) -> PushNotice:
    """A verified push -> PushNotice; BadPayload (no values in the message) when malformed."""
    data = json_object(body, "push body")
    try:
        kind_code = get(data, "type", int)
        notice = PushNotice(NAME, PUSH_KINDS.get(kind_code, PushKind.OTHER), get(data, "shop_id", str),
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


def verify_push(app: AppCredentials, callback_url: str, headers: Mapping[str, str], body: bytes) -> bool:
    """TikTok signs app_key + raw body (the callback URL is not part of it)."""
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(given, str) or not given:
        return False
    expected = push_signature(app.app_key, app.app_secret, body)
    return hmac.compare_digest(given.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))
