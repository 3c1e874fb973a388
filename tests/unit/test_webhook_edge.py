"""The webhook receiver's edge before routing (issue 15, finding 5): a request aiohttp's parser
refuses is a 400, counted, with no client bytes in the answer or the logs; a request head that
never ends is cut within the read timeout and counted. A real receiver on a loopback port,
spoken to with raw sockets; no broker (nothing reaches a marketplace module)."""

from __future__ import annotations

import selectors
import socket
import time
from types import SimpleNamespace

import pytest

from connectors import MARKETPLACES
from connectors.base import AppCredentials
from connectors.metrics import ConnectorMetrics
from connectors.webhook import UNROUTED, WebhookReceiver
from tests.support.waiting import wait_for

READ_TIMEOUT = 0.5
SECRET = "sig-5EcReT-4f1d9c"


@pytest.fixture
def edge():
    api = SimpleNamespace(name="shopee", base_url="http://127.0.0.1:8701",
                          app=AppCredentials(*MARKETPLACES["shopee"].simulator_credentials),
                          verify_push=lambda url, headers, body: False)   # every routed push: a bad signature
    metrics = ConnectorMetrics()
    receiver = WebhookReceiver({"shopee": SimpleNamespace(api=api, metrics=metrics)}, "http://127.0.0.1:1",
                               read_timeout=READ_TIMEOUT)
    server = receiver.serve()
    try:
        yield SimpleNamespace(receiver=receiver, metrics=metrics, port=int(server.url.rsplit(":", 1)[1]))
    finally:
        server.stop()


def rejected(edge, reason, marketplace=UNROUTED):
    value = edge.metrics.registry.registry.get_sample_value("powersell_webhook_pushes_rejected_total",
                                                            {"marketplace": marketplace, "reason": reason})
    return value or 0.0


def exchange(port, raw: bytes) -> bytes:
    """Send raw bytes, return everything the server answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def wait_until_closed(sock, timeout, dribble: bytes = b""):
    """True once the server ended the connection (EOF or reset) before `timeout`; with `dribble`, one byte
    of it is sent each time 0.1 s pass without the server ending it (a client that never stops typing)."""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    deadline, sent = time.monotonic() + timeout, 0
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                try:
                    if sock.recv(65536) == b"":
                        return True
                except ConnectionError:
                    return True
            elif sent < len(dribble):
                try:
                    sock.sendall(dribble[sent:sent + 1])
                except ConnectionError:
                    return True
                sent += 1
        return False
    finally:
        selector.close()


MALFORMED = [
    b"GARBAGE\r\n\r\n",                                                                    # not HTTP at all
    b"POST /webhooks/shopee HTTX/1.1\r\nHost: x\r\n\r\n",                                  # broken request line
    b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\nAuthorization: " + SECRET.encode() + b"\x01\r\n\r\n",  # control char
    b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\nX-Note: " + b"n" * 9000 + b"\r\n\r\n",  # header line too long
    b"POST /webhooks/shopee HTTP/1.1\r\nHost x\r\n\r\n",                                   # header without a colon
]


@pytest.mark.parametrize("raw", MALFORMED, ids=["method", "request-line", "control-char", "too-long", "no-colon"])
def test_when_aiohttp_refuses_a_request_then_it_is_a_400_counted_under_unknown(edge, raw):
    assert status(exchange(edge.port, raw)) == 400
    assert rejected(edge, "malformed_request") == 1
    assert rejected(edge, "bad_header", "shopee") == 0 and edge.receiver.work.empty()


def test_when_a_header_holds_a_secret_and_a_bad_byte_then_neither_the_answer_nor_the_logs_repeat_it(edge, caplog):
    caplog.set_level("DEBUG")
    reply = exchange(edge.port, MALFORMED[2])
    assert status(reply) == 400 and SECRET.encode() not in reply and b"Authorization" not in reply
    wait_for(lambda: rejected(edge, "malformed_request") == 1, 10, what="the refusal counted")
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "request refused by the HTTP parser (400): BadHttpMessage" in logged   # the line is there...
    assert SECRET not in logged and "127.0.0.1" not in logged                     # ...without the client's data


def test_routed_requests_still_reach_the_receiver(edge):
    assert status(exchange(edge.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200
    body = b'{"shop_id": 1}'
    push = (b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: x\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert status(exchange(edge.port, push)) == 401
    assert rejected(edge, "bad_signature", "shopee") == 1
    assert rejected(edge, "malformed_request") == 0 and rejected(edge, "read_timeout") == 0


def test_when_request_heads_never_end_then_the_connections_are_cut_and_counted(edge):
    halves = [b"POST /webhooks/shopee HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz",   # stops mid-header
              b"POS"]                                                             # stops mid-method
    clients = [socket.create_connection(("127.0.0.1", edge.port), timeout=30) for _ in halves]
    dribbler = socket.create_connection(("127.0.0.1", edge.port), timeout=30)  # keeps sending, never finishes
    try:
        for sock, half in zip(clients, halves):
            sock.sendall(half)
        dribbler.sendall(b"POST /webhooks/shopee HTTP/1.1\r\n")
        assert wait_until_closed(dribbler, READ_TIMEOUT * 10 + 5, dribble=b"X-Slow: " + b"a" * 10_000)
        assert all(wait_until_closed(sock, READ_TIMEOUT * 10 + 5) for sock in clients)
    finally:
        for sock in clients + [dribbler]:
            sock.close()
    wait_for(lambda: rejected(edge, "read_timeout") == 3, 10, what="three header timeouts counted")
    assert rejected(edge, "read_timeout", "shopee") == 0 and rejected(edge, "malformed_request") == 0


def test_connections_that_are_no_unfinished_request_are_cut_without_being_counted(edge):
    # a client that gives up mid-head itself, and one that finished its request and then idles (keep-alive)
    quitter = socket.create_connection(("127.0.0.1", edge.port), timeout=30)
    quitter.sendall(b"POST /webhooks/shopee HTTP/1.1\r\nHost: x\r\n")
    quitter.close()
    idle = socket.create_connection(("127.0.0.1", edge.port), timeout=30)
    silent = socket.create_connection(("127.0.0.1", edge.port), timeout=30)   # sends nothing at all
    try:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wait_until_closed(idle, READ_TIMEOUT * 10 + 5)      # the answer, then the keep-alive timer's cut
        assert wait_until_closed(silent, READ_TIMEOUT * 10 + 5)    # cut too: started after the quitter had left
    finally:
        idle.close()
        silent.close()
    assert rejected(edge, "read_timeout") == 0 and rejected(edge, "malformed_request") == 0
