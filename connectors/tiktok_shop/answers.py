"""Reading TikTok Shop's answers: the envelope {code, message, request_id, data} as an Outcome."""

from __future__ import annotations

from typing import Any, Mapping

from ..base import Action, BadPayload, Outcome

# Platform error codes (envelope `code`)
OK_CODE = 0
ERR_MISSING_SCOPE = 105005
ERR_INVALID_SIGN = 106001
ERR_BAD_CREDENTIALS = 36009004
ERR_BAD_GRANT = 36004004           # unverified: the code our simulator uses for a bad or spent code/refresh token
ERR_PRODUCT_RESULT_CAP = 12052180
ERR_PRODUCT_NOT_FOUND = 12052048   # unverified: the code our simulator uses for a product that is gone
TOKEN_EXPIRED_CODES = frozenset({105002})
RATE_LIMIT_CODES = frozenset({36009002})
REFRESH_REFUSED_CODES = frozenset({str(ERR_BAD_GRANT)})   # on a refresh (ApiFailed.code is a string)


def classify(status: int, headers: Mapping[str, str], data: Any, *, records: str | None = None) -> Outcome:
    """Read TikTok's envelope {code, message, request_id, data}. `records` names the list that an OK
    `data` must hold (it may be absent only when the answer says total_count 0)."""
    if not isinstance(data, dict) or "code" not in data:
        if status >= 500:
            return Outcome(Action.RETRY, code=f"http_{status}")
        reason = "wrong_type" if data is not None and not isinstance(data, dict) else "missing_field"
        return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, f"HTTP {status} answer has no envelope code"))
    code = data["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"HTTP {status} envelope code is not a number"))
    if code == OK_CODE and status < 300:
        payload = data.get("data")
        if not isinstance(payload, dict):
            reason = "missing_field" if payload is None else "wrong_type"
            return Outcome(Action.BAD_PAYLOAD, BadPayload(reason, "envelope data is not an object"))
        if records is not None:
            rows = payload.get(records)
            if rows is None and payload.get("total_count") != 0:
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", f"data lacks {records}"))
            if rows is not None and not isinstance(rows, list):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("wrong_type", f"data.{records} is not a list"))
        return Outcome(Action.OK, payload)
    if status == 429 or code in RATE_LIMIT_CODES:
        return Outcome(Action.RATE_LIMITED, code=str(code))
    if code in TOKEN_EXPIRED_CODES:
        return Outcome(Action.REFRESH_TOKEN, code=str(code))
    if status >= 500:
        return Outcome(Action.RETRY, code=str(code))
    return Outcome(Action.FAIL, code=str(code))


TOKEN_FIELDS = (("access_token", str), ("refresh_token", str), ("access_token_expire_in", int),
                ("refresh_token_expire_in", int))


def classify_token(status: int, headers: Mapping[str, str], data: Any) -> Outcome:
    """The token endpoints' answer: the envelope, then the grant's promised fields."""
    outcome = classify(status, headers, data)
    if outcome.action is Action.OK:
        for key, kind in TOKEN_FIELDS:
            value = outcome.payload.get(key)
            if value is None or isinstance(value, bool) or not isinstance(value, kind):
                return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field" if value is None else "wrong_type",
                                                              f"token answer field {key}"))
    return outcome
