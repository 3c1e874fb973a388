"""Lazada request and push signatures (see the package docstring for what is signed)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Mapping

SIGN_METHOD = "sha256"


def sign_request(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """UPPER(hex(HMAC-SHA256(app_secret, api_path + k1 + v1 + k2 + v2 ...))) over every
    parameter but `sign`, sorted by name in ASCII (code point) order."""
    text = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """Lazada push: hex(HMAC-SHA256(app_secret, app_key + raw body))."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()
