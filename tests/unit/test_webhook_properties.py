"""Property: a marketplace's push verification and parsing, fed any body and any header
value, answer only with a bool, a PushNotice or the connectors' own errors (BadPayload,
MappingError), and quickly: the receiver turns those into 4xx, so nothing else may escape
(it would be a 500). Also the receiver's own header check."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from multidict import CIMultiDict

from connectors.lazada import api as lazada, push as lazada_push, signing as lazada_signing
from connectors.shopee import api as shopee, push as shopee_push, signing as shopee_signing
from connectors.tiktok_shop import api as tiktok_shop, push as tiktok_shop_push, signing as tiktok_shop_signing
from connectors.base import AppCredentials, BadPayload, MappingError, PushNotice
from connectors.webhook import headers_readable

SETTINGS = settings(max_examples=200, deadline=2000, database=None)
APP = AppCredentials("123456", "simulated-secret")
URL = "http://127.0.0.1:8710/webhooks/x"
APIS = {"shopee": shopee.ShopeeApi, "lazada": lazada.LazadaApi, "tiktok_shop": tiktok_shop.TikTokShopApi}
PARSERS = {"shopee": shopee_push.parse_push, "lazada": lazada_push.parse_push, "tiktok_shop": tiktok_shop_push.parse_push}
SAMPLES = {  # one well-formed push each, to mutate
    "shopee": {"shop_id": 220145871, "code": 3, "timestamp": 1717200000,
               "data": {"ordersn": "250601ABCDEFG", "status": "READY_TO_SHIP", "update_time": 1717200000}},
    "lazada": {"seller_id": "1000123456", "message_type": 0, "timestamp": 1717200000000, "site": "lazada_vn",
               "data": {"trade_order_id": "412345678901234", "order_status": "pending", "seller_id": "1000123456"}},
    "tiktok_shop": {"type": 1, "tts_notification_id": "7327112393057371910", "shop_id": "7494049642642441621",
                    "timestamp": 1717200000, "data": {"order_id": "576461413038785752", "order_status": "UNPAID"}},
}
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=16)
           | st.sampled_from([10**20, -10**20, 2**63, -62135596801, 253402300800, 253402300800000, "", "null"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
HEADER_TEXT = st.text(st.characters(codec="utf-8"), max_size=80) | st.binary(max_size=80).map(
    lambda b: b.decode("utf-8", "surrogateescape"))  # as aiohttp hands undecodable header bytes over


def api(name):
    no_requests = SimpleNamespace(on_bad_payload=lambda bad: None)  # verifying and parsing send none
    return APIS[name](f"http://127.0.0.1:1/{name}", APP, client=no_requests, seal_card=lambda number: b"sealed")


@st.composite
def push_bodies(draw, name):
    """Raw bytes, any JSON value, or the sample push with fields replaced or removed."""
    kind = draw(st.sampled_from(["bytes", "json", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    message = json.loads(json.dumps(SAMPLES[name]))
    for _ in range(draw(st.integers(1, 3))):
        node = message if draw(st.booleans()) or not isinstance(message.get("data"), dict) else message["data"]
        if not node:
            continue
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(JSON_VALUES)
    return json.dumps(message).encode()


def parses_or_refuses(name, body):
    try:
        notice = PARSERS[name](body)
    except (BadPayload, MappingError) as exc:
        assert exc.reason in {"invalid_json", "invalid_utf8", "too_deep", "missing_field", "wrong_type"}
        return
    assert isinstance(notice, PushNotice) and notice.shop_id and notice.notification_id


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_when_any_body_is_pushed_then_a_notice_or_the_connectors_own_error_comes_out(name):
    @SETTINGS
    @given(push_bodies(name))
    def check(body):
        parses_or_refuses(name, body)
    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_when_the_body_nests_deeply_then_it_is_refused_as_too_deep(name):
    for depth in (40, 5_000, 200_000):
        body = b'{"data":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
        with pytest.raises(BadPayload) as refused:
            PARSERS[name](body)
        assert refused.value.reason == "too_deep"


@pytest.mark.parametrize("name", sorted(APIS))
def test_when_any_signature_header_and_body_come_then_verification_answers_a_bool(name):
    receiver_api = api(name)

    @SETTINGS
    @given(HEADER_TEXT, st.binary(max_size=200), st.sampled_from(["Authorization", "authorization", "X-Other"]))
    def check(value, body, header):
        assert receiver_api.verify_push(URL, CIMultiDict({header: value}), body) in (True, False)
    check()


@pytest.mark.parametrize("name", sorted(APIS))
def test_a_correct_signature_still_verifies(name):
    body = json.dumps(SAMPLES[name]).encode()
    signature = (shopee_signing.push_signature(APP.app_secret, URL, body) if name == "shopee"
                 else {"lazada": lazada_signing, "tiktok_shop": tiktok_shop_signing}[name].push_signature(
                     APP.app_key, APP.app_secret, body))
    assert api(name).verify_push(URL, CIMultiDict({"Authorization": signature}), body)
    assert not api(name).verify_push(URL, CIMultiDict({"Authorization": signature + "é"}), body)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["Authorization", "User-Agent", "X-Note"]), HEADER_TEXT), max_size=4))
def test_the_receivers_header_check_answers_a_bool_and_passes_only_encodable_headers_and_one_ascii_signature(pairs):
    headers = CIMultiDict(pairs)
    readable = headers_readable(headers)
    signatures = headers.getall("Authorization", [])
    if readable:
        for value in headers.values():
            value.encode("utf-8")
        assert len(signatures) <= 1 and all(v.isascii() for v in signatures)
