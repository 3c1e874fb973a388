"""`powersell-pipeline bench all`: the benchmark suite of issue 8 in one run, on a scratch broker.

 a. the broker's own limit: Kafka's producer and consumer perf tools, 1 KiB records (kafka_perf);
 b. baselines on the same raw order events: a bare kafka-python consume-and-produce loop
    (bench_loop) and the bare faust passthrough agent (powersell.benchmarks.workers);
 c. the full pipeline, the privacy and the aggregation worker as `powersell-pipeline worker`
    processes, at its maximum rate and at a fixed rate (bench_pipeline);
 d. one and two privacy workers in one group on the same backlog (bench_pipeline);
 e. the cost of TLS + SCRAM: the baselines and the redaction worker on the secured scratch broker
    and on an open one (`kafka up --insecure`), the same events on both.
 f. the key store's cost (issue 19): connectors' full syncs with sealing on and off, the privacy
    worker's stage on sealed and clear records, seal/open per record (powersell.benchmarks.connector_sync).

Why a scratch broker: the workers use the catalog's real topic names, so on the everyday broker
the bench's events would mix with real pipeline data. The run starts its own broker (same Kafka
version and jars, fresh storage, free ports), uses it for every part and deletes it at the end.
Each part prints its table and writes its section of BENCHMARKS.md as soon as it finishes;
the "Suite" section holds the machine, load averages, the command and the targets' verdicts.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from powersell.benchmarks.figures import limit_verdict, share_verdict
from powersell.benchmarks.report import machine, table, write_section
from pipeline_core.settings import Settings, free_ports

PARTS = ("broker", "baselines", "pipeline", "profile", "security", "sealing")
PIPELINE_SHARE = 0.60      # of the faust passthrough's events/s
P99_LIMIT_MS = 250.0       # to the redacted topics at the fixed rate
RSS_LIMIT_MIB = 300.0      # per worker


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _n(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


class ScratchBroker:
    """A broker of the bench's own: LocalKafka with a data dir in the bench's folder and free ports."""

    def __init__(self, settings: Settings, workdir: Path, secured: bool = True, name: str = "broker"):
        from pipeline_core.kafka_broker import LocalKafka
        from pipeline_core.settings import SECURITY_VARIABLES

        port, controller = free_ports(2)
        # the scratch broker's own operator (auto), never the identity of the shell that started the run
        env = {k: v for k, v in os.environ.items() if k.startswith("POWERSELL_") and k != "POWERSELL_BOOTSTRAP_SERVERS"
               and k not in SECURITY_VARIABLES}
        env.update({"POWERSELL_KAFKA_PORT": str(port), "POWERSELL_KAFKA_CONTROLLER_PORT": str(controller),
                    "POWERSELL_DATA_DIR": str(workdir / name), "POWERSELL_CACHE_DIR": str(settings.cache_dir),
                    "POWERSELL_KAFKA_VERSION": settings.kafka_version, "POWERSELL_KAFKA_HEAP": settings.kafka_heap})
        self.settings = Settings.from_env(env)
        self.kafka = LocalKafka(self.settings, progress=lambda m: _say(f"[{name}] {m}"), secured=secured)

    def up(self) -> Settings:
        self.kafka.up(timeout=180)
        return self.settings

    def down(self) -> None:
        try:
            self.kafka.down(wipe=True)
        except Exception as exc:  # the figures are written; say what is left
            _say(f"note: could not stop the scratch broker: {exc}")


def command_line(args) -> str:
    return (f"powersell-pipeline bench all --events {args.events} --rate {args.rate:g} --paced-seconds "
            f"{args.paced_seconds:g} --window-seconds {args.window_seconds:g} --broker-records {args.broker_records}"
            + ("" if getattr(args, "rounds", 3) == 3 else f" --rounds {args.rounds}")
            + ("" if tuple(args.parts) == PARTS else f" --parts {','.join(args.parts)}"))


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# ---------------------------------------------------------------- report bodies
def pipeline_body(f, passthrough_rate: float | None, cores: int) -> str:
    o = f.options
    cpu = f.cpu_share

    def cpu_of(phase: str) -> str:
        shares = cpu.get(phase) or {}
        return ", ".join(f"{name} {share:.0%}" for name, share in sorted(shares.items())) or "n/a"

    def rate(r) -> str:
        return "n/a" if r is None else _n(r.per_second)

    rows = [["privacy worker alone", o.events, _n(f.privacy_alone), cpu_of("1 privacy worker")],
            ["aggregation worker alone", _n(f.aggregation_alone.events) if f.aggregation_alone else "n/a",
             rate(f.aggregation_alone), cpu_of("aggregation alone")],
            ["privacy worker, both running", o.events, _n(f.max_privacy), cpu_of("full pipeline, max rate")],
            ["aggregation worker, both running", o.events, rate(f.max_aggregation), ""],
            ["**full pipeline** (send to aggregated)", o.events, rate(f.max_pipeline), ""]]
    out = ["### At its maximum rate\n", table(["stage", "events", "events/s", "CPU while running (of one core)"], rows)]
    red, win = f.redacted_latency, f.analytics_latency
    win_lat = None
    if win is not None and win.latencies_ms:
        from powersell.benchmarks.figures import latency_summary
        win_lat = latency_summary(win.latencies_ms)
    paced_rows = [["offered (the producer)", _n(f.paced_offered), "", "", "", ""],
                  ["privacy worker -> redacted.orders", _n(f.paced_privacy), _n(red and red.p50), _n(red and red.p99),
                   _n(red and red.max), f"{red.count if red else 0} events"],
                  ["aggregation worker -> analytics.aggregates", "n/a" if f.paced_aggregation is None
                   else _n(f.paced_aggregation.per_second), _n(win_lat and win_lat.p50), _n(win_lat and win_lat.p99),
                   _n(win_lat and win_lat.max), "n/a" if win is None else f"{win.complete} windows"
                   + (f" ({win.missing} never complete)" if win.missing else "")]]
    out += [f"\n### At a fixed {o.rate:,.0f} events/s for {o.paced_seconds:g} s ({f.paced_events:,} events)\n",
            table(["stage", "events/s", "p50 ms", "p99 ms", "max ms", "latency over"], paced_rows),
            f"\nThe redacted topic had every event {f.paced_drain_seconds:.1f} s after the last send; CPU: "
            f"{cpu_of('fixed rate')}.",
            "\n### Peak RSS per process\n",
            table(["process", "peak RSS MiB"], [[k, "n/a" if v is None else f"{v / 1024:,.0f}"]
                                                for k, v in sorted(f.rss_kib.items())])]
    out.append(
        "\nMethod: a scratch broker of the run's own holds the catalog's topics, so the workers run unchanged "
        "(`powersell-pipeline worker redaction` / `worker aggregation`, WARNING logs, a throwaway pseudonym key) and "
        "the bench's events never meet real data; every bench shop's connection consent is granted before its "
        "events. The events are powersell.benchmarks.workers's raw orders (120 shops, Shopee and Lazada in VN, TikTok Shop in TH), "
        "published to raw.orders by shop key like the connectors'. Before a backlog the workers are up and warm (one "
        "event per partition went through). Privacy events/s: the CreateTime span of the redacted records. "
        "Aggregation events/s: its records-aggregated counter (/metrics, sampled every 0.25 s). Full pipeline: "
        "backlog events over the time from the first send until the aggregation worker had counted the last one. "
        "Latency to redacted.orders: the redacted record's CreateTime minus the raw record's (the connector's "
        "publish). Latency to analytics.aggregates: the aggregate of an event's window has no single source event, "
        f"so it is measured per window: in the fixed-rate phase event times advance one hour every "
        f"{o.window_seconds:g} s of sending, and for each hourly window and marketplace/country total, the first "
        "aggregate record whose order count equals the window's events minus the publish time of its last event; "
        "it includes the worker's publishing tick (`--tick-seconds`, default 5 s). Peak RSS: VmHWM (psutil's "
        "sampled RSS where /proc has none). The broker, the producer and every worker share this machine's "
        f"{cores} cores.")
    if f.notes:
        out.append("\nOdd: " + "; ".join(f.notes))
    targets = pipeline_targets(f, passthrough_rate, cores)
    if targets:
        out.append("\nTargets:\n\n" + "\n".join(targets))
    return "\n".join(out)


def pipeline_targets(f, passthrough_rate: float | None, cores: int) -> list[str]:
    out = []
    if f.max_pipeline is not None and passthrough_rate:
        share = f.max_pipeline.per_second / passthrough_rate
        out.append(f"- Full pipeline >= {PIPELINE_SHARE:.0%} of the faust passthrough's events/s: "
                   f"{_n(f.max_pipeline.per_second)} vs {_n(passthrough_rate)}, "
                   + share_verdict(f.max_pipeline.per_second, passthrough_rate, PIPELINE_SHARE) + ".")
        if share < PIPELINE_SHARE:
            out.append("  Why: " + pipeline_why(f, passthrough_rate, cores))
    red = f.redacted_latency
    if red is not None:
        verdict = limit_verdict(red.p99, P99_LIMIT_MS, "ms")
        out.append(f"- p99 <= {P99_LIMIT_MS:.0f} ms to the redacted topics at {f.options.rate:,.0f} events/s: {verdict}.")
        if red.p99 > P99_LIMIT_MS:
            if f.paced_privacy < 0.97 * f.paced_offered:
                # what one worker did beside the rest of the pipeline, not alone: that is the capacity being shared
                need = math.ceil(f.paced_offered / f.paced_privacy) if f.paced_privacy else None
                cpu = privacy_cpu(f)
                waiting = cpu is not None and cpu < 0.5
                out.append(f"  Why: {f.options.rate:,.0f} events/s is above what one privacy worker does beside the "
                           f"rest of the pipeline ({_n(f.paced_privacy)} events/s while offered {_n(f.paced_offered)}; "
                           f"{_n(f.privacy_alone)} alone), so a queue builds for the whole phase and the latency grows "
                           f"with it; the redacted topic caught up {f.paced_drain_seconds:.1f} s after the last send. "
                           "The p99 is queueing, not work per event: meeting it needs more capacity than the rate, "
                           + (f"first a privacy worker that does not wait ({cpu:.0%} of one core while draining "
                              "alone: see the share target)" if waiting else
                              f"at least {need} privacy workers with a core each" if need else "more privacy workers")
                           + f" (this machine has {cores} cores for the broker, the producer and both workers).")
            else:
                out.append(f"  Why: the privacy worker keeps up on average ({_n(f.paced_privacy)} events/s) but "
                           f"shares {cores} cores with the broker, the aggregation worker and the producer; the tail "
                           "is time waiting for a core, commits and batches processed together.")
    for label, kib in sorted(f.rss_kib.items()):
        verdict = limit_verdict(None if kib is None else kib / 1024, RSS_LIMIT_MIB, "MiB")
        out.append(f"- {label} <= {RSS_LIMIT_MIB:.0f} MiB RSS: {verdict}.")
        if kib is not None and kib / 1024 > RSS_LIMIT_MIB:
            out.append("  Why: the peak includes Python, faust, the Kafka clients' buffers and the worker's tables "
                       "(consent state, or the aggregation's RocksDB and its changelog recovery); see the process's "
                       "/metrics for its current RSS.")
    return out


def privacy_cpu(f) -> float | None:
    """The privacy worker's CPU share while it drained a backlog alone."""
    return (f.cpu_share.get("1 privacy worker") or {}).get("privacy worker 1")


def pipeline_why(f, passthrough_rate: float, cores: int) -> str:
    # The aggregation worker reads what the privacy worker writes: at about the same rate it is only keeping up.
    privacy_slowest = f.max_aggregation is None or f.max_aggregation.per_second >= 0.9 * f.max_privacy
    cpu = privacy_cpu(f)
    if privacy_slowest and cpu is not None and cpu < 0.5:
        return (f"the privacy worker is the slowest stage and it waits rather than computes: {cpu:.0%} of one core "
                f"while draining a backlog alone at {_n(f.privacy_alone)} events/s. The time goes to waiting per "
                "batch of events (I/O or a timer in the worker), or, when the load average was above the cores "
                "(see Suite), to waiting for a core; the Privacy worker profile section shows where its CPU goes. "
                "Fixing the wait comes before any tuning.")
    if privacy_slowest:
        return (f"the pipeline goes at its slowest stage's pace, the privacy worker's ({_n(f.max_privacy)} events/s "
                "with both running). The passthrough only moves bytes; the privacy worker decodes each event, checks "
                "consent at its event time, redacts every field the policy names, scans free text, re-encodes and "
                f"counts metrics (the Privacy worker profile section says where its CPU goes), and shares the {cores} cores with the "
                "aggregation worker, the broker and the producer. Raw topics have 4 partitions, so privacy workers "
                f"scale out: two gave {_n(f.two_workers)} events/s (one: {_n(f.privacy_alone)}), see Scaling; "
                f"{PIPELINE_SHARE:.0%} is {_n(PIPELINE_SHARE * passthrough_rate)} events/s through both stages.")
    return (f"the pipeline goes at its slowest stage's pace, the aggregation worker's "
            f"({_n(f.max_aggregation.per_second)} events/s with both running): every event is forwarded through its "
            "internal topic to the shard of its (marketplace, country) and updates the cells of its windows; shards "
            "spread over aggregation workers (see Aggregation scale-out), as many as there are groups. "
            f"{PIPELINE_SHARE:.0%} is {_n(PIPELINE_SHARE * passthrough_rate)} events/s.")


def scaling_body(f, cores: int) -> str:
    one, two = f.privacy_alone, f.two_workers
    rows = [[1, f.options.events, _n(one), "1.00x", "; ".join(f"{k} {v:.0%}" for k, v in
                                                             sorted((f.cpu_share.get("1 privacy worker") or {}).items()))],
            [2, f.options.events, _n(two), f"{two / one:.2f}x" if one and two is not None else "n/a",
             "; ".join(f"{k} {v:.0%}" for k, v in sorted((f.cpu_share.get("2 privacy workers") or {}).items()))]]
    return (table(["privacy workers", "backlog events", "events/s", "vs one", "CPU while draining (of one core; the machine: of all)"], rows)
            + f"\n\nThe same backlog of raw orders published flat out to raw.orders (4 partitions) while the workers "
              "ran, both in the group powersell-redactor (stable, warm) before it; events/s is the CreateTime span of "
              "the redacted records. The aggregation worker was stopped for both runs. The broker and the producer "
              f"share the {cores} cores with the workers; one worker leaves part of a core idle (it waits on "
              "the broker between batches), which a second worker uses."
            + "".join(f"\n\nOdd: {note}" for note in f.notes if note.startswith("two privacy workers")))


# ---------------------------------------------------------------- the command
def cmd_bench_all(args, settings: Settings) -> int:
    from powersell.benchmarks.workers import BenchError

    if args.events < 100 or args.rate <= 0 or args.paced_seconds <= 0 or args.window_seconds <= 0 \
            or args.broker_records <= 0:
        raise BenchError("--events must be at least 100; --rate, --paced-seconds, --window-seconds and "
                         "--broker-records positive")
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        raise BenchError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    started, load_start, command = time.monotonic(), load_average(), command_line(args)
    cores = os.cpu_count() or 1
    suite = ("Suite", command)
    write_section(*suite, f"Running since {time.strftime('%H:%M UTC', time.gmtime())}; load average (1/5/15 min) "
                          f"at the start {load_start}.")
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    workdir = Path(tempfile.mkdtemp(prefix="powersell-bench-all-"))
    broker = ScratchBroker(settings, workdir)
    verdicts: list[str] = []
    passthrough_rate = None
    try:
        _say(f"[broker] starting a scratch broker for the run at {broker.settings.bootstrap_servers}")
        bench_settings = broker.up()
        if "broker" in args.parts:
            from powersell.benchmarks.broker import markdown_body, measure_broker_limit

            _say(f"[a: broker] Kafka's perf tools, {args.broker_records:,} records of 1 KiB")
            limit = measure_broker_limit(bench_settings, records=args.broker_records,
                                         progress=lambda m: _say(f"[a: broker] {m}"))
            print(write_section("Broker", command, markdown_body(limit) + " In `bench all` the broker is the run's "
                                "scratch broker (same jars and settings as `kafka up`, fresh storage)."))
        if "baselines" in args.parts:
            passthrough_rate = run_baselines(bench_settings, workdir, args, command)
        if "pipeline" in args.parts:
            from powersell.benchmarks.pipeline import PipelineOptions, run_pipeline_bench

            options = PipelineOptions(events=args.events, rate=args.rate, paced_seconds=args.paced_seconds,
                                      window_seconds=args.window_seconds, aggregation=True)
            figures = run_pipeline_bench(bench_settings, workdir, options)
            print(write_section("Full pipeline", command, pipeline_body(figures, passthrough_rate, cores)))
            print(write_section("Scaling", command, scaling_body(figures, cores)))
            verdicts = [line for line in pipeline_targets(figures, passthrough_rate, cores) if line.startswith("- ")]
            # the two targets that need a ratio measured side by side: interleaved rounds, medians, load
            from powersell.benchmarks.aggregation_scaleout import aggregation_scaleout
            from powersell.benchmarks.privacy_share import privacy_vs_passthrough

            _, body = privacy_vs_passthrough(bench_settings, workdir, args.events, args.rounds, cores)
            print(write_section("Privacy worker vs passthrough", command, body))
            verdicts += [line.replace("Target: ", "- ") for line in body.splitlines() if line.startswith("Target: ")]
            _, body = aggregation_scaleout(bench_settings, workdir, args.events, args.rounds, cores)
            print(write_section("Aggregation scale-out", command, body))
            verdicts += [line.replace("Target: ", "- ") for line in body.splitlines() if line.startswith("Target: ")]
        if "profile" in args.parts:  # (g) where the privacy worker's CPU goes: what stands in the way of its target
            from powersell.benchmarks.profile import privacy_worker_profile

            _say("[g: profile] py-spy over the privacy worker while it drains a backlog")
            try:
                body = privacy_worker_profile(bench_settings, workdir, args.events)
            except BenchError as exc:  # py-spy missing or refused (ptrace): the other parts' figures still count
                body = f"Not measured: {exc}"
            print(write_section("Privacy worker profile", command, body))
        if "security" in args.parts:
            print(write_section("Security cost", command, run_security_cost(settings, bench_settings, workdir, args)))
        if "sealing" in args.parts:  # (f) the key store's cost at the connector and in the worker (issue 19)
            from powersell.benchmarks.connector_sync import connectors_body

            _say("[f: sealing] full syncs with sealing on/off, the worker's decryption, seal/open per record")
            print(write_section("Connectors", command, connectors_body(bench_settings, 2, 100, 200,
                                                                       max(3, getattr(args, "rounds", 3)), 1000)))
    finally:
        broker.down()
        shutil.rmtree(workdir, ignore_errors=True)
        for s, handler in previous.items():
            signal.signal(s, handler)
    minutes = (time.monotonic() - started) / 60
    print(write_section(*suite, f"Load average (1/5/15 min): {load_start} at the start, {load_average()} at the end "
                                f"(the machine is shared with other work). {minutes:.1f} minutes. Sections written by "
                                "this run: " + ", ".join({"broker": "Broker", "baselines": "Stream baselines",
                                                          "pipeline": "Full pipeline, Scaling, Privacy worker vs passthrough, "
                                                                      "Aggregation scale-out",
                                                          "profile": "Privacy worker profile",
                                                          "security": "Security cost",
                                                          "sealing": "Connectors"}[p] for p in args.parts)
                                + "." + ("\n\nTargets (details in Full pipeline):\n\n" + "\n".join(verdicts)
                                         if verdicts else "")))
    _say(f"bench all took {minutes:.1f} minutes on {machine()}")
    return 0


def _interrupt(signum, frame):  # noqa: ARG001 (signal handler signature)
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop every process


def run_baselines(settings: Settings, workdir: Path, args, command: str) -> float | None:
    """(b): the baselines interleaved over `--rounds` rounds (powersell.benchmarks.baselines); the faust
    passthrough's median events/s, the reference of every later ratio."""
    from powersell.benchmarks.baselines import FAUST, run_interleaved_baselines

    result, body = run_interleaved_baselines(settings, workdir, args.events, args.rate, args.paced_seconds,
                                             args.rounds, os.cpu_count() or 1)
    print(write_section("Stream baselines", command, body))
    return result[FAUST].median


def run_security_cost(settings: Settings, secured: Settings, workdir: Path, args) -> str:
    """(e) The same events through the kafka-python loop, the faust passthrough and the redaction worker,
    on the secured scratch broker and on an open one started beside it; returns the section's body."""
    from powersell.benchmarks.workers import BenchKafka, bench_order_records, encode_events, run_app

    from powersell.benchmarks.loop import run_loop

    paced_count = max(1, int(args.rate * args.paced_seconds))
    _say(f"[e: security] building and encoding {args.events + paced_count:,} raw order events...")
    events = encode_events(bench_order_records(args.events + paced_count))
    backlog, paced = events[:args.events], events[args.events:]
    open_broker = ScratchBroker(settings, workdir, secured=False, name="open-broker")
    runs = {}
    try:
        for mode, target in (("secured", lambda: secured), ("open", open_broker.up)):
            _say(f"[e: security] the baselines and the redaction worker on the {mode} broker")
            kafka = BenchKafka(target())
            try:
                loop = run_loop(kafka, backlog, paced, args.rate, workdir)
                loop.app = "kafka-python loop"
                runs[mode] = [loop, *(run_app(kafka, app, backlog, paced, args.rate, workdir)
                                      for app in ("passthrough", "redaction"))]
            finally:
                kafka.cleanup()
    finally:
        open_broker.down()
    return security_body(runs["secured"], runs["open"], args.events, args.rate)


def security_body(secured, open_, events: int, rate: float) -> str:
    """Each process's events/s and latency on both brokers, and what TLS + SCRAM cost."""
    from powersell.benchmarks.workers import APP_LABELS

    def ms(x: float | None) -> str:
        return "n/a" if x is None else f"{x:,.0f}"

    rows = []
    for s, o in zip(secured, open_):
        cost = f"{s.events_per_second / o.events_per_second - 1:+.0%}" if o.events_per_second else "n/a"
        rows.append([APP_LABELS.get(s.app, s.app), _n(o.events_per_second), _n(s.events_per_second), cost,
                     f"{ms(o.p50)} / {ms(o.p99)}", f"{ms(s.p50)} / {ms(s.p99)}"])
    return (table(["process", "events/s open", "events/s SASL_SSL", "throughput change", "p50 / p99 ms open",
                   "p50 / p99 ms SASL_SSL"], rows)
            + f"\n\nThe same {events:,} raw order events as backlog, then {rate:,.0f} events/s, through each process "
              "on two scratch brokers of this run: one secured as `kafka up` starts it (TLS 1.3 with the local CA, "
              "SASL/SCRAM-SHA-512, the StandardAuthorizer with the catalog's ACLs; the processes as the operator) "
              "and one open (`kafka up --insecure`). Both brokers run during both measurements; each process runs "
              "alone. Throughput change: how much lower (-) or higher (+) the secured broker's events/s is.")


def add_bench_commands(bench_sub) -> None:
    p = bench_sub.add_parser(
        "all", help="the whole suite on a scratch broker: broker limit, baselines, full pipeline, scaling",
        description="On a scratch broker the run starts and deletes: (a) Kafka's producer and consumer perf tools "
                    "with 1 KiB records; (b) a bare kafka-python loop and a bare faust passthrough on the same raw "
                    "order events; (c) the privacy and aggregation workers as processes at their maximum rate and at "
                    "a fixed rate: events/s per stage, p50/p99 latency to redacted.orders and to "
                    "analytics.aggregates, peak RSS; (d) one and two privacy workers. Prints each table and writes "
                    "BENCHMARKS.md; (e) the baselines and the redaction worker on the secured broker and on an open "
                    "one (the cost of TLS + SCRAM); (f) full syncs with sealing on and off, the worker's decryption "
                    "and seal/open per record (the key store's cost); (g) where the privacy worker's CPU goes (py-spy, from the "
                    "bench extra). About 15 minutes on 2 cores with the defaults. "
                    "Needs Java (and Maven once).")
    p.add_argument("--events", type=int, default=20_000, help="backlog events per backlog phase (default 20000)")
    p.add_argument("--rate", type=float, default=1_000.0, help="the fixed rate, events/s (default 1000)")
    p.add_argument("--paced-seconds", type=float, default=20.0, help="length of each fixed-rate phase (default 20)")
    p.add_argument("--window-seconds", type=float, default=2.0,
                   help="fixed-rate seconds per hourly aggregation window (default 2)")
    p.add_argument("--broker-records", type=int, default=200_000,
                   help="records for Kafka's perf tools (default 200000)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each comparison (default 3)")
    p.add_argument("--parts", type=lambda s: [x.strip() for x in s.split(",") if x.strip()], default=list(PARTS),
                   help="comma-separated subset of broker,baselines,pipeline,profile,security,sealing (default all)")
    p.set_defaults(func=cmd_bench_all)
