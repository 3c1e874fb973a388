"""The shared retry policy, against an httpx MockTransport that plays a marketplace."""

from __future__ import annotations


import httpx
import pytest

from connectors.api_client import ApiClient, Backoff
from connectors.base import Action, ApiFailed, BadPayload, Outcome, TokenExpired
from connectors.metrics import ConnectorMetrics


def classify(status, headers, data):
    if status == 429 or (data or {}).get("error") == "rate":
        return Outcome(Action.RATE_LIMITED, code="rate")
    if (data or {}).get("error") == "expired":
        return Outcome(Action.REFRESH_TOKEN, code="expired")
    if (data or {}).get("error") == "param":
        return Outcome(Action.FAIL, code="param")
    if status >= 500:
        return Outcome(Action.RETRY, code=f"http_{status}")
    return Outcome(Action.OK, payload=data["response"])


def client_for(answers, **kw):
    """answers: list of httpx.Response (or exceptions) served in order."""
    served = []

    def handler(request):
        served.append(request)
        answer = answers[min(len(served) - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    sleeps = []
    metrics = ConnectorMetrics()
    bad = []
    client = ApiClient("shopee", httpx.Client(transport=httpx.MockTransport(handler)), metrics=metrics,
                       sleep=sleeps.append, backoff=Backoff(base=0.01, cap=0.05), on_bad_payload=bad.append, **kw)
    return client, served, sleeps, metrics, bad


def req():
    return httpx.Request("GET", "http://sim/api")


def ok(payload):
    return httpx.Response(200, json={"response": payload})


def test_when_the_platform_answers_then_the_payload_comes_back():
    client, served, sleeps, _, _ = client_for([ok({"a": 1})])
    assert client.call("get", req, classify) == {"a": 1}
    assert len(served) == 1 and sleeps == []


def test_when_rate_limited_then_it_waits_at_least_retry_after_and_completes():
    client, served, sleeps, metrics, _ = client_for(
        [httpx.Response(429, headers={"Retry-After": "2"}, json={}), httpx.Response(429, json={}), ok(1)])
    assert client.call("get", req, classify) == 1
    assert len(served) == 3 and sleeps[0] >= 2.0 and len(sleeps) == 2
    text = metrics.registry.exposition().decode()
    assert 'powersell_connector_rate_limit_waits_total{marketplace="shopee"} 2.0' in text


def test_when_5xx_and_timeouts_repeat_then_it_backs_off_then_gives_up_cleanly():
    client, served, sleeps, _, _ = client_for([httpx.Response(503, text="<html>busy</html>"),
                                               httpx.ReadTimeout("slow")], max_attempts=4)
    with pytest.raises(ApiFailed) as err:
        client.call("get_order_list", req, classify)
    assert len(served) == 4 and len(sleeps) == 3
    assert "get_order_list" in str(err.value)


def test_when_5xx_then_success_then_it_recovers():
    client, served, _, _, _ = client_for([httpx.Response(500, json={}), httpx.ConnectError("down"), ok("x")])
    assert client.call("get", req, classify) == "x" and len(served) == 3


def test_when_the_token_expired_then_it_refreshes_once_and_retries():
    refreshed = []
    client, served, _, _, _ = client_for([httpx.Response(200, json={"error": "expired"}), ok(5)])
    assert client.call("get", req, classify, refresh=lambda: refreshed.append(1)) == 5
    assert refreshed == [1]


def test_when_the_token_stays_expired_after_a_refresh_then_it_raises_token_expired():
    client, _, _, _, _ = client_for([httpx.Response(200, json={"error": "expired"})])
    with pytest.raises(TokenExpired):
        client.call("get", req, classify, refresh=lambda: None)


def test_when_parameters_are_refused_then_it_fails_at_once():
    client, served, _, _, _ = client_for([httpx.Response(200, json={"error": "param"})])
    with pytest.raises(ApiFailed):
        client.call("get", req, classify)
    assert len(served) == 1


@pytest.mark.parametrize("response, reason", [
    (httpx.Response(200, content=b"{not json"), "invalid_json"),
    (httpx.Response(200, content=b'{"response": "\xff\xfe"}'), "invalid_utf8"),
    (httpx.Response(200, content=b"x" * 5000), "oversize"),
])
def test_when_the_body_is_malformed_then_it_is_dead_lettered_and_the_request_retried(response, reason):
    client, served, _, _, bad = client_for([response, ok("fine")], max_body_bytes=4096)
    assert client.call("get", req, classify) == "fine"
    assert [b.reason for b in bad] == [reason]
    assert isinstance(bad[0], BadPayload) and bad[0].body


def test_each_attempt_builds_a_fresh_request():
    built = []

    def build():
        built.append(len(built))
        return httpx.Request("GET", f"http://sim/api?timestamp={len(built)}")

    client, served, _, _, _ = client_for([httpx.Response(500, json={}), ok(1)])
    client.call("get", build, classify)
    assert [str(r.url) for r in served] == ["http://sim/api?timestamp=1", "http://sim/api?timestamp=2"]


def test_backoff_grows_and_is_capped():
    b = Backoff(base=1, factor=2, cap=5)
    import random
    rng = random.Random(1)
    assert all(0 <= b.delay(a, rng) <= min(5, 2 ** a) for a in range(10) for _ in range(20))
