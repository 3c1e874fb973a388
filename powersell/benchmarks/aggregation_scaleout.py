"""One aggregation worker against two, interleaved, on a scratch broker: the measurement behind
"two aggregation workers >= 1.7x one" (streams/aggregation/shards.py).

Each run is a fresh group (`worker aggregation --app-id ...`) whose offsets are committed at the
redacted topics' end before it starts; once its workers have joined (stable group), a backlog of
redacted products and orders is produced straight to redacted.products / redacted.orders (no
privacy worker in the way) and the run's figure is the records aggregated per second, summed
over its workers' counters (their /metrics, sampled every 0.25 s) from the first to the last.

The backlog spreads over the (marketplace, country) groups a regional seller base has: Shopee
in six countries, Lazada in four, TikTok Shop in two, with more orders where the markets are
bigger; a group is the unit of sharding, so its spread decides how evenly two workers share.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline_core.settings import Settings

from powersell.benchmarks.interleave import comparison_header, comparison_rows, interleave, loads_line, ratio
from powersell.benchmarks.report import table

ONE, TWO = "1 aggregation worker", "2 aggregation workers"
SCALE_TARGET = 1.7
# (marketplace, country, currency, weight): where the orders are
GROUPS = [("SHOPEE", "VN", "VND", 8), ("SHOPEE", "TH", "THB", 6), ("SHOPEE", "ID", "IDR", 8), ("SHOPEE", "MY", "MYR", 3),
          ("SHOPEE", "PH", "PHP", 3), ("SHOPEE", "SG", "SGD", 1), ("LAZADA", "VN", "VND", 4), ("LAZADA", "TH", "THB", 4),
          ("LAZADA", "MY", "MYR", 2), ("LAZADA", "SG", "SGD", 1), ("TIKTOK_SHOP", "VN", "VND", 4),
          ("TIKTOK_SHOP", "TH", "THB", 3)]
CATEGORIES = ["Đồ gia dụng", "Giày nam", "Thời trang nữ", "Điện thoại", "Mỹ phẩm", "Đồ chơi", "Sách", "Thể thao"]
PROVINCES = ["P01", "P02", "P03", "P04", "P05", "P06", "P07", "P08", "P09", "P10"]
AGGREGATED = ("powersell_processing_duration_seconds_count", {"stage": "aggregator"})


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def redacted_backlog(orders: int, run: str, start: datetime, seed: int = 14) -> list[tuple[str, str, dict[str, Any]]]:
    """(topic, shop key, record): products first, then orders, ids unique to `run`, event times over 4 hours."""
    rng = random.Random(seed)
    base = {"ingest_source": "INCREMENTAL_SYNC", "policy_version": "1"}
    products, out = {}, []
    for g, (mp, country, currency, _) in enumerate(GROUPS):
        for i in range(40):
            shop, item = f"{country}{g}-{i % 25}", f"{run}-{g}-{i}"
            products.setdefault(g, []).append(item)
            t = start - timedelta(days=2)
            out.append(("redacted.products", f"{mp}:{shop}", {
                **base, "event_id": f"{run}-p-{g}-{i}", "marketplace": mp, "shop_id": shop, "event_time": t,
                "ingest_time": t, "item_id": item, "status": "NORMAL", "title": "t", "description": None,
                "category_id": str(i % len(CATEGORIES)), "category_name": CATEGORIES[i % len(CATEGORIES)],
                "brand": None, "currency": currency, "skus": [], "created_time": t, "updated_time": t}))
    weights = [w for *_, w in GROUPS]
    for n in range(orders):
        g = rng.choices(range(len(GROUPS)), weights)[0]
        mp, country, currency, _ = GROUPS[g]
        shop = f"{country}{g}-{rng.randrange(25)}"
        t = start + timedelta(seconds=4 * 3600 * n / orders)
        out.append(("redacted.orders", f"{mp}:{shop}", {
            **base, "event_id": f"{run}-o-{n}", "marketplace": mp, "shop_id": shop, "event_time": t, "ingest_time": t,
            "order_id": f"{run}-{n}", "status": "COMPLETED", "create_time": t, "update_time": t, "currency": currency,
            "total_amount": Decimal("0.00"), "shipping_fee": Decimal("1.00"),
            "buyer": {"buyer_user_id": f"pb{rng.randrange(5000)}"},
            "recipient": {"phone": None, "address": {"province": rng.choice(PROVINCES), "country": country}},
            "buyer_note": None, "payment": None, "buyer_ip": None, "tracking_number": None,
            "items": [{"item_id": rng.choice(products[g]), "sku_id": None, "product_title": "t",
                       "quantity": rng.randrange(1, 4), "unit_price": Decimal(f"{rng.randrange(1, 900)}.00")}
                      for _ in range(rng.randrange(1, 3))]}))
    return out


def aggregation_scaleout(settings: Settings, workdir: Path, orders: int, rounds: int, cores: int) -> tuple[dict, str]:
    """({phase: Phase}, the section's body). `settings` must be a scratch broker's."""
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    from pipeline_core.avro_codec import default_registry
    from pipeline_core.kafka_broker import LocalKafka
    from pipeline_core.kafka_io import AvroPublisher, admin_client, end_offsets, ensure_topics
    from powersell.benchmarks.figures import PipelineOptions, metric_value, stage_rate
    from powersell.benchmarks.session import PipelineSession
    from powersell.benchmarks.workers import BenchError, cpu_seconds, machine_busy

    ensure_topics(settings)
    session = PipelineSession(settings, workdir, PipelineOptions(aggregation=True))
    registry = default_registry()
    start = (datetime.now(timezone.utc) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    runs = {"n": 0}
    rss: dict[str, int | None] = {}
    cpu: dict[str, list[dict[str, float]]] = {}  # phase -> per run: where the CPU went while it aggregated
    broker_pids = list(LocalKafka(settings).running_pids(remove_stale=False).values())

    def run(workers: int) -> float:
        runs["n"] += 1
        app_id = f"powersell-aggregator-bench-{runs['n']}-{time.strftime('%H%M%S')}"
        backlog = redacted_backlog(orders, app_id, start + timedelta(hours=5 * runs["n"]))
        encoded = [(t, k, registry.encode(default_registry_name(t), r)) for t, k, r in backlog]
        ends = end_offsets(settings, ("redacted.orders", "redacted.products"))
        for attempt in range(30):  # a fresh broker has no group coordinator until its offsets topic is up
            admin = admin_client(settings)
            try:
                admin.alter_group_offsets(app_id, {tp: OffsetAndMetadata(o, "", -1) for tp, o in ends.items()})
                break
            except KafkaError:
                if attempt == 29:
                    raise
                time.sleep(1)
            finally:
                admin.close()
        procs = [session.start_worker("aggregation", f"{app_id} worker {i + 1}",
                                      ["--app-id", app_id, "--tick-seconds", "5"]) for i in range(workers)]
        try:
            session.wait_group(app_id, workers, timeout=180)

            def used() -> dict[str, float]:
                return {"workers": sum(cpu_seconds(p.pid) or 0.0 for p in procs),
                        "broker": sum(cpu_seconds(pid) or 0.0 for pid in broker_pids),
                        "bench": time.process_time(), "machine": (machine_busy() or (0.0, 0.0))[0]}
            cpu0, t0 = used(), time.monotonic()
            publisher = AvroPublisher(settings, client_id="bench-aggregation")
            try:
                for topic_name, key, value in encoded:
                    publisher.producer.send(topic_name, key=key.encode(), value=value)
                publisher.flush(120)
            finally:
                publisher.close()
            samples, deadline, last, moved = [], time.monotonic() + 600, -1.0, time.monotonic()
            while True:
                counts = [metric_value(p.metrics_text() or "", *AGGREGATED) for p in procs]
                total = sum(c or 0 for c in counts)
                samples.append((time.monotonic(), total))
                if total >= len(encoded):
                    break
                for p in procs:
                    p.check()
                if total != last:
                    last, moved = total, time.monotonic()
                if time.monotonic() - moved > 120 or time.monotonic() > deadline:
                    texts = [p.metrics_text() or "" for p in procs]
                    dead = sum(metric_value(t, "powersell_records_dead_lettered_total") or 0 for t in texts)
                    raise BenchError(f"{app_id}: {total:,.0f} of {len(encoded):,} records aggregated, stalled "
                                     f"(per worker {counts}, {dead:,.0f} dead-lettered)")
                time.sleep(0.25)
            seconds, cpu1 = time.monotonic() - t0, used()
            cpu.setdefault(f"{workers}", []).append({k: (cpu1[k] - v) / seconds for k, v in cpu0.items()})
            rate = stage_rate(samples, 0, len(encoded))
            if rate is None:
                raise BenchError(f"{app_id}: no rate")
            return rate.per_second
        finally:
            for p in procs:
                p.stop()
                rss[p.label] = p.peak_kib
                session.workers.remove(p)

    try:
        result = interleave({ONE: lambda: run(1), TWO: lambda: run(2)}, rounds, on_error=(BenchError,),
                            progress=lambda m: _say(f"[aggregation scale-out] {m}"))
    finally:
        session.close()
    return result, scaleout_body(result, rss, orders, rounds, cores, cpu)


def default_registry_name(topic_name: str) -> str:
    from pipeline_core.topics import topic
    return topic(topic_name).value_schema


def cpu_line(cpu: dict[str, list[dict[str, float]]], cores: int) -> str:
    """Where the CPU went while each phase aggregated (medians over its runs, in cores): the workers, the broker,
    the bench's own process (its producer) and the whole machine (every process, of `cores`)."""
    from statistics import median

    def phase(workers: str, runs: list[dict[str, float]]) -> str:
        m = {k: median(r[k] for r in runs) for k in runs[0]}
        return (f"{workers} worker{'s' if workers != '1' else ''}: workers {m['workers']:.2f}, broker {m['broker']:.2f}, "
                f"bench producer {m['bench']:.2f}, machine {m['machine']:.2f} of {cores} busy")
    return ("CPU from the first record sent to the last aggregated, in cores (medians): "
            + "; ".join(phase(w, runs) for w, runs in sorted(cpu.items()) if runs) + ".") if cpu else ""


def scaleout_body(result: dict, rss: dict[str, int | None], orders: int, rounds: int, cores: int,
                  cpu: dict[str, list[dict[str, float]]] | None = None) -> str:
    scale = ratio(result[TWO], result[ONE])
    noisy = result[ONE].noisy(cores) + result[TWO].noisy(cores)
    verdict = "n/a" if scale is None else (f"{scale:.2f}x one: " + ("met" if scale >= SCALE_TARGET else "not met")
                                           + (" (noisy)" if noisy else ""))
    peak = max((v for v in rss.values() if v), default=None)
    out = [table(comparison_header("records/s", [ONE]), comparison_rows(result, cores, [ONE])),
           f"\n{rounds} rounds, interleaved; each run {orders:,} orders and {40 * len(GROUPS)} products in "
           f"{len(GROUPS)} (marketplace, country) groups. " + loads_line(result)
           + (f" Peak RSS of an aggregation worker: {peak / 1024:,.0f} MiB." if peak else "")
           + (f" {cpu_line(cpu, cores)}" if cpu else ""),
           f"\nTarget: two aggregation workers >= {SCALE_TARGET}x one: {verdict}. On {cores} cores the broker, "
           "the producer and both workers share the machine, so two workers can at best use what one leaves idle.",
           "\n" + (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ").strip()]
    for name, phase in result.items():
        out += [f"\nOdd: {name}: {e}" for e in phase.errors]
    return "\n".join(out)
