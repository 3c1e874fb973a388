"""TikTok Shop request signing, checked against published worked examples.

Sources:
- TikTok Shop Partner Center, "Sign your API request"
  (https://partner.tiktokshop.com/docv2/page/sign-your-api-request): the step-by-step example
  for Get Authorized Shops prints every intermediate string and the resulting sign; the
  Update Shop Webhook example prints the body-bearing string to sign (no digest).
- DotNetCore.SKIT.FlurlHttpClient.ByteDance (github.com/fudiwei/DotNetCore.SKIT.FlurlHttpClient.ByteDance),
  test/SKIT.FlurlHttpClient.ByteDance.TikTokGlobalShop.UnitTests/TestCase_RequestSigningTests.cs:
  a third-party SDK's expected signs for the documentation's own credentials (a GET and a
  body-bearing request).

Push signatures (hex(HMAC-SHA256(app_secret, app_key + raw body))) have no published worked
example that we could find: those tests compare with an independent hmac computation written
from the algorithm text, never only with our own function.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from connectors.api_client import ApiClient, Backoff
from connectors.base import AppCredentials, ShopAuth, ShopSession, TimeWindow
from connectors.tiktok_shop.signing import push_signature, sign, sign_base, sign_request
from connectors.tiktok_shop.api import ACCESS_TOKEN_HEADER, PATH_ORDER_SEARCH, TikTokShopApi

DOC_SECRET = "e59af819cc"


def test_when_the_documented_get_authorized_shops_example_is_signed_then_the_documented_sign_comes_out():
    # partner.tiktokshop.com, "Sign your API request", steps 1-6
    query = {"app_key": "29a39d", "timestamp": "1623812664",
             "sign": "ignored", "access_token": "ignored-too"}   # step 2: sign and access_token are left out
    assert sign_base("/authorization/202309/shops", query, method="GET") == \
        b"/authorization/202309/shopsapp_key29a39dtimestamp1623812664"
    assert sign(DOC_SECRET, "/authorization/202309/shops", query, method="GET") == \
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_when_the_documented_url_is_read_back_then_its_sign_is_the_documented_one():
    # the curl line of the same example, with the token in the x-tts-access-token header
    request = httpx.Request("GET", "https://open-api.tiktokglobalshop.com/authorization/202309/shops?app_key=29a39d"
                            "&sign=b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8&timestamp=1623812664",
                            headers={ACCESS_TOKEN_HEADER: "TTP_pwSm2A", "content-type": "application/json"})
    assert sign_request(request, DOC_SECRET) == request.url.params["sign"]


def test_when_a_body_is_sent_then_the_documented_string_to_sign_is_built():
    # "Sign your API request", step 4 note: Update Shop Webhook (shop_cipher in the query, JSON body)
    body = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    query = {"timestamp": "1696909648", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK", "app_key": "68xu9ks5p4i8"}
    assert sign_base("/event/202309/webhooks", query, body, method="PUT") == (
        b"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
        b"timestamp1696909648" + body)


@pytest.mark.parametrize("method, body, expected", [
    # SKIT TestCase_RequestSigningTests: "Sign GET request" (EventGetWebhooksRequest)
    ("GET", b"", "ed58e1b5e59865c22a7b828c1cab65007441f43cc91a6cb2f2cdc638e0995a37"),
    # SKIT TestCase_RequestSigningTests: "Sign non-GET request" (EventUpdateWebhookRequest); the body is
    # that SDK's serialisation of its request model, properties in declaration order.
    ("PUT", b'{"event_type":"PACKAGE_UPDATE","address":"https://partner.tiktokshop.com"}',
     "701dd6deb2389fe4c469b89bd37fc56f96a6da6afeb4d01c9077a65169752fa7"),
])
def test_when_the_sdk_vectors_are_signed_then_the_sdk_signs_come_out(method, body, expected):
    query = {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK", "timestamp": "1696909648"}
    assert sign(DOC_SECRET, "/event/202309/webhooks", query, body, method=method) == expected


def _independent(secret: str, path: str, query: dict, body: bytes = b"") -> str:
    """The documented algorithm, written out again without the module's code."""
    keys = sorted(k for k in query if k not in ("sign", "access_token"))
    text = path + "".join(k + str(query[k]) for k in keys) + body.decode("utf-8")
    return hmac.new(secret.encode(), (secret + text + secret).encode(), hashlib.sha256).hexdigest()


def test_when_the_body_is_multipart_or_the_request_a_get_then_the_body_is_not_signed():
    query = {"app_key": "k", "timestamp": "1"}
    without = _independent("s", "/p", query)
    assert sign("s", "/p", query, b"--x--", method="POST", content_type="multipart/form-data; boundary=x") == without
    assert sign("s", "/p", query, b"ignored", method="GET") == without
    assert sign("s", "/p", query, b"{}", method="POST") == _independent("s", "/p", query, b"{}")


def test_when_a_value_is_not_ascii_then_it_is_signed_as_utf8():
    query = {"app_key": "k", "timestamp": "1", "keyword": "áo thun ไทย"}
    assert sign("s", "/p", query, method="GET") == _independent("s", "/p", query)


def test_when_the_expected_push_signature_is_computed_independently_then_it_matches():
    body = json.dumps({"type": 1, "tts_notification_id": "7327112393057371910", "shop_id": "7494049642642441621",
                       "timestamp": 1644412885, "data": {"order_id": "576461413038785752"}}).encode()
    expected = hmac.new(b"app-secret", b"app-key" + body, hashlib.sha256).hexdigest()
    assert push_signature("app-key", "app-secret", body) == expected


# ------------------------------------------------------------------ what the connector sends
class _Recorder:
    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"code": 0, "message": "Success", "request_id": "r",
                                         "data": {"orders": [], "next_page_token": "", "total_count": 0}})


def test_when_the_connector_sends_a_request_then_it_carries_a_fresh_valid_sign_and_the_token_in_the_header():
    from datetime import datetime, timezone

    recorder, now = _Recorder(), [1_700_000_000.0]
    client = ApiClient("tiktok_shop", httpx.Client(transport=httpx.MockTransport(recorder)), backoff=Backoff(0, 1, 0))
    api = TikTokShopApi("https://open-api.example", AppCredentials("app-key", "app-secret"), client,
                        seal_card=lambda n: b"sealed", clock=lambda: now[0])
    auth = ShopAuth("tiktok_shop", "7494", "access-token-1", "refresh-1", 2e9, 2e9, {"shop_cipher": "ROW_cipher"})
    window = TimeWindow(datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 2, tzinfo=timezone.utc))
    list(api.fetch_orders(ShopSession(api, auth), window, "FULL_SYNC"))
    now[0] += 60
    list(api.fetch_orders(ShopSession(api, auth), window, "FULL_SYNC"))

    first, second = recorder.requests
    for request in (first, second):
        query = dict(parse_qsl(urlsplit(str(request.url)).query))
        assert urlsplit(str(request.url)).path == PATH_ORDER_SEARCH
        assert {"app_key", "timestamp", "sign", "shop_cipher"} <= set(query)
        assert "access_token" not in query and "access-token-1" not in str(request.url)
        assert request.headers[ACCESS_TOKEN_HEADER] == "access-token-1"
        assert query["sign"] == _independent("app-secret", PATH_ORDER_SEARCH, query, request.content)
        assert json.loads(request.content) == {"update_time_ge": 1704067200, "update_time_lt": 1704153600}
    assert dict(first.url.params)["timestamp"] == "1700000000"
    assert dict(second.url.params)["timestamp"] == "1700000060"
