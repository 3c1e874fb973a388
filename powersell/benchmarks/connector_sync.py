"""`powersell-pipeline bench connectors`: records per second from each simulator through
its connector into Kafka (a full sync: list, detail, map, encode, publish, acknowledge,
checkpoint), with the simulators' rate limits raised so the connector is what is measured."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta

from powersell.benchmarks.report import table, write_section
from pipeline_core.kafka_io import AvroPublisher, ensure_topics
from pipeline_core.security import principal_env
from pipeline_core.settings import Settings

from connectors import MARKETPLACES
from connectors.assembly import build_connector
from connectors.commands import authorise_simulated_shops, serve_simulator, simulator_env, simulator_for
from connectors.config import SyncConfig, marketplace_config
from connectors.metrics import ConnectorMetrics
from connectors.runner import ConnectorService


def bench_one(settings: Settings, name: str, shops: int, products: int, orders: int) -> list[object]:
    sim = simulator_for(name, seed=int(time.time()) % 10**6, shops=shops, products_per_shop=products,
                        orders_per_shop=orders, rate_limit_per_second=10_000.0, rate_limit_burst=10_000,
                        push_duplicate_rate=0.0)
    server = serve_simulator(sim)
    with tempfile.TemporaryDirectory() as data:
        local = Settings.from_env({**os.environ, "POWERSELL_DATA_DIR": data,
                                   "POWERSELL_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
                                   **principal_env(settings, "connectors")})
        publisher = AvroPublisher(local, client_id=f"bench-{name}")
        metrics = ConnectorMetrics()
        market = marketplace_config(name, simulator_env(name, server))
        connector = build_connector(local, market, SyncConfig(lookback=timedelta(minutes=10), full_sync_days=60),
                                    publisher, metrics)
        try:
            authorise_simulated_shops(connector, server.url)
            started = time.perf_counter()
            reports = ConnectorService(connector.syncer).run_once()
            elapsed = time.perf_counter() - started
        finally:
            connector.close()
            publisher.close()
            server.stop()
    records = sum(sum(r.published.values()) for r in reports)
    requests = int(sum(_requests(metrics).values()))
    return [name, shops, records, requests, f"{elapsed:.2f}", f"{records / elapsed:,.0f}"]


def _requests(metrics: ConnectorMetrics) -> dict[str, float]:
    out = {}
    for family in metrics.registry.registry.collect():
        if family.name == "powersell_connector_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    out[sample.labels["outcome"]] = out.get(sample.labels["outcome"], 0) + sample.value
    return out


def cmd_bench_connectors(args, settings: Settings) -> int:
    ensure_topics(settings)
    rows = []
    for name in MARKETPLACES:
        print(f"benchmarking {name}: full sync of {args.shops} shops...", file=sys.stderr, flush=True)
        rows.append(bench_one(settings, name, args.shops, args.products, args.orders))
    body = table(["marketplace", "shops", "records", "HTTP requests", "seconds", "records/s"], rows)
    body += ("\n\nA full sync per marketplace against its local simulator (rate limits raised), publishing to the "
             "local broker with acks=all and checkpointing each window after the broker's acknowledgement. "
             f"{args.products} products and {args.orders} orders per shop.")
    section = write_section("Connectors", f"powersell-pipeline bench connectors --shops {args.shops} "
                            f"--products {args.products} --orders {args.orders}", body)
    print(section)
    return 0


def add_bench_commands(bench_sub) -> None:
    p = bench_sub.add_parser("connectors", help="records/s from each simulator through its connector into Kafka",
                             description="Full sync of each marketplace's simulator into the raw topics; prints "
                                         "records/s with the machine's cores and writes them to BENCHMARKS.md.")
    p.add_argument("--shops", type=int, default=4, help="shops per marketplace (default 4)")
    p.add_argument("--products", type=int, default=200, help="products per shop (default 200)")
    p.add_argument("--orders", type=int, default=400, help="orders per shop (default 400)")
    p.set_defaults(func=cmd_bench_connectors)
