"""`powersell-pipeline bench connectors`: records per second from each simulator through
its connector into Kafka (a full sync: list, detail, map, seal, encode, publish, acknowledge,
checkpoint), with the simulators' rate limits raised so the connector is what is measured.

Each marketplace runs with sealing on and off, interleaved (on, off, on, off, ... `--rounds`
times each): the key store's share of the connector's time as a ratio, with its spread, since
the machine is shared. "Off" is the bench's own filler store (powersell.benchmarks.sealing_cost),
never a pipeline setting. The same section holds the privacy worker's decryption, sealed
against in clear, and seal/open per record (both pure, no Kafka)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta

from powersell.benchmarks.report import table, write_section
from powersell.benchmarks.sealing_cost import Comparison, NoCryptoKeyStore, interleaved, load_average, pure_figures
from pipeline_core.kafka_io import AvroPublisher, ensure_topics
from pipeline_core.security import principal_env
from pipeline_core.settings import Settings

from connectors import MARKETPLACES
from connectors.assembly import build_connector
from connectors.commands import authorise_simulated_shops, serve_simulator, simulator_env, simulator_for
from connectors.config import SyncConfig, marketplace_config
from connectors.metrics import ConnectorMetrics
from connectors.runner import ConnectorService


def bench_one(settings: Settings, name: str, shops: int, products: int, orders: int,
              sealing: bool = True) -> list[object]:
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
        if not sealing:  # bench only: the same walk, filler instead of ciphertext (no personal value in clear)
            connector.syncer.sealer.keystore = NoCryptoKeyStore()
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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def connectors_body(settings: Settings, shops: int, products: int, orders: int, rounds: int,
                    worker_records: int) -> str:
    """The section's body: full syncs with sealing on and off per marketplace, then the pure figures."""
    if rounds < 3:
        raise ValueError("--rounds must be at least 3 (on/off interleaved, median and spread)")
    ensure_topics(settings)
    load_start = load_average()
    rows, comparisons = [], []
    for name in MARKETPLACES:
        runs: dict[bool, list[list[object]]] = {True: [], False: []}

        def run(sealing: bool) -> float:
            row = bench_one(settings, name, shops, products, orders, sealing)
            runs[sealing].append(row)
            return float(row[-1].replace(",", ""))

        _say(f"benchmarking {name}: full sync of {shops} shops, sealing on/off x {rounds}...")
        on, off = interleaved(rounds, run, _say, f"[{name}]")
        comparisons.append(Comparison(f"{name}, records/s", on, off))
        sealed = runs[True][len(on) // 2]
        rows.append([*sealed[:4], *comparisons[-1].row("")[1:]])
    body = table(["marketplace", "shops", "records", "HTTP requests", "records/s sealing on: median (min-max)",
                  "sealing off", "on/off ratio: median (min-max)", "rounds"], rows)
    body += ("\n\nA full sync per marketplace against its local simulator (rate limits raised), publishing to the "
             "broker with acks=all and checkpointing each window after the broker's acknowledgement, "
             f"{products} products and {orders} orders per shop; wall time. Sealing on: every personal field "
             "encrypted under its shop's or buyer's data key (new buyers' keys written to the key store); off: the "
             "bench's filler store (same walk and buyer pseudonyms, no keys, no cipher). Runs interleaved on, off, "
             "on, off; the ratio is the median of each round's on/off. The simulators run in the same process as the "
             "connector (2 cores shared, one GIL), so these rates are a floor for the connector itself.")
    body += "\n\n" + pure_figures(worker_records, rounds, _say)
    body += f"\n\nLoad average (1/5/15 min): {load_start} at the start, {load_average()} at the end (shared machine)."
    return body


def cmd_bench_connectors(args, settings: Settings) -> int:
    body = connectors_body(settings, args.shops, args.products, args.orders, args.rounds, args.worker_records)
    section = write_section("Connectors", f"powersell-pipeline bench connectors --shops {args.shops} "
                            f"--products {args.products} --orders {args.orders} --rounds {args.rounds} "
                            f"--worker-records {args.worker_records}", body)
    print(section)
    return 0


def add_bench_commands(bench_sub) -> None:
    p = bench_sub.add_parser("connectors", help="records/s from each simulator through its connector into Kafka",
                             description="Full sync of each marketplace's simulator into the raw topics; prints "
                                         "records/s with the machine's cores and writes them to BENCHMARKS.md.")
    p.add_argument("--shops", type=int, default=4, help="shops per marketplace (default 4)")
    p.add_argument("--products", type=int, default=200, help="products per shop (default 200)")
    p.add_argument("--orders", type=int, default=400, help="orders per shop (default 400)")
    p.add_argument("--rounds", type=int, default=3, help="sealing on/off rounds, interleaved (default 3, at least 3)")
    p.add_argument("--worker-records", type=int, default=1000,
                   help="orders for the pure figures: worker decryption and seal/open per record (default 1000)")
    p.set_defaults(func=cmd_bench_connectors)
