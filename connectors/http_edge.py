"""What aiohttp refuses before a request reaches the app, counted: the webhook receiver's blind spot.

Two refusals happen inside aiohttp's connection protocol, where no handler of ours runs:
- a request its parser rejects (a malformed request line or header, a line too long): aiohttp
  answers 400 itself. Its default answer and log line quote the offending bytes, which may be
  a signature, and the log line names the client's address; here both say only the status
  (and the log the exception's type).
- a request head that never ends (slowloris): aiohttp's keep-alive timer, which runs from the
  connection's start and from each response, cuts the connection (aiohttp >= 3.12); here it is
  also counted when bytes of a head had arrived and the client had not closed it itself. A
  connection that sends nothing at all is cut the same way but not counted: it is no request.

`EdgeRunner(app, refused=callback)` serves an app so; callback(reason) is called on the event
loop with "malformed_request" or "read_timeout".

Pinned on aiohttp 3.12-3.14 (tests/unit/test_webhook_edge.py fails when these change):
`web.Server` keeps its handler arguments in `_kwargs` and its loop in `_loop`, and its
`__call__` is the protocol factory; `AppRunner._make_server` builds that Server;
`RequestHandler.handle_error(request, status, exc, message)` answers requests that failed
outside the routes (400 only for a parser refusal; 500/504 for a crashed or timed-out handler);
`RequestHandler.finish_response` ends every response; `request_factory` is called once per
request head the parser completed."""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Callable

from aiohttp import web

log = logging.getLogger("powersell.webhook.edge")
Refused = Callable[[str], None]
_CLOCK_SLACK = 1e-3  # seconds: the keep-alive timer and our clock read the same loop clock at different moments


class EdgeRequestHandler(web.RequestHandler):
    """aiohttp's HTTP/1.1 connection protocol, plus the two counts (module docstring)."""

    def __init__(self, manager: web.Server, *, refused: Refused, **kwargs):
        super().__init__(manager, **kwargs)
        self._refused = refused
        self._head_since: float | None = None  # loop time since which a request head is awaited; None: one is in hand
        self._head_bytes = 0                   # bytes received meanwhile
        self._peer_closed = False

    def _await_head(self) -> None:
        self._head_since, self._head_bytes = asyncio.get_running_loop().time(), 0

    def head_complete(self) -> None:
        self._head_since, self._head_bytes = None, 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._await_head()  # before aiohttp starts its timer, so the timer never fires before our deadline
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._head_since is not None:
            self._head_bytes += len(data)
        super().data_received(data)

    async def finish_response(self, request, resp, start_time):
        done = await super().finish_response(request, resp, start_time)
        if request.content.is_eof():  # a body left unread is drained next (lingering): its bytes are no head
            self._await_head()
        return done

    def eof_received(self):
        self._peer_closed = True
        return super().eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        if (exc is None and not self._peer_closed and self._head_since is not None and self._head_bytes
                and self.keepalive_timeout > 0
                and asyncio.get_running_loop().time() - self._head_since >= self.keepalive_timeout - _CLOCK_SLACK):
            self._refused("read_timeout")  # we cut it: a head had been arriving for the whole timeout
        super().connection_lost(exc)

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status == HTTPStatus.BAD_REQUEST:  # the parser refused the request: message quotes the client's bytes
            self._refused("malformed_request")
            log.info("request refused by the HTTP parser (400): %s", type(exc).__name__ if exc else "unknown")
        else:  # our handler crashed or timed out: its exceptions name fields, never values
            log.error("request failed outside the handler's answers (%d)", status, exc_info=exc)
        if request.writer.output_size > 0:  # as aiohttp: a response half sent cannot be followed by another
            raise ConnectionError("a response was sent already, cannot send the error response")
        resp = web.Response(status=status, text=f"{status} {HTTPStatus(status).phrase}\n")
        resp.force_close()
        return resp


class _EdgeServer(web.Server):
    """The app's low-level server, making EdgeRequestHandler connections."""

    def __init__(self, app_server: web.Server, refused: Refused):
        app_factory = app_server.request_factory

        def request_factory(message, payload, protocol, writer, task):
            protocol.head_complete()
            return app_factory(message, payload, protocol, writer, task)

        super().__init__(app_server.request_handler, request_factory=request_factory,
                         handler_cancellation=app_server.handler_cancellation, **app_server._kwargs)
        self._refused = refused

    def __call__(self) -> EdgeRequestHandler:
        return EdgeRequestHandler(self, refused=self._refused, loop=self._loop, **self._kwargs)


class EdgeRunner(web.AppRunner):
    """An AppRunner whose connections count what aiohttp refuses before routing."""

    def __init__(self, app: web.Application, *, refused: Refused, **kwargs):
        super().__init__(app, **kwargs)
        self._refused = refused

    async def _make_server(self) -> web.Server:
        return _EdgeServer(await super()._make_server(), self._refused)
