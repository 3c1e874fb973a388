"""The webhook receiver on real Kafka: forged pushes refused, duplicates dropped, pushes
missed while it was down recovered on start (Shopee keeps them three days)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from pipeline_core.topics import shop_key
from tests.integration.connector_rig import end_offsets, post, read_since
from tests.support.waiting import wait_for

pytestmark = pytest.mark.kafka


def sample(metrics, name, **labels):
    value = metrics.registry.registry.get_sample_value(name, labels)
    return value or 0.0


def consent_records(kafka, since, subject):
    return [rec for _, key, rec in read_since(kafka, since, ("consent.events",)) if rec["subject_id"] == subject]


def test_when_a_push_is_forged_then_it_is_refused_and_counted(rig_factory):
    rig = rig_factory("lazada", webhook=True)
    body = json.dumps({"seller_id": "1", "message_type": 0, "data": {}, "timestamp": int(time.time())}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{rig.webhook_port}/webhooks/lazada", data=body,
                                     headers={"Authorization": "0" * 64}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert sample(rig.metrics, "powersell_webhook_pushes_rejected_total", marketplace="lazada",
                  reason="bad_signature") == 1
    assert rig.receiver.work.empty() and rig.receiver.handled == 0


def test_when_pushes_are_duplicated_then_each_is_used_once(rig_factory, kafka):
    rig = rig_factory("tiktok_shop", webhook=True, push_duplicate_rate=1.0, push_reorder=False)
    since = end_offsets(kafka, ("consent.events",))
    shop = sorted(rig.truth()["shops"])[0]
    post(f"{rig.server.url}/_sim/authorize", {"shop_ids": [shop]})  # the platform pushes "authorised", twice
    metrics = rig.metrics
    wait_for(lambda: sample(metrics, "powersell_webhook_pushes_duplicated_total", marketplace="tiktok_shop") >= 1, 30)
    wait_for(lambda: rig.receiver.work.empty() and rig.receiver.handled >= 1, 30)
    grants = [r for r in consent_records(kafka, since, shop_key("TIKTOK_SHOP", shop)) if r["source"] == "MARKETPLACE_PUSH"]
    assert len(grants) == 1 and grants[0]["status"] == "GRANTED"
    assert sample(metrics, "powersell_webhook_pushes_received_total", marketplace="tiktok_shop") >= 2


def test_when_the_receiver_was_down_then_missed_shopee_pushes_are_recovered_on_start(rig_factory, kafka):
    rig = rig_factory("shopee", webhook=True, start_receiver=False, push_retry_delays=(0.05, 0.05),
                      push_duplicate_rate=0.0)
    rig.authorise()
    shop = sorted(rig.truth()["shops"])[0]
    since = end_offsets(kafka, ("consent.events",))
    post(f"{rig.server.url}/_sim/shops/{shop}/cancel")  # pushed to a receiver that is not there
    wait_for(lambda: any(p.get("code") == 2 for p in _unacknowledged(rig)), 30)
    rig.start_receiver()  # recovers lost pushes first thing
    wait_for(lambda: any(r["status"] == "WITHDRAWN"
                         for r in consent_records(kafka, since, shop_key("SHOPEE", shop))), 30)
    syncer = rig.connector.syncer
    syncer.consent.refresh()
    from datetime import datetime, timezone
    assert not syncer.consent.is_active("shopee", shop, datetime.now(timezone.utc))


def _unacknowledged(rig):
    return [m.body for m in rig.server.call(rig.sim.pushes.unacknowledged)] if hasattr(rig.server, "call") else []


# ---- edges: undecodable headers and bodies, oversize, slow clients (issue 15, finding 5) ----------

import selectors
import socket

from connectors.lazada import signing as lazada
from connectors.shopee import signing as shopee
from connectors.tiktok_shop import signing as tiktok_shop
from connectors.webhook import WebhookReceiver

SIGNERS = {"shopee": lambda app, url, body: shopee.push_signature(app.app_secret, url, body),
           "lazada": lambda app, url, body: lazada.push_signature(app.app_key, app.app_secret, body),
           "tiktok_shop": lambda app, url, body: tiktok_shop.push_signature(app.app_key, app.app_secret, body)}


def signed(rig, body: bytes) -> bytes:
    url = f"http://127.0.0.1:{rig.webhook_port}/webhooks/{rig.marketplace}"
    return SIGNERS[rig.marketplace](rig.connector.syncer.api.app, url, body).encode("ascii")


def raw_post(port: int, marketplace: str, body: bytes, headers: dict[str, bytes], *,
             content_length: int | None = None) -> int:
    """The status of one POST sent byte for byte (http.client would refuse these headers)."""
    head = (f"POST /webhooks/{marketplace} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Length: {len(body) if content_length is None else content_length}\r\n").encode()
    head += b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + b"\r\n" + body)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def rejected(rig, reason):
    return sample(rig.metrics, "powersell_webhook_pushes_rejected_total", marketplace=rig.marketplace, reason=reason)


def test_when_the_signature_header_cannot_be_decoded_then_it_is_a_400_and_counted(rig_factory):
    rig = rig_factory("shopee", webhook=True)
    body = json.dumps({"shop_id": 1, "code": 3, "timestamp": int(time.time()), "data": {"ordersn": "A"}}).encode()
    tiktok = rig_factory("tiktok_shop", webhook=True)
    assert raw_post(rig.webhook_port, "shopee", body, {"Authorization": "é".encode()}) == 400  # was TypeError, 500
    assert raw_post(tiktok.webhook_port, "tiktok_shop", body, {"Authorization": b"ab\xffcd"}) == 400  # was 500
    assert raw_post(rig.webhook_port, "shopee", body, {"Authorization": signed(rig, body),
                                                       "X-Note": b"\xc3\x28"}) == 400
    assert rejected(rig, "bad_header") == 2 and rejected(tiktok, "bad_header") == 1
    assert rig.receiver.handled == 0 and tiktok.receiver.handled == 0


BAD_BODIES = [  # (body, reason): each validly signed
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too_deep"),      # was RecursionError, 500
    (b'{"code":1,"data":' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}", "too_deep"),
    (b'{"seller_id":"1","note":"\xff\xfe"}', "invalid_utf8"),
    (b'{"seller_id": "1", ', "invalid_json"),
    (b"[1, 2, 3]", "wrong_type"),
]


@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok_shop"])
def test_when_a_signed_body_cannot_be_decoded_then_it_is_a_400_counted_and_dead_lettered(rig_factory, marketplace):
    rig = rig_factory(marketplace, webhook=True)
    for body, reason in BAD_BODIES:
        before = rejected(rig, reason)
        status = raw_post(rig.webhook_port, marketplace, body, {"Authorization": signed(rig, body)})
        assert (status, rejected(rig, reason) - before) == (400, 1), reason
    assert sample(rig.metrics, "powersell_records_dead_lettered_total", stage="connector", reason="too_deep") == 2
    assert rig.receiver.work.empty() and rig.receiver.handled == 0


def test_when_a_body_is_declared_too_large_then_it_is_refused_before_it_is_sent(rig_factory):
    rig = rig_factory("lazada", webhook=True)
    # Nothing of the 50 MB body is sent: an answer proves the receiver did not wait to read it.
    assert raw_post(rig.webhook_port, "lazada", b"", {"Authorization": b"0" * 64}, content_length=50 << 20) == 413
    chunked = (b"POST /webhooks/lazada HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + (b"100000\r\n" + b" " * 0x100000 + b"\r\n") * 2 + b"0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", rig.webhook_port), timeout=30) as sock:
        sock.sendall(chunked)
        assert sock.recv(64).split(b" ", 2)[1] == b"413"
    assert rejected(rig, "oversize") == 2


def test_when_twenty_clients_send_half_a_request_then_the_receiver_cuts_them_off(rig_factory):
    rig = rig_factory("tiktok_shop", webhook=True, start_receiver=False)
    read_timeout = 1.0
    rig.receiver = WebhookReceiver({"tiktok_shop": rig.connector.syncer}, f"http://127.0.0.1:{rig.webhook_port}",
                                   read_timeout=read_timeout)
    rig.webhook_server = rig.receiver.serve(port=rig.webhook_port)
    rig.receiver.start()
    halves = [b"POST /webhooks/tiktok_shop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",            # headers cut
              b"POST /webhooks/tiktok_shop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n"
              b"Authorization: " + b"0" * 64 + b"\r\n\r\n{\"type\": 1, "]                         # body cut
    clients = []
    for i in range(20):
        sock = socket.create_connection(("127.0.0.1", rig.webhook_port), timeout=30)
        sock.sendall(halves[i % 2])
        clients.append(sock)
    try:
        closed = wait_until_closed(clients, timeout=read_timeout * 10 + 5)
    finally:
        for sock in clients:
            sock.close()
    assert len(closed) == 20
    assert rejected(rig, "read_timeout") == 10  # the other ten never named a marketplace: counted as unknown
    assert sample(rig.metrics, "powersell_webhook_pushes_rejected_total", marketplace="unknown",
                  reason="read_timeout") == 10
    assert rig.receiver.handled == 0


def wait_until_closed(clients, timeout):
    """The sockets the server closed (EOF or reset) before the deadline: read until each ends."""
    selector, closed = selectors.DefaultSelector(), set()
    for sock in clients:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while len(closed) < len(clients) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            try:
                ended = key.fileobj.recv(65536) == b""
            except ConnectionError:
                ended = True
            if ended:
                selector.unregister(key.fileobj)
                closed.add(key.fileobj)
    selector.close()
    return closed
