"""Reading Lazada's answers: the envelope {code, type, message, request_id, data} as an Outcome."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..base import Action, BadPayload, MappingError, Outcome
from ..normalise import get

# Envelope codes (Lazada's own, as the docs name them).
OK_CODE = "0"
TOKEN_EXPIRED_CODES = frozenset({"IllegalAccessToken"})       # expired or invalid: refresh once, retry
RATE_LIMIT_CODES = frozenset({"901", "ApiCallLimit"})         # "The request is too frequent"
RETRY_CODES = frozenset({"InvalidTimestamp", "ServiceTimeout", "ServiceUnavailable", "InternalError"})
REFRESH_REFUSED_CODES = frozenset({"IllegalRefreshToken"})     # on a refresh: the grant is gone


_SAFE_CODE = re.compile(r"[^A-Za-z0-9_.\-]")


def _safe_code(code: Any) -> str:
    return _SAFE_CODE.sub("_", str(code))[:64] or "empty"


DATA_OBJECT: Mapping[str, type] = {"data": dict}
TOKEN_REPLY: Mapping[str, type] = {"access_token": str, "refresh_token": str, "expires_in": int,
                                   "refresh_expires_in": int, "country_user_info": list}    # flat: no "data"


def classify(status: int, headers: Mapping[str, str], data: Any, required: Mapping[str, type] = DATA_OBJECT
             ) -> Outcome:
    """Read Lazada's envelope {code, type, message, request_id, data}. `required` names the
    paths (and types) the platform promises on success; their absence is a bad payload."""
    if status == 429:
        return Outcome(Action.RATE_LIMITED, code="http_429")
    if status >= 500:
        return Outcome(Action.RETRY, code=f"http_{status}")
    if not isinstance(data, dict):
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field" if data is None else "wrong_type",
                                                      f"HTTP {status} body is not a Lazada envelope",
                                                      json_bytes(data)), code="envelope")
    if "code" not in data:
        return Outcome(Action.BAD_PAYLOAD, BadPayload("missing_field", "envelope lacks code", json_bytes(data)),
                       code="envelope")
    code = _safe_code(data["code"])
    if code == OK_CODE:
        for path, kind in required.items():
            try:
                get(data, path, kind)
            except MappingError as exc:
                return Outcome(Action.BAD_PAYLOAD, BadPayload(exc.reason, f"envelope: {exc}", json_bytes(data)),
                               code=exc.reason)
        return Outcome(Action.OK, data)
    if code in TOKEN_EXPIRED_CODES:
        return Outcome(Action.REFRESH_TOKEN, code=code)
    if code in RATE_LIMIT_CODES:
        return Outcome(Action.RATE_LIMITED, code=code)
    if code in RETRY_CODES or data.get("type") == "ISP":
        return Outcome(Action.RETRY, code=code)
    return Outcome(Action.FAIL, code=code)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
