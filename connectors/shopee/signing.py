"""Shopee request and push signatures (see the package docstring for the base strings)."""

from __future__ import annotations

import hashlib
import hmac

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
