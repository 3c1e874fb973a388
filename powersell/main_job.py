"""`powersell-pipeline run`: the whole pipeline so far on one machine, for a bounded time.

Kafka, the catalog's topics, the three marketplace simulators, the connectors (with
every simulated shop authorising PowerSell first), the webhook receiver and the redaction
worker; then a summary a newcomer can read: events per topic, dead letters by reason, a
raw event beside its redacted form, the metrics endpoints, and a leak scan of every
downstream topic for the personal data seen in this run's raw events. Everything it
started is stopped on exit or Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, end_offsets, ensure_topics, read_since
from pipeline_core.security import as_principal, kafka_client_config, principal_env, without_security_env
from pipeline_core.settings import Settings, free_ports
from pipeline_core.topics import CATALOG, AccessClass

RAW = ("raw.shops", "raw.products", "raw.orders")
DOWNSTREAM = tuple(t.name for t in CATALOG if t.access in (AccessClass.DOWNSTREAM, AccessClass.PARTNER))
WATCHED = RAW + DOWNSTREAM + ("consent.events", "ops.dead-letters", "audience.marketing", "audience.service")
DEMO_K = 3  # the simulated world is small: cells need 3 shops and 3 buyers here (the worker's default is 10)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} from a process's /metrics; empty when it does not answer."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def metric_total(samples, name: str, **labels) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def personal_values(registry, records) -> set[str]:
    """Every string this run's raw events hold in fields tagged as personal (free text excluded:
    it is mostly not personal; what the scanner finds in it is checked by the leak test)."""
    values: set[str] = set()

    def walk(schema, value, named):
        if isinstance(schema, list):
            for branch in schema:
                if branch != "null":
                    walk(branch, value, named)
            return
        if isinstance(schema, str):
            schema = named.get(schema, schema)
        if isinstance(schema, dict) and schema.get("type") == "record" and isinstance(value, dict):
            named[f"{schema.get('namespace', '')}.{schema['name']}"] = schema
            for field in schema["fields"]:
                kind = field.get("pii")
                v = value.get(field["name"])
                if kind not in (None, "none", "free_text", "card_last4", "location_region"):
                    for item in (v if isinstance(v, list) else [v]):
                        if _distinctive(item):
                            values.add(item)
                walk(field["type"], v, named)
        elif isinstance(schema, dict) and schema.get("type") == "array" and isinstance(value, list):
            for item in value:
                walk(schema["items"], item, named)

    for name, record in records:
        walk(registry.definition(name), record, {})
    return values


def opened_raw(settings, registry, decoded_raw) -> list[tuple[str, dict]]:
    """The raw events with their sealed fields opened (the key store of this data dir), to know which
    personal values to look for; a record of an erased subject cannot be opened and is left out."""
    from pipeline_core.keystore import open_keystore
    from pipeline_core.pseudonyms import pipeline_pseudonym_key
    from pipeline_core.sealing import RecordSealer, SealingError

    sealer = RecordSealer(open_keystore(settings), pipeline_pseudonym_key(settings.data_dir), registry)
    out = []
    for _, (name, record) in decoded_raw:
        try:
            out.append((name, sealer.open(name, record)))
        except SealingError:
            continue
    return out


def plaintext_in(values, stored: list[bytes]) -> list[str]:
    """The values readable as UTF-8 in stored bytes (raw topics, dead letters): none, when sealing works."""
    needles = {v: v.encode("utf-8") for v in values}
    return [v for v, needle in needles.items() if any(needle in blob for blob in stored)]


def _distinctive(value) -> bool:
    """Worth scanning for: short numbers such as postal codes also occur as prices and counts."""
    if not isinstance(value, str) or len(value) < 6:
        return False
    digits = sum(ch.isdigit() for ch in value)
    return not (digits == len(value) and digits < 9)


def run_pipeline(args, settings: Settings) -> int:
    from connectors import MARKETPLACES
    from connectors.assembly import build_connector
    from connectors.commands import authorise_simulated_shops, serve_simulator, simulator_env, simulator_for
    from connectors.config import SyncConfig, marketplace_config
    from connectors.metrics import ConnectorMetrics
    from connectors.runner import ConnectorService
    from connectors.webhook import WebhookReceiver

    from pipeline_core.aiohttp_thread import serve_in_thread
    from pipeline_core.kafka_broker import LocalKafka, broker_answers
    from pipeline_core.metrics import serve_metrics

    started = time.monotonic()
    broker = LocalKafka(settings, progress=lambda m: say(f"  {m}"))
    # a broker that already answers (ours, or docker compose's) is used as it is
    we_started_kafka = not broker.status().running and not broker_answers(
        settings.bootstrap_servers, timeout=5, client_config=kafka_client_config(settings))
    stack: list = []  # what to stop, last first
    stop = threading.Event()
    try:
        say("[1/5] Kafka broker")
        if we_started_kafka:
            broker.up()
        ensure_topics(settings)
        since = end_offsets(settings, WATCHED)

        say("[2/5] marketplace simulators (seeded Vietnamese and Thai shops, changing every 2 s)")
        sims, servers = {}, {}
        for name in MARKETPLACES:
            sims[name] = simulator_for(name, seed=args.seed, shops=args.shops, tick_interval=2.0)
            servers[name] = serve_simulator(sims[name])
            stack.append(servers[name].stop)
            say(f"  {name:<12} {servers[name].url}")

        say("[3/5] stream workers (faust-streaming): privacy (consent gate + redaction) and aggregation")
        # each process is its own principal: a password file named in its environment, never on its command line
        worker_env = {**without_security_env(os.environ), "POWERSELL_LOG_LEVEL": "WARNING",
                      "POWERSELL_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
        principals = {"privacy worker": "privacy-worker", "aggregation worker": "aggregation-worker"}
        ports = dict(zip(("connectors", "privacy worker", "aggregation worker"), free_ports(3)))
        workers = {}
        for label, argv in (("privacy worker", ["worker", "redaction"]),
                            ("aggregation worker", ["worker", "aggregation", "--k", str(DEMO_K), "--tick-seconds", "2"])):
            log_path = settings.data_dir / f"run-{argv[1]}-worker.log"
            workers[label] = subprocess.Popen([sys.executable, "-m", "powersell.cli", *argv, "--metrics-port",
                                               str(ports[label])], stdout=subprocess.DEVNULL,
                                              env={**worker_env, **principal_env(settings, principals[label])},
                                              stderr=open(log_path, "wb"))
            stack.append(lambda p=workers[label]: _stop(p))
            say(f"  {label:<19} metrics http://127.0.0.1:{ports[label]}/metrics  log {log_path}")
        worker = workers["privacy worker"]

        say(f"[4/5] connectors for {args.duration:.0f} s (every simulated shop authorises PowerSell first)")
        connector_settings = as_principal(settings, "connectors")  # the connectors and webhook receiver, in this process
        publisher = AvroPublisher(connector_settings, client_id="powersell-run")
        stack.append(publisher.close)
        metrics = ConnectorMetrics()
        metrics_server = serve_metrics(metrics.registry, ports["connectors"])
        stack.append(metrics_server.stop)
        say(f"  connectors          metrics http://127.0.0.1:{metrics_server.port}/metrics")
        connectors = {}
        sync = SyncConfig(poll_interval=10.0, lookback=timedelta(minutes=10), full_sync_days=60)
        for name in MARKETPLACES:
            market = marketplace_config(name, simulator_env(name, servers[name]))
            connectors[name] = build_connector(connector_settings, market, sync, publisher, metrics)
            stack.append(connectors[name].close)
            authorise_simulated_shops(connectors[name], servers[name].url)
        receiver = WebhookReceiver({n: c.syncer for n, c in connectors.items()}, "http://127.0.0.1:0")
        webhook = serve_in_thread(receiver.app(), name="webhook")
        receiver.callback_base_url = webhook.url  # the URL the simulators sign pushes for
        receiver.start()
        stack.append(webhook.stop)
        stack.append(receiver.stop)
        for name, sim_server in servers.items():
            _post(f"{sim_server.url}/_sim/webhook", {"url": f"{webhook.url}/webhooks/{name}"})

        counts: Counter = Counter()

        def progress(name):
            def show(report):
                counts.update({f"{name}:{k}": v for k, v in report.published.items()})
            return show

        deadline = time.monotonic() + args.duration
        threads = [threading.Thread(target=ConnectorService(c.syncer, sync.poll_interval, progress(n)).run,
                                    args=(lambda: stop.is_set() or time.monotonic() >= deadline,), daemon=True)
                   for n, c in connectors.items()]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(2)
            total = sum(counts.values())
            say(f"  {total} raw events published, {int(max(0, deadline - time.monotonic()))} s left")
        publisher.flush()

        say("[5/5] waiting for the stream workers to catch up")
        registry = default_registry()
        raw = [(t, k, v) for t, k, v, _ in read_since(settings, {tp: o for tp, o in since.items() if tp.topic in RAW})]
        catch_up = time.monotonic() + 180
        while time.monotonic() < catch_up and worker.poll() is None:
            decided = metric_total(scrape(ports["privacy worker"]), "powersell_records_consumed_total", stage="redactor")
            say(f"  privacy worker: {decided:.0f} of {len(raw)} raw events decided")
            if decided >= len(raw):
                break
            time.sleep(2)
        published_before = time.monotonic() + 30   # the aggregation worker publishes on its next ticks
        while time.monotonic() < published_before and not any(
                t == "analytics.aggregates" for t, *_ in read_since(settings, {tp: o for tp, o in since.items()
                                                                               if tp.topic == "analytics.aggregates"})):
            time.sleep(2)
        time.sleep(4)  # two more ticks: the windows the last events touched
        records = read_since(settings, since)
        # the analytics topic as a consumer that upserts by key sees it: from its start, not only this run's versions
        records = [r for r in records if r[0] != "analytics.aggregates"] + read_since(
            settings, {tp: 0 for tp in since if tp.topic == "analytics.aggregates"})
        endpoints = {label: f"http://127.0.0.1:{port}/metrics" for label, port in ports.items()}
        return summary(settings, registry, records, raw, endpoints, scrape(ports["privacy worker"]),
                       all(p.poll() is None for p in workers.values()), started)
    except KeyboardInterrupt:
        stop.set()
        say("interrupted: stopping everything this run started")
        return 130
    finally:
        stop.set()
        for fn in reversed(stack):
            try:
                fn()
            except Exception:  # stopping the rest matters more
                pass
        if we_started_kafka and not args.keep_kafka:
            say("stopping the broker this run started (use --keep-kafka to leave it running)")
            broker.down()


def _stage(registry, value):
    try:
        return registry.decode(value)[1]["stage"]
    except Exception:
        return None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _post(url: str, payload: dict) -> None:
    import urllib.request
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def summary(settings, registry, records, raw, endpoints, privacy_metrics, workers_alive, started) -> int:
    from pipeline_core.avro_codec import jsonable

    per_topic = Counter(t for t, *_ in records)
    print(f"\nPowerSell pipeline run: {time.monotonic() - started:.0f} s, Kafka at {settings.bootstrap_servers}\n")
    print(f"{'topic':<26}{'access':<12}{'events':>8}")
    for t in CATALOG:
        if t.name in per_topic:
            print(f"{t.name:<26}{t.access.value:<12}{per_topic[t.name]:>8}")
    filtered = {dict(ls)["reason"]: v for (n, ls), v in privacy_metrics.items()
                if n == "powersell_records_filtered_total" and v}
    print("\nfiltered by the consent gate: " + (", ".join(f"{r}: {v:.0f}" for r, v in sorted(filtered.items()))
                                              or "none (every shop in this run authorised PowerSell)"))
    dead = Counter()
    for t, k, v, _ in records:
        if t == "ops.dead-letters":
            rec = registry.decode(v)[1]
            dead[(rec["stage"], rec["reason_code"])] += 1
    print("dead letters by reason: " + (", ".join(f"{s} {r}: {n}" for (s, r), n in sorted(dead.items())) or "none"))

    decoded_raw = [(t, registry.decode(v)) for t, k, v in raw if v]
    redacted = {}
    for t, k, v, _ in records:
        if t.startswith("redacted."):
            name, rec = registry.decode(v)
            redacted[rec["event_id"]] = rec
    example = next(((t, rec) for t, (name, rec) in decoded_raw
                    if t == "raw.orders" and rec.get("buyer_note") and rec["event_id"] in redacted), None)
    if example:
        keep = ("order_id", "buyer", "recipient", "buyer_note", "payment", "buyer_ip")
        raw_view = {k: example[1].get(k) for k in keep}
        red_view = {k: redacted[example[1]["event_id"]].get(k) for k in keep}
        print("\nOne order, raw (RESTRICTED: personal data, pipeline services only):")
        print(json.dumps(jsonable(raw_view), ensure_ascii=False, indent=2))
        print("...and as downstream teams see it on redacted.orders:")
        print(json.dumps(jsonable(red_view), ensure_ascii=False, indent=2))

    latest = {}
    for t, k, v, _ in records:
        if t == "analytics.aggregates" and v:
            rec = registry.decode(v)[1]
            if k not in latest or rec["version"] > latest[k]["version"]:
                latest[k] = rec
    cells = sorted(latest.values(), key=lambda r: (r["window_start"], r["granularity"]), reverse=True)
    print(f"\nanalytics.aggregates: {len(latest)} cells (k = {DEMO_K} shops and buyers per cell for this small "
          f"simulated world; {sum(r['suppressed'] for r in latest.values())} suppressed). The latest country cells:")
    print(f"  {'window':<22}{'mkt':<12}{'country':<8}{'orders':>7}{'items':>7}{'gmv':>16} {'cur':<4}{'shops':>6}{'buyers':>7}")
    for r in [r for r in cells if r["province"] is None and r["category"] is None and (r["orders"] or r["suppressed"])][:8]:
        window = f"{r['granularity'].lower()} {r['window_start']:%m-%d %H:%M}"
        if r["suppressed"]:
            print(f"  {window:<22}{r['marketplace'].lower():<12}{r['country']:<8}  SUPPRESSED ({r['suppression_reason'].lower()})")
        else:
            v = {k: "-" if r[k] is None else str(r[k]) for k in
                 ("orders", "items_sold", "gmv", "currency", "distinct_shops", "distinct_buyers")}
            print(f"  {window:<22}{r['marketplace'].lower():<12}{r['country']:<8}{v['orders']:>7}{v['items_sold']:>7}"
                  f"{v['gmv']:>16} {v['currency']:<4}{v['distinct_shops']:>6}{v['distinct_buyers']:>7}")

    values = personal_values(registry, opened_raw(settings, registry, decoded_raw))
    downstream = "\n".join(json.dumps(jsonable(registry.decode(v)[1]), ensure_ascii=False)
                           for t, k, v, _ in records if t in DOWNSTREAM and v)
    found = [v for v in values if v in downstream]
    in_clear = plaintext_in(values, [v for t, k, v, _ in records if t in RAW + ("ops.dead-letters",) and v])
    print(f"\nleak scan: {len(values)} personal values seen in this run's raw events (opened with the key store); "
          f"{len(found)} found in downstream topics" + (" -- LEAK" if found else " (none)") +
          f"; {len(in_clear)} readable without keys in the raw and dead-letter topics" +
          (" -- LEAK" if in_clear else " (none: sealed at the connector)"))
    print("\nmetrics endpoints (served while the run lasted):")
    for label, url in endpoints.items():
        print(f"  {label:<19} {url}")
    ok = not found and not in_clear and workers_alive and per_topic.get("redacted.orders", 0) > 0
    print("\nOK" if ok else "\nFAILED: see above")
    return 0 if ok else 1
