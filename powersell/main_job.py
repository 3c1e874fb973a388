"""`powersell-pipeline run`: the whole pipeline on one machine, for a bounded time, with shop
owners who act on their privacy rights while it runs.

Kafka, the catalog's topics, the three marketplace simulators, the connectors (every simulated
shop authorises PowerSell first), the webhook receiver, the privacy worker and the aggregation
worker. While the connectors run, four shop owners act (powersell.run.owners): one withdraws
its connection and later connects again, one opts in to marketing and then out, one asks for
erasure, one authorises a partner. Then a summary a newcomer can read (powersell.run.report):
each promise with what happened and its proof read back from the topics, the published
analytics cells with their numbers and why the others were suppressed, events per topic,
filtered events and dead letters by reason, a raw order beside its redacted form, and a leak
scan of every downstream topic. Everything it started is stopped on exit or Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import PipelineError
from pipeline_core.kafka_io import AvroPublisher, end_offsets, ensure_topics, read_since
from pipeline_core.security import as_principal, kafka_client_config, principal_env, without_security_env
from pipeline_core.settings import Settings, free_ports
from pipeline_core.topics import CATALOG, AccessClass

from .run import evidence, proofs, report
from .run.progress import phase, progress_for

RAW = proofs.RAW
DOWNSTREAM = tuple(t.name for t in CATALOG if t.access in (AccessClass.DOWNSTREAM, AccessClass.PARTNER))
WATCHED = RAW + DOWNSTREAM + ("consent.events", "ops.dead-letters", "audience.marketing", "audience.service",
                              "privacy.erasure-requests", "privacy.erasure-receipts")
K = 10  # the aggregation worker's default: cells need 10 distinct shops and 10 distinct buyers
# The simulated world, sized so that a default run publishes cells at k = 10: 24 shops per marketplace
# (12 in Vietnam, 12 in Thailand) with two days of history. A window is published once it has ended, so
# yesterday's daily cell of each marketplace and country holds a whole day of orders from every shop,
# whatever the time of day (over the default 45 days, most days would have orders from too few shops).
WORLD = {"products_per_shop": 4, "orders_per_shop": 24, "history_days": 2}
TICK_SECONDS, TICK_CHANGES = 1.0, 5  # 5 changes a second per marketplace: one of a given shop about every 5 s


def run_pipeline(args, settings: Settings) -> int:
    from connectors import MARKETPLACES
    from connectors.assembly import build_connector
    from connectors.commands import authorise_simulated_shops, serve_simulator, simulator_env, simulator_for
    from connectors.config import SyncConfig, marketplace_config
    from connectors.metrics import ConnectorMetrics
    from connectors.runner import ConnectorService
    from connectors.webhook import WebhookReceiver
    from pipeline_core.kafka_broker import LocalKafka, broker_answers
    from pipeline_core.metrics import serve_metrics

    from .run.owners import ShopOwners, choose_shops

    started = time.monotonic()
    progress = progress_for()
    broker = LocalKafka(settings, progress=progress.news)
    stack: list = []  # what to stop, last first
    stop = threading.Event()
    we_started_kafka = False
    registry = default_registry()
    try:
        with phase(progress, "[1/5] Kafka", "looking for a broker"):
            # a broker that already answers (ours, or docker compose's) is used as it is
            we_started_kafka = not broker.status().running and not broker_answers(
                settings.bootstrap_servers, timeout=5, client_config=kafka_client_config(settings))
            if we_started_kafka:
                broker.up()
            ensure_topics(settings)
            since = end_offsets(settings, WATCHED)
            progress.update(f"broker at {settings.bootstrap_servers}")

        with phase(progress, "[2/5] starting processes"):
            progress.update("marketplace simulators")
            sims, servers, shops = {}, {}, {}
            for name in MARKETPLACES:
                sims[name] = simulator_for(name, seed=args.seed, shops=args.shops, tick_interval=TICK_SECONDS,
                                           tick_changes=TICK_CHANGES, **WORLD)
                servers[name] = serve_simulator(sims[name])
                stack.append(_once(servers[name].stop))
                shops[name] = list(sims[name].world.shops)  # before any tick: nothing changes it concurrently
            plan = choose_shops(shops)

            # each worker is its own principal: a password file named in its environment, never on its command line
            worker_env = {**without_security_env(os.environ), "POWERSELL_LOG_LEVEL": "WARNING",
                          "POWERSELL_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
            principals = {"privacy worker": "privacy-worker", "aggregation worker": "aggregation-worker"}
            ports = dict(zip(("connectors", "privacy worker", "aggregation worker"), free_ports(3)))
            workers, logs = {}, {}
            for label, argv in (("privacy worker", ["worker", "redaction"]),
                                ("aggregation worker", ["worker", "aggregation", "--k", str(K), "--tick-seconds", "2"])):
                progress.update(label)
                logs[label] = settings.data_dir / f"run-{argv[1]}-worker.log"
                workers[label] = subprocess.Popen(
                    [sys.executable, "-m", "powersell.cli", *argv, "--metrics-port", str(ports[label])],
                    stdout=subprocess.DEVNULL, stderr=open(logs[label], "wb"),
                    env={**worker_env, **principal_env(settings, principals[label])})
                stack.append(lambda p=workers[label]: _stop(p))

            progress.update("connectors and webhook receiver; every simulated shop authorises PowerSell")
            connector_settings = as_principal(settings, "connectors")  # the connectors and webhook receiver, here
            publisher = AvroPublisher(connector_settings, client_id="powersell-run")
            stack.append(publisher.close)
            metrics = ConnectorMetrics()
            metrics_server = serve_metrics(metrics.registry, ports["connectors"])
            stack.append(metrics_server.stop)
            connectors = {}
            sync = SyncConfig(poll_interval=10.0, lookback=timedelta(minutes=10), full_sync_days=3)
            for name in MARKETPLACES:
                market = marketplace_config(name, simulator_env(name, servers[name]))
                connectors[name] = build_connector(connector_settings, market, sync, publisher, metrics)
                stack.append(connectors[name].close)
                authorise_simulated_shops(connectors[name], servers[name].url)
            receiver = WebhookReceiver({n: c.syncer for n, c in connectors.items()}, "http://127.0.0.1:0")
            webhook = receiver.serve()
            receiver.callback_base_url = webhook.url  # the URL the simulators sign pushes for
            receiver.start()
            stack.append(_once(webhook.stop))
            stack.append(_once(receiver.stop))
            for name, sim_server in servers.items():
                _post(f"{sim_server.url}/_sim/webhook", {"url": f"{webhook.url}/webhooks/{name}"})
            _wait_ready(progress, workers, ports, logs, stop)
            progress.update("simulators, connectors, webhook receiver and both workers up")

        sealer = evidence.record_sealer(settings, registry)
        owners_publisher = AvroPublisher(settings, client_id="powersell-run-owners")  # the app's side: the operator
        stack.append(owners_publisher.close)

        def read_keys(topic_name):
            return [(k.decode() if k else None, registry.decode(v)[1] if v else None)
                    for _, k, v, _ in read_since(settings, {tp: o for tp, o in since.items() if tp.topic == topic_name})]

        def opened_now(subject):
            raw_now = read_since(settings, {tp: o for tp, o in since.items() if tp.topic in RAW})
            return evidence.shop_records_opened(sealer, _decode_raw(registry, raw_now), subject)

        owners = ShopOwners(settings, plan, {n: s.url for n, s in servers.items()}, owners_publisher,
                            read_keys, opened_now, progress.note)
        counts: Counter = Counter()

        def on_report(name):
            def seen(sync_report):
                counts.update({name: sum(sync_report.published.values())})
                if sync_report.skipped and f"{name}:{sync_report.shop_id}" == plan.withdraw:
                    owners.timeline.polls_skipped += 1
            return seen

        with phase(progress, f"[3/5] syncing for {args.duration:.0f} s"):
            deadline = time.monotonic() + args.duration
            threads = [threading.Thread(target=ConnectorService(c.syncer, sync.poll_interval, on_report(n)).run,
                                        args=(lambda: stop.is_set() or time.monotonic() >= deadline,), daemon=True)
                       for n, c in connectors.items()]
            for t in threads:
                t.start()
            owners.start(args.duration)
            while any(t.is_alive() for t in threads):
                left = int(max(0, deadline - time.monotonic()))
                progress.update(" · ".join(f"{n} {counts[n]:,}" for n in MARKETPLACES) + f" raw events; {left} s left")
                time.sleep(0.5)
            owners.stop()
            # the marketplaces stop changing and pushing: nothing reaches the raw topics after this phase
            for name, sim_server in servers.items():
                _post(f"{sim_server.url}/_sim/webhook", {"url": None})
            for fn in stack[::-1]:
                if getattr(fn, "marketplace_side", False):
                    fn()
            publisher.flush()
            progress.finish(f"{sum(counts.values()):,} raw events published")

        with phase(progress, "[4/5] waiting for the workers"):
            raw = read_since(settings, {tp: o for tp, o in since.items() if tp.topic in RAW})
            catch_up = time.monotonic() + 180
            privacy = workers["privacy worker"]
            while time.monotonic() < catch_up and privacy.poll() is None:
                samples = evidence.scrape(ports["privacy worker"])
                decided = evidence.metric_total(samples, "powersell_records_consumed_total", stage="redactor")
                lag = [v for (n, ls), v in samples.items()  # its group's lag: another run's backlog counts too
                       if n == "powersell_consumer_lag_records" and dict(ls).get("stage") == "redactor"]
                progress.update(f"privacy worker: {decided:,.0f} of {len(raw):,} raw events decided")
                if decided >= len(raw) and lag and sum(lag) == 0:
                    break
                time.sleep(1)
            progress.update("the erasure receipt")
            owners.wait_for_receipt(60, stopped=lambda: privacy.poll() is not None)
            _wait_for_aggregates(settings, progress, workers["aggregation worker"], ports["aggregation worker"])

        with phase(progress, "[5/5] reading the topics back"):
            records = read_since(settings, since)
            # the analytics as a consumer that upserts by key sees them: from the topic's start, so that a second
            # run, whose connectors resume from their checkpoints, still shows the cells of the earlier days
            cells = read_since(settings, {tp: 0 for tp in since if tp.topic == "analytics.aggregates"})
            privacy_metrics = evidence.scrape(ports["privacy worker"])
            endpoints = {label: f"http://127.0.0.1:{port}/metrics" for label, port in ports.items()}
            summary = build(settings, registry, sealer, records, cells, privacy_metrics, owners, endpoints,
                            all(p.poll() is None for p in workers.values()), started)
        progress.close()
        _print(summary, args.json)
        return 0 if summary["ok"] else 1
    except KeyboardInterrupt:
        stop.set()
        progress.close()
        print("interrupted: stopping everything this run started", file=sys.stderr, flush=True)
        return 130
    finally:
        stop.set()
        progress.close()
        for fn in reversed(stack):
            try:
                fn()
            except Exception:  # stopping the rest matters more
                pass
        if we_started_kafka and not args.keep_kafka:
            print("stopping the broker this run started (use --keep-kafka to leave it running)", file=sys.stderr,
                  flush=True)
            broker.down()


def _wait_ready(progress, workers, ports, logs, stop, timeout: float = 180.0) -> None:
    """Until both workers have joined their groups (their /readyz), so the run's first events are not
    waiting on a rebalance; a worker that exits is reported with its log."""
    import urllib.request
    deadline = time.monotonic() + timeout
    waiting = dict(workers)
    while waiting and time.monotonic() < deadline and not stop.is_set():
        for label, process in list(waiting.items()):
            if process.poll() is not None:
                raise PipelineError(f"the {label} exited at start; see {logs[label]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports[label]}/readyz", timeout=2):
                    del waiting[label]
            except OSError:
                pass
        if waiting:
            progress.update("waiting for " + " and ".join(waiting) + " to join their consumer groups")
            time.sleep(1)


def _wait_for_aggregates(settings, progress, worker, port, timeout: float = 90.0, quiet: float = 6.0) -> None:
    """Until the aggregation worker has consumed its input (its lag gauge, updated every 5 s) and published
    nothing new for `quiet` seconds (three publishing ticks): the last windows are then out."""
    deadline, last, still_since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline and worker.poll() is None:
        lag = evidence.metric_total(evidence.scrape(port), "powersell_consumer_lag_records", stage="aggregator")
        published = sum(end_offsets(settings, ("analytics.aggregates",)).values())
        if published != last:
            last, still_since = published, time.monotonic()
        progress.update(f"aggregation worker: {lag:,.0f} events behind, {published:,} aggregate records")
        if lag == 0 and time.monotonic() - still_since >= quiet:
            return
        time.sleep(1)


def _decode_raw(registry, raw) -> list[tuple[str, str, dict]]:
    out = []
    for topic_name, _, value, *_ in raw:
        if value:
            try:
                name, record = registry.decode(value)
            except Exception:  # not ours to judge here: the privacy worker dead-letters it
                continue
            out.append((topic_name, name, record))
    return out


def build(settings, registry, sealer, records, cells, privacy_metrics, owners, endpoints, workers_alive,
          started) -> dict:
    """Decode what the run wrote (records) and the analytics topic (cells) and build the summary document."""
    from streams.sharing import load_partners

    decoded = []
    for topic_name, key, value, *_ in records:
        try:
            decoded.append((topic_name, key.decode("utf-8", "replace") if key else None,
                            registry.decode(value)[1] if value else None))
        except Exception:  # a record that does not decode is counted by topic, not shown
            decoded.append((topic_name, key.decode("utf-8", "replace") if key else None, None))
    raw = _decode_raw(registry, [r for r in records if r[0] in RAW])
    per_topic = Counter(t for t, *_ in records)
    filtered = {dict(ls)["reason"]: int(v) for (n, ls), v in privacy_metrics.items()
                if n == "powersell_records_filtered_total" and dict(ls).get("stage") == "redactor" and v}
    dead = Counter((r["stage"], r["reason_code"]) for t, _, r in decoded if t == "ops.dead-letters" and r)

    t, plan = owners.timeline, owners.timeline.plan
    partners = {p.name: p for p in load_partners()}
    promises = {
        "withdrawal": proofs.withdrawal_proof(plan.withdraw, t.withdrawn, t.reconnected, decoded, filtered,
                                              t.polls_skipped, t.changes_while_withdrawn) if t.withdrawn else None,
        "marketing_opt_out": proofs.marketing_proof(plan.marketing, t.marketing_in, t.marketing_out, decoded)
        if t.marketing_in else None,
        "erasure": proofs.erasure_proof(plan.erase, t.erasure_request, t.erasure_requested, decoded, t.sealed_records,
                                        t.opened_before, evidence.shop_records_opened(sealer, raw, plan.erase)[1])
        if t.erasure_request else None,
        "sharing": proofs.sharing_proof(plan.share, partners[plan.partner], t.shared, decoded, partners)
        if t.shared else None,
    }
    missing = [name for name, p in promises.items() if p is None]
    promises = {name: p for name, p in promises.items() if p is not None}
    if missing or owners.error:  # an owner's action that never happened cannot be shown as kept
        promises["not_acted_on"] = {"promises": missing, "error": owners.error, "kept": False, "shown": False}

    latest = {}  # the simulated world's days: its history and the run's own day
    since_day = datetime.now(timezone.utc) - timedelta(days=WORLD["history_days"] + 1)
    for _, key, value, *_ in cells:
        try:
            rec = registry.decode(value)[1] if value else None
        except Exception:  # not an aggregate: the aggregation worker's dead letters say why
            continue
        if rec and rec["window_start"] >= since_day and (key not in latest or rec["version"] > latest[key]["version"]):
            latest[key] = rec
    analytics = report.analytics_section(list(latest.values()), K)

    values = evidence.personal_values(registry, evidence.opened_raw(sealer, raw))
    downstream = (text for topic_name, _, rec in decoded if topic_name in DOWNSTREAM and rec
                  for text in evidence.texts_of(rec))
    found = evidence.found_in(values, downstream)
    # readable without keys: the raw records' clear fields, and the bodies kept by dead letters as UTF-8
    stored = [text for _, _, rec in raw for text in evidence.texts_of(rec)]
    stored += [rec["original_value"].decode("utf-8", "replace") for topic_name, _, rec in decoded
               if topic_name == "ops.dead-letters" and rec and rec.get("original_value")]
    in_clear = evidence.found_in(values, stored)
    leak = {"personal_values": len(values), "in_downstream": len(found), "readable_without_keys": len(in_clear)}

    redacted = {rec["event_id"]: rec for topic_name, _, rec in decoded if topic_name == "redacted.orders" and rec}
    example_view = None
    for topic_name, name, rec in raw:  # the first order with a buyer's note that opens (not the erased shop's)
        if topic_name == "raw.orders" and rec["event_id"] in redacted and rec.get("buyer_note"):
            opened = evidence.opened_raw(sealer, [(topic_name, name, rec)])
            if opened:
                keep = ("order_id", "buyer", "recipient", "buyer_note", "payment", "buyer_ip")
                example_view = {"raw": {k: opened[0][1].get(k) for k in keep},
                                "redacted": {k: redacted[rec["event_id"]].get(k) for k in keep}}
                break
    topics = [{"topic": tp.name, "access": tp.access.value, "events": per_topic[tp.name]}
              for tp in CATALOG if tp.name in per_topic]
    return report.build_summary(duration_s=time.monotonic() - started, bootstrap=settings.bootstrap_servers,
                                per_topic=topics, filtered=filtered, dead_letters=dict(dead), promises=promises,
                                analytics=analytics, leak=leak, endpoints=endpoints, workers_alive=workers_alive,
                                example=example_view)


def _print(summary: dict, json_path: str | None) -> None:
    if json_path == "-":
        print(report.to_json(summary), flush=True)
        return
    print("\n" + report.render_text(summary), flush=True)
    if json_path:
        Path(json_path).write_text(report.to_json(summary) + "\n", encoding="utf-8")
        print(f"summary written to {json_path}", file=sys.stderr, flush=True)


def _once(fn):
    """A stop function that may be called early (the marketplace side, after syncing) and again on exit."""
    done = []

    def stop_once():
        if not done:
            done.append(True)
            fn()
    stop_once.marketplace_side = True
    return stop_once


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _post(url: str, payload: dict) -> None:
    import json
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
