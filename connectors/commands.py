"""`powersell-pipeline simulate` and `connect`: the connectors' side of the command line."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from typing import Mapping
from urllib.parse import urlsplit

from pipeline_core.kafka_io import AvroPublisher, ensure_topics
from pipeline_core.metrics import serve_metrics
from pipeline_core.settings import Settings

from pipeline_core.marketplaces import MARKETPLACES as ENTRIES

from .assembly import build_connector
from .config import app_credentials, default_auth_url, marketplace_config, sync_config
from .metrics import ConnectorMetrics
from .onboarding import authorise
from .registry import MARKETPLACES
from .runner import ConnectorService, SyncReport
from .webhook import WebhookReceiver

WEBHOOK_PORT = 8710


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _names(choice: str) -> list[str]:
    return list(MARKETPLACES) if choice == "all" else [choice]


def simulator_for(name: str, *, seed: int = 7, shops: int = 4, tick_interval: float | None = None,
                  webhook_url: str | None = None, **config):
    from .simulators.base import SimConfig

    cls = MARKETPLACES[name].simulator_class()
    app = app_credentials(name)   # the simulator's own side: no base URL to check
    settings = dict(seed=seed, shops=shops, tick_interval=tick_interval, webhook_url=webhook_url, **config)
    # a platform's own token lifetimes and limits, where its simulator declares them
    sim_config = cls.default_config(**settings) if hasattr(cls, "default_config") else SimConfig(**settings)
    return cls(sim_config, app.app_key, app.app_secret)


def serve_simulator(sim, host: str = "127.0.0.1", port: int = 0, fixed_ports: bool = False,
                    auth_port: int | None = None):
    """Serve a simulator and its other hosts (TikTok's authorisation host) from threads; the
    authorisation host on auth_port, or with fixed_ports on its spec's auth_simulator_port, else any free port."""
    from .simulators.base import start_in_thread

    spec = MARKETPLACES.get(sim.name)
    has_auth = spec is not None and spec.has_auth_host
    if auth_port is None and fixed_ports and has_auth:
        auth_port = spec.auth_simulator_port
    ports = {"auth": auth_port} if auth_port is not None and has_auth else None
    return start_in_thread(sim, host=host, port=port, host_ports=ports)


def simulator_ports(names, env: Mapping[str, str], port_base: int | None = None) -> dict[str, tuple[int, int | None]]:
    """(API port, authorisation-host port or None) per simulator. With port_base: consecutive
    ports from it in MARKETPLACES order, an authorisation host (TikTok's) right after its API (API + 1,
    where connectors look for it). Else the port of each connector's own setting
    (POWERSELL_<NAME>_BASE_URL / _AUTH_URL), so `simulate` and `connect` agree; else each spec's
    well-known ports (8701-8704)."""
    ports: dict[str, tuple[int, int | None]] = {}
    next_port = port_base
    for name, spec in MARKETPLACES.items():
        has_auth = spec.has_auth_host
        if next_port is not None:
            api, auth = next_port, (next_port + 1 if has_auth else None)
            next_port += 2 if has_auth else 1
        else:
            base_url = env.get(spec.base_url_env) or f"http://127.0.0.1:{spec.simulator_port}"
            api = urlsplit(base_url).port or spec.simulator_port
            auth_url = env.get(spec.auth_url_env) or (
                default_auth_url(name, base_url, spec.base_url_env in env) if has_auth else None)
            auth = (urlsplit(auth_url).port if auth_url else None) if has_auth else None
        if name in names:
            ports[name] = (api, auth)
    return ports


def simulator_env(name: str, running) -> dict[str, str]:
    """The connector settings that point one marketplace at a running simulator."""
    spec = MARKETPLACES[name]
    env = {spec.base_url_env: running.url}
    if "auth" in running.hosts:
        env[spec.auth_url_env] = running.host_url("auth")
    return env


def cmd_simulate(args, settings: Settings) -> int:
    running = []
    ports = simulator_ports(_names(args.marketplace), os.environ, args.port_base)
    try:
        for name, (port, auth_port) in ports.items():
            webhook = f"{args.webhook_base.rstrip('/')}/webhooks/{name}" if args.webhook_base else None
            sim = simulator_for(name, seed=args.seed, shops=args.shops, tick_interval=args.tick_interval,
                                webhook_url=webhook)
            server = serve_simulator(sim, host=settings.bind_host, port=port, auth_port=auth_port)
            running.append(server)
            print(f"{name:<12} simulator at {server.url}  (ground truth: {server.url}/_sim/ground_truth)", flush=True)
            for host_name, other in server.hosts.items():
                print(f"{'':<12} {host_name} host at {other.url}", flush=True)
            if args.port_base is not None:  # what `connect` needs to find it
                _say(" ".join(f"{k}={v}" for k, v in simulator_env(name, server).items()))
        _say("simulators running; Ctrl-C stops them")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        for server in running:
            server.stop()


def authorise_simulated_shops(connector, base_url: str) -> int:
    """Stand in for each seller clicking 'authorise' at the simulated marketplace (simulators only):
    the marketplace then redirects to PowerSell with ?code=...&shop_id=..., which we exchange."""
    with urllib.request.urlopen(f"{base_url}/_sim/shops", timeout=10) as reply:
        shops = [s["shop_id"] if isinstance(s, dict) else s for s in json.load(reply)]
    syncer = connector.syncer
    for shop_id in shops:
        request = urllib.request.Request(f"{base_url}/_sim/authorize", data=json.dumps({"shop_ids": [shop_id]}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            code = json.load(reply)["code"]
        authorise(syncer.api, syncer.tokens, syncer.publisher, code, shop_id)
    return len(shops)


def _progress(name: str):
    def show(report: SyncReport) -> None:
        if report.skipped:
            _say(f"[{name}] shop {report.shop_id}: skipped ({report.skipped})")
            return
        counts = ", ".join(f"{n} {stream}" for stream, n in sorted(report.published.items())) or "no changes"
        dead = sum(report.dead_lettered.values())
        failed = f", stopped: {', '.join(report.failed)} (retried next poll)" if report.failed else ""
        _say(f"[{name}] shop {report.shop_id}: {counts}" + (f", {dead} dead-lettered" if dead else "") + failed)
    return show


def cmd_connect(args, settings: Settings) -> int:
    markets = {name: marketplace_config(name) for name in _names(args.marketplace)}  # refuse bad settings first
    ensure_topics(settings)
    sync = sync_config()
    if args.poll_interval:
        sync = type(sync)(poll_interval=args.poll_interval, lookback=sync.lookback,
                          full_sync_days=sync.full_sync_days, request_timeout=sync.request_timeout)
    publisher = AvroPublisher(settings, client_id="powersell-connectors")
    metrics = ConnectorMetrics()
    metrics.registry.build_info("0.1.0", "connector")
    metrics_server = serve_metrics(metrics.registry, settings.metrics_port, host=settings.bind_host)
    _say(f"metrics at http://127.0.0.1:{metrics_server.port}/metrics")
    connectors = {}
    receiver = webhook_server = None
    stop = threading.Event()
    try:
        for name, market in markets.items():
            connectors[name] = build_connector(settings, market, sync, publisher, metrics)
            if args.authorise_simulated_shops:
                n = authorise_simulated_shops(connectors[name], market.base_url)
                _say(f"[{name}] {n} simulated shop(s) authorised; connection consent recorded")
        if args.webhook_port:
            receiver = WebhookReceiver({n: c.syncer for n, c in connectors.items()},
                                       settings.webhook_public_url or f"http://127.0.0.1:{args.webhook_port}")
            webhook_server = receiver.serve(host=settings.bind_host, port=args.webhook_port)
            receiver.start()
            _say(f"webhook receiver at {webhook_server.url}/webhooks/<marketplace>")
        deadline = None if args.duration is None else time.monotonic() + args.duration
        until = (lambda: stop.is_set() or (deadline is not None and time.monotonic() >= deadline))
        services = [ConnectorService(c.syncer, sync.poll_interval, _progress(n)) for n, c in connectors.items()]
        if args.once:
            for service in services:
                service.run_once()
        else:
            threads = [threading.Thread(target=s.run, args=(until,), daemon=True) for s in services]
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.5)
        return 0
    except KeyboardInterrupt:
        stop.set()
        _say("stopping after the current request")
        return 130
    finally:
        if receiver is not None:
            receiver.stop()
        if webhook_server is not None:
            webhook_server.stop()
        for c in connectors.values():
            c.close()
        publisher.flush()
        publisher.close()
        metrics_server.stop()


def add_commands(sub) -> None:
    choices = [*MARKETPLACES, "all"]
    titles = ", ".join(ENTRIES[name].title for name in MARKETPLACES)
    default_ports = ", ".join(f"{n} {s.simulator_port}" for n, s in MARKETPLACES.items())
    p = sub.add_parser("simulate", help=f"run local marketplace simulators ({titles})",
                       description="Serve strict local simulators of the marketplaces' open APIs on 127.0.0.1 "
                                   f"(default ports {default_ports}; "
                                   "see --port-base): signed "
                                   "requests, token lifecycle, rate limits, pagination caps, seeded Vietnamese and "
                                   "Thai data that keeps changing, push notifications and injectable faults.")
    p.add_argument("marketplace", nargs="?", default="all", choices=choices, help="which simulator (default all)")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated data (default 7)")
    p.add_argument("--port-base", type=int, default=None,
                   help=f"serve on consecutive ports from this one ({titles}; an authorisation host right after "
                        "its API) and print the settings `connect` needs; default: the ports of "
                        "POWERSELL_<NAME>_BASE_URL and _AUTH_URL, else the well-known ones above")
    p.add_argument("--shops", type=int, default=4, help="shops per marketplace (default 4)")
    p.add_argument("--tick-interval", type=float, default=5.0,
                   help="seconds between data changes (new orders, status and price updates; default 5)")
    p.add_argument("--webhook-base", default=f"http://127.0.0.1:{WEBHOOK_PORT}",
                   help="where pushes go: BASE/webhooks/<marketplace> (empty to send none)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("connect", help="run the marketplace connectors into the raw topics",
                       description="Poll every shop whose owner consented to connect (R1): a full sync first, then "
                                   "incremental syncs on update time with a lookback window, checkpointed after the "
                                   "broker acknowledged the events. Also serves the webhook receiver. Base URLs and "
                                   "credentials come from POWERSELL_<MARKETPLACE>_BASE_URL/_APP_KEY/_APP_SECRET "
                                   "and POWERSELL_TIKTOK_SHOP_AUTH_URL (defaults: the local simulators; a real "
                                   "marketplace needs its own key and secret).")
    p.add_argument("marketplace", nargs="?", default="all", choices=choices, help="which connector (default all)")
    run = p.add_mutually_exclusive_group()
    run.add_argument("--once", action="store_true", help="one poll of every shop, then exit")
    run.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--poll-interval", type=float, default=None, help="seconds between polls (default 30)")
    p.add_argument("--webhook-port", type=int, default=WEBHOOK_PORT, help=f"webhook receiver port (default {WEBHOOK_PORT}; 0 disables)")
    p.add_argument("--authorise-simulated-shops", action="store_true",
                   help="simulators only: have every simulated shop authorise PowerSell first (records consent)")
    p.set_defaults(func=cmd_connect)
