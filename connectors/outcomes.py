"""Errors as data: how a marketplace's answers module reads one HTTP answer (`Outcome`), and what
the API client should do about it (`Action`). Below both base.py and api_client.py."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Action(enum.Enum):
    OK = "ok"
    RETRY = "retry"                    # 5xx, timeouts, busy: back off and try again
    RATE_LIMITED = "rate_limited"      # over the platform's limit: wait (Retry-After if given) and try again
    REFRESH_TOKEN = "refresh_token"    # access token expired: refresh once, then retry
    BAD_PAYLOAD = "bad_payload"        # the answer is malformed: dead-letter it, then retry the request
    FAIL = "fail"                      # the platform refused for good (bad parameters, no permission)


@dataclass(frozen=True)
class Outcome:
    """How a marketplace module reads one HTTP answer."""
    action: Action
    payload: Any = None                # the useful part of the answer when OK (a BadPayload when BAD_PAYLOAD)
    code: str = ""                     # the platform's error code (safe to log: no data)
    retry_after: float | None = None   # seconds, when the platform said
