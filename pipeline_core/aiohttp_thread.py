"""Run an aiohttp application on its own event loop in a background thread: the webhook
receiver, and the simulators inside tests, benchmarks and the main run."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from aiohttp import web


class RunningServer:
    """An aiohttp app serving on its own event-loop thread; stop() (or leaving the `with`) ends it."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop, runner: web.AppRunner, thread: threading.Thread):
        self.url, self._loop, self._runner, self._thread = url, loop, runner, thread
        self._stopped = False

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        """Run fn(*args) on the server's loop (to touch its state safely) and return the result."""
        async def run() -> Any:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app: web.Application, host: str = "127.0.0.1", port: int = 0, name: str = "app",
                    make_runner: Callable[..., web.AppRunner] = web.AppRunner) -> RunningServer:
    """Serve an aiohttp app from a new thread with its own loop; port 0 picks a free port.
    `make_runner` builds the AppRunner (the webhook receiver's also counts what aiohttp refuses before routing)."""
    return RunningServer(*start_serving(app, host, port, name, make_runner))


def start_serving(app: web.Application, host: str, port: int, name: str,
                  make_runner: Callable[..., web.AppRunner] = web.AppRunner):
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    started: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            runner = make_runner(app, access_log=None, shutdown_timeout=0.5)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, host, port).start())
            started["runner"], started["port"] = runner, runner.addresses[0][1]
        except BaseException as error:  # handed to the caller's thread
            started["error"] = error
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:       # e.g. a handler still hanging in a "timeout" fault
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=serve, name=f"serve-{name}", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError(f"{name} did not start serving within 30 s")
    if "error" in started:
        raise started["error"]
    return f"http://{host}:{started['port']}", loop, started["runner"], thread
