"""One HTTP call to a marketplace, done right: signed afresh on every attempt, bounded
in size and time, retried with exponential backoff and full jitter, waiting out rate
limits (honouring Retry-After) instead of failing, refreshing an expired token once.

The marketplace module says how to build a request and how to read the answer
(`classify` returns an `Outcome`); this module decides what to do about it.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import httpx

from .errors import ApiFailed, BadPayload, TokenExpired
from .outcomes import Action, Outcome

MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Backoff:
    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random = random.Random()) -> float:
        """Full jitter: uniform in [0, min(cap, base * factor**attempt)]."""
        return rng.uniform(0.0, min(self.cap, self.base * self.factor ** attempt))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: rare from these platforms; fall back to backoff


Classify = Callable[[int, Mapping[str, str], Any], Outcome]


class ApiClient:
    """Sends requests for one marketplace and applies the retry policy."""

    def __init__(self, marketplace: str, http: httpx.Client, *, metrics=None, backoff: Backoff = Backoff(),
                 max_attempts: int = 6, max_rate_limit_waits: int = 100, max_body_bytes: int = MAX_BODY_BYTES,
                 sleep: Callable[[float], None] = time.sleep,
                 on_bad_payload: Callable[[BadPayload], None] = lambda bad: None):
        self.marketplace = marketplace
        self.http = http
        self.metrics = metrics
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_body_bytes = max_body_bytes
        self.sleep = sleep
        self.on_bad_payload = on_bad_payload

    def _count(self, outcome: str, seconds: float | None = None) -> None:
        if self.metrics is not None:
            self.metrics.request(self.marketplace, outcome, seconds)

    def _wait(self, seconds: float, rate_limited: bool) -> None:
        if rate_limited and self.metrics is not None:
            self.metrics.rate_limit_wait(self.marketplace, seconds)
        self.sleep(seconds)

    def _read(self, request: httpx.Request) -> tuple[int, Mapping[str, str], Any] | Outcome:
        """Send and parse; transport trouble and malformed bodies come back as an Outcome."""
        started = time.monotonic()
        try:
            response = self.http.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_body_bytes:
                        self._count("bad_payload", time.monotonic() - started)
                        return Outcome(Action.BAD_PAYLOAD, BadPayload(
                            "oversize", f"response over {self.max_body_bytes} bytes", bytes(body[:4096])))
            finally:
                response.close()
        except httpx.TimeoutException:
            self._count("timeout", time.monotonic() - started)
            return Outcome(Action.RETRY, code="timeout")
        except httpx.TransportError:
            self._count("error", time.monotonic() - started)
            return Outcome(Action.RETRY, code="transport")
        elapsed = time.monotonic() - started
        status, headers = response.status_code, response.headers
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            self._count("bad_payload", elapsed)
            return Outcome(Action.BAD_PAYLOAD, BadPayload("invalid_utf8", f"HTTP {status} body is not UTF-8", bytes(body)))
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            if status == 429:  # a gateway's rate-limit page
                self._count("rate_limited", elapsed)
                return Outcome(Action.RATE_LIMITED, code="http_429", retry_after=retry_after_seconds(headers))
            if status >= 500:  # an HTML error page from a gateway: a server fault, not a payload fault
                self._count("error", elapsed)
                return Outcome(Action.RETRY, code=f"http_{status}", retry_after=retry_after_seconds(headers))
            self._count("bad_payload", elapsed)
            return Outcome(Action.BAD_PAYLOAD, BadPayload("invalid_json", f"HTTP {status} body is not JSON ({len(body)} bytes)", bytes(body)))
        self._count("ok" if status < 400 else "error", elapsed)
        return status, headers, data

    def call(self, endpoint: str, build: Callable[[], httpx.Request], classify: Classify,
             refresh: Callable[[], None] | None = None) -> Any:
        """Build (and sign) the request anew on each attempt, send it, act on the outcome.

        endpoint is a short fixed name for messages (never with parameters)."""
        failures = rate_waits = 0
        refreshed = False
        while True:
            read = self._read(build())
            if isinstance(read, Outcome):
                outcome = read
            else:
                status, headers, data = read
                outcome = classify(status, headers, data)
                if outcome.retry_after is None and outcome.action in (Action.RETRY, Action.RATE_LIMITED):
                    outcome = Outcome(outcome.action, outcome.payload, outcome.code, retry_after_seconds(headers))
            if outcome.action is Action.OK:
                return outcome.payload
            if outcome.action is Action.FAIL:
                raise ApiFailed(endpoint, outcome.code or "unknown")
            if outcome.action is Action.REFRESH_TOKEN:
                if refresh is None or refreshed:
                    raise TokenExpired(f"{endpoint}: access token refused as expired ({outcome.code})")
                refresh()
                refreshed = True
                continue
            if outcome.action is Action.RATE_LIMITED:
                rate_waits += 1
                if rate_waits > self.max_rate_limit_waits:
                    raise ApiFailed(endpoint, "rate_limited_too_long")
                self._wait(max(outcome.retry_after or 0.0, self.backoff.delay(min(rate_waits, 6))), rate_limited=True)
                continue
            if outcome.action is Action.BAD_PAYLOAD:
                self.on_bad_payload(outcome.payload)
            failures += 1
            if failures >= self.max_attempts:
                raise ApiFailed(endpoint, f"gave_up_after_{failures}_attempts:{outcome.code or outcome.action.value}")
            self._wait(max(outcome.retry_after or 0.0, self.backoff.delay(failures)), rate_limited=False)
