"""Reading Shopee's answers: the envelope {request_id, error, message, response} as an Outcome."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..base import Action, BadPayload, Outcome

# Shopee's `error` codes (error_auth reads by its message, see classify).
TOKEN_EXPIRED_CODES = frozenset({"invalid_acceess_token", "invalid_access_token", "error_access_token"})
RATE_LIMIT_CODES = frozenset({"error_too_frequent", "error_rate_limit"})
RETRY_CODES = frozenset({"error_system_busy", "error_server", "error_network", "error_inner", "error_busi"})
REFRESH_REFUSED_CODES = frozenset({"error_auth", "refresh_token_expired"})   # the latter: EcomPHP/shopee-php's list


def classify(status: int, headers: Mapping[str, str], data: Any, *, flat: bool = False,
             required: Mapping[str, type | tuple[type, ...]] = {}, ok_errors: tuple[str, ...] = ("",)) -> Outcome:
    """Read Shopee's envelope {request_id, error, message, response}; `flat` for the endpoints
    without `response` (tokens, get_shop_info). required: fields the payload must carry."""
    if not isinstance(data, dict) or not isinstance(data.get("error", ""), str):
        if status == 429:
            return Outcome(Action.RATE_LIMITED, code="http_429")
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"HTTP {status} envelope is not a Shopee envelope"))
    if "error" not in data:
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"HTTP {status} envelope lacks error"))
    error, message = data["error"], data.get("message")
    message = message.lower() if isinstance(message, str) else ""
    if error in ok_errors and status < 400:
        payload = data if flat else data.get("response")
        if not isinstance(payload, dict):
            reason = "missing_field" if payload is None else "wrong_type"
            return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, "envelope lacks an object at response"))
        for field, kind in required.items():
            value = payload.get(field)
            if value is None:
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"envelope lacks {field}"))
            if isinstance(value, bool) and kind is int or not isinstance(value, kind):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"envelope field {field} has a wrong type"))
        return Outcome(Action.OK, payload)
    code = error or f"http_{status}"
    if error in TOKEN_EXPIRED_CODES or (error == "error_auth" and "access_token" in message):
        return Outcome(Action.REFRESH_TOKEN, code=code)
    if status == 429 or error in RATE_LIMIT_CODES or "too many request" in message or "too frequent" in message:
        return Outcome(Action.RATE_LIMITED, code=code)
    if error in RETRY_CODES or status >= 500:
        return Outcome(Action.RETRY, code=code)
    return Outcome(Action.FAIL, code=code)


def reader(**kwargs) -> Callable[[int, Mapping[str, str], Any], Outcome]:
    return lambda status, headers, data: classify(status, headers, data, **kwargs)
