"""Run an aiohttp application on its own event loop in a background thread: for the
webhook receiver and the simulators inside tests and the main run."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from aiohttp import web


@dataclass
class RunningServer:
    url: str
    port: int
    _loop: asyncio.AbstractEventLoop
    _runner: web.AppRunner
    _thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(app: web.Application, host: str = "127.0.0.1", port: int = 0,
                    name: str = "aiohttp-server") -> RunningServer:
    """Start app; port 0 picks a free port. Returns once the server accepts connections."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)  # request lines stay out of the logs
    ready: dict = {}
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, host, port)
            loop.run_until_complete(site.start())
            ready["port"] = site._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported to the caller below
            ready["error"] = exc
            started.set()
            return
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    started.wait(30)
    if "error" in ready:
        raise ready["error"]
    bound = ready["port"]
    return RunningServer(f"http://{host}:{bound}", bound, loop, runner, thread)
