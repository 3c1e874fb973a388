"""TikTok Shop request and push signatures (see the package docstring for what is signed)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping

import httpx

UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


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
