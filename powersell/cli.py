"""`powersell-pipeline`: the one command line of the pipeline.

Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from importlib.metadata import PackageNotFoundError, version
from typing import Sequence

from kafka.errors import KafkaError

from pipeline_core.avro_codec import jsonable
from pipeline_core.errors import DecodeError, PipelineError
from pipeline_core.logs import configure as configure_logs
from pipeline_core.settings import SETTINGS_DOC, Settings

try:
    VERSION = version("powersell-pipeline")
except PackageNotFoundError:  # running from a checkout without install
    VERSION = "0+checkout"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- kafka
def cmd_kafka(args, settings: Settings) -> int:
    from pipeline_core.kafka_broker import LocalKafka

    if args.action == "compose-secrets":
        from pathlib import Path

        from pipeline_core.compose_secrets import make_compose_secrets
        made = make_compose_secrets(Path(args.dir))
        _say(f"{len(made)} file(s) made in {args.dir} (0700; never commit it)" if made else f"{args.dir} is complete")
        return 0
    broker = LocalKafka(settings, progress=_say, secured=not getattr(args, "insecure", False),
                        nodes=getattr(args, "nodes", None))
    if args.action == "up":
        print(broker.up(timeout=args.timeout))
    elif args.action == "down":
        stopped = broker.down(wipe=args.wipe)
        _say("broker stopped" if stopped else "no broker of ours was running")
        if args.wipe:
            _say(f"removed broker data under {broker.home}")
    else:
        st = broker.status()
        print(json.dumps({"running": st.running, "answering": st.answering, "pid": st.pid,
                          "secured": broker.credentials.secured(),
                          "bootstrap": st.bootstrap, "jars_cached": st.jars_cached, "data_dir": str(st.data_dir),
                          "nodes": st.nodes, "pids": list(st.pids)}))
        return 0 if st.answering else 3
    return 0


# ---------------------------------------------------------------- topics
def cmd_topics(args, settings: Settings) -> int:
    from pipeline_core.topics import CATALOG

    if args.action == "list":
        rows = [(t.name, t.access.value, t.value_schema.rsplit(".", 1)[1], str(t.partitions), t.cleanup,
                 "forever" if t.retention_ms < 0 else f"{t.retention_ms // 86_400_000}d", t.key) for t in CATALOG]
        head = ("TOPIC", "ACCESS", "SCHEMA", "PARTS", "CLEANUP", "RETENTION", "KEY")
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        for r in [head] + rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        return 0
    if args.action == "create":
        from pipeline_core.kafka_io import ensure_topics

        report = ensure_topics(settings)
        _say(f"created {len(report.created)} topic(s), {len(report.existing)} already existed")
        for name in report.created:
            print(name)
        if report.not_permitted:
            _say("warning: this principal may not see or create: " + ", ".join(report.not_permitted))
        from powersell.acl_commands import apply_if_secured
        apply_if_secured(settings, _say)
        if report.mismatched:
            _say("warning: partition count differs from the catalog for: " + ", ".join(report.mismatched))
            return 1
        return 0
    return tail(args, settings)


def tail(args, settings: Settings) -> int:
    from pipeline_core.avro_codec import default_registry
    from pipeline_core.kafka_io import read_topic
    from pipeline_core.sealing import sealed_states
    from pipeline_core.topics import AccessClass, topic

    t = topic(args.name)
    if t.access is AccessClass.RESTRICTED:
        _say(f"note: {t.name} is RESTRICTED: its records hold personal data. Do not copy them elsewhere.")
    registry = default_registry()
    keystore = _keystore_if_any(settings)
    count = erased = 0
    idle = float("inf") if args.follow else args.idle_timeout  # follow: until Ctrl-C
    for key, value, rec in read_topic(settings, t.name, max_records=args.max, idle_timeout=idle,
                                      stop_at_end=not args.follow):
        line = {"topic": t.name, "partition": rec.partition, "offset": rec.offset,
                "key": key.decode("utf-8", "replace") if key is not None else None}
        if value is None:
            line["tombstone"] = True
        else:
            try:
                line["schema"], line["value"] = registry.decode(value)
            except DecodeError as exc:  # one bad record never stops the tail
                line["error"] = exc.reason
            else:
                states = sealed_states(keystore, line["value"]) if keystore is not None else {}
                if states:  # whose keys the sealed values need: a destroyed key is an erased subject
                    line["sealed"] = states
                    line["erased"] = bool(states.get("destroyed"))
                    erased += line["erased"]
        print(json.dumps(jsonable(line), ensure_ascii=False), flush=True)
        count += 1
    _say(f"{count} record(s) from {t.name}" + (f"; {erased} hold values of erased subjects (data keys destroyed: "
                                              "unreadable)" if erased else ""))
    return 0


def _keystore_if_any(settings: Settings):
    """The key store, to say which sealed values belong to erased subjects; None where there is none."""
    from pipeline_core.keystore import KeyStoreError, open_keystore
    try:
        return open_keystore(settings, create=False)
    except (KeyStoreError, OSError):
        return None


# ---------------------------------------------------------------- run (the main job)
def cmd_run(args, settings: Settings) -> int:
    from powersell.main_job import run_pipeline
    return run_pipeline(args, settings)


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(f"  {name:<34}{doc} (default {default})" for name, (default, doc) in SETTINGS_DOC.items())
    parser = argparse.ArgumentParser(
        prog="powersell-pipeline",
        description="PowerSell marketplace data pipeline on Apache Kafka: a local broker, the topic catalog "
                    "and the pipeline's jobs.",
        epilog="configuration (environment variables):\n" + settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    parser.add_argument("--verbose", action="store_true",
                        help="libraries' log lines (kafka, faust, ...) on the console too, not only in "
                             "DATA_DIR/logs/libraries.log")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="the main job: the whole pipeline on this machine for a while, then a summary",
                       description="Start the local Kafka broker, create the topics, start the Shopee, Lazada and "
                                   "TikTok Shop simulators, the connectors (every simulated shop authorises "
                                   "PowerSell first), the webhook receiver, the privacy worker and the aggregation "
                                   "worker, and run for --duration seconds. Meanwhile four shop owners act: one "
                                   "withdraws its connection (and connects again), one opts in to marketing then "
                                   "out, one asks for erasure, one authorises a partner. Then print each promise "
                                   "with what happened and its proof, the published analytics cells with their "
                                   "numbers and why the others were suppressed, events per topic, filtered events "
                                   "and dead letters by reason, one raw order beside its redacted form, the metrics "
                                   "endpoints and a leak scan of every downstream topic. Progress goes to stderr "
                                   "(one updating line per phase on a terminal, plain lines otherwise), the summary "
                                   "to stdout. Exit status 0 when every promise held and nothing leaked. Stops "
                                   "everything it started on exit or Ctrl-C.")
    p.add_argument("--duration", type=float, default=60.0, help="seconds the connectors run (default 60)")
    p.add_argument("--shops", type=int, default=24,
                   help="simulated shops per marketplace, half in Vietnam, half in Thailand (default 24: analytics "
                        "cells need 10 distinct shops; at least 2)")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated data (default 7)")
    p.add_argument("--json", metavar="PATH", default=None,
                   help="also write the summary as one JSON document to PATH (without the raw order's personal "
                        "data); '-' prints the JSON to stdout instead of the text")
    p.add_argument("--keep-kafka", action="store_true", help="leave the broker running at the end")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("kafka", help="start, stop or inspect the local Apache Kafka broker",
                       description="A single-node Apache Kafka 4.x broker (KRaft, broker and controller in one "
                                   "process) on 127.0.0.1, or three such nodes with `up --nodes 3`, its jars resolved "
                                   "from Maven Central with Maven on first use. Needs Java 17+ (and Maven for the first "
                                   "run); `docker compose up kafka` is the alternative.")
    ksub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = ksub.add_parser("up", help="start the broker (idempotent) and print its bootstrap address",
                         description="Resolve the jars if needed, format KRaft storage once, start the broker and "
                                     "wait until it answers a metadata request. A running broker is reused.")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the broker (default 120)")
    up.add_argument("--nodes", type=int, choices=(1, 3), default=None,
                    help="1 broker, or a 3-node cluster on ports POWERSELL_KAFKA_PORT + 0/2/4 (controllers "
                         "POWERSELL_KAFKA_CONTROLLER_PORT + 0/2/4); default: what the data dir holds, else 1")
    up.add_argument("--insecure", action="store_true",
                    help="debugging only: plain text, no authentication, no ACLs (default: SASL_SSL with SCRAM users "
                         "and the catalog's ACLs, credentials in <data dir>/kafka/security)")
    down = ksub.add_parser("down", help="stop the broker started by `kafka up`",
                           description="Stop the broker named by our pid file. --wipe also deletes its data.")
    down.add_argument("--wipe", action="store_true", help="also remove the broker's data (topics, offsets)")
    ksub.add_parser("status", help="print the broker's state as JSON (exit 3 when it does not answer)",
                    description="Print whether our broker runs and answers, its pid, bootstrap address and "
                                "whether the jars are cached. Exit status 0 when it answers, 3 otherwise.")
    cs = ksub.add_parser("compose-secrets", help="make the secrets docker compose mounts (CA, certificates, passwords)",
                         description="Write into --dir what is missing of the secrets docker-compose.yml mounts: the CA "
                                     "and the broker's certificate, a password per principal, the broker's config and "
                                     "its storage format arguments (SCRAM users), Grafana's admin password. Run once "
                                     "before `docker compose up`; the folder is in .gitignore.")
    cs.add_argument("--dir", default="secrets", help="the folder (default ./secrets, beside docker-compose.yml)")
    p.set_defaults(func=cmd_kafka)

    p = sub.add_parser("topics", help="create, list or read the pipeline's topics",
                       description="The topic catalog: every topic with its access class (restricted, internal, "
                                   "downstream), Avro value schema, partitions, cleanup policy and retention.")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    tsub.add_parser("create", help="create every catalog topic that is missing (idempotent)",
                    description="Create every topic of the catalog that does not exist yet.")
    tsub.add_parser("list", help="show the catalog", description="Print the catalog as a table.")
    tl = tsub.add_parser("tail", help="decode a topic's records and print them as JSON lines",
                         description="Read a topic from the beginning, decode each record with the schema named by "
                                     "its fingerprint and print one JSON line per record (timestamps ISO 8601, "
                                     "decimals as strings, bytes as base64). A record that cannot be decoded is "
                                     "printed with its error reason. A record holding sealed values counts them "
                                     "by the state of their keys (\"erased\": true when a key is destroyed: its "
                                     "subject was erased). Stops once it has read every record that was "
                                     "there when it started (or after --max records); with --follow it keeps "
                                     "printing new records until Ctrl-C.")
    tl.add_argument("name", help="topic name, e.g. redacted.orders (see `topics list`)")
    tl.add_argument("--max", type=int, default=None, help="stop after this many records")
    tl.add_argument("--follow", action="store_true", help="keep printing new records until Ctrl-C")
    tl.add_argument("--idle-timeout", type=float, default=5.0,
                    help="without --follow, also stop after this many seconds without a record (default 5)")
    p.set_defaults(func=cmd_topics)

    from connectors.commands import add_commands as add_connector_commands
    add_connector_commands(sub)
    from streams.commands import add_commands as add_stream_commands
    add_stream_commands(sub)
    from powersell.consent_commands import add_commands as add_consent_commands
    add_consent_commands(sub)
    from streams.key_commands import add_commands as add_key_commands
    add_key_commands(sub)
    from streams.erasure_commands import add_commands as add_erasure_commands
    add_erasure_commands(sub)
    from powersell.acl_commands import add_commands as add_acl_commands
    add_acl_commands(sub)
    from powersell.reconcile import add_commands as add_reconcile_commands
    add_reconcile_commands(sub)

    p = sub.add_parser("bench", help="benchmarks: print figures and write them to BENCHMARKS.md",
                       description="Benchmarks measure speed on this machine; each prints a table and keeps it in "
                                   "its section of BENCHMARKS.md. Needs the broker (`kafka up`).")
    bsub = p.add_subparsers(dest="suite", metavar="SUITE", required=True)
    from powersell.benchmarks.connector_sync import add_bench_commands
    add_bench_commands(bsub)
    from powersell.benchmarks.redaction_bench import add_bench_commands as add_stream_bench_commands
    add_stream_bench_commands(bsub)
    from powersell.benchmarks.broker import add_bench_commands as add_broker_bench_commands
    add_broker_bench_commands(bsub)
    from powersell.benchmarks.suite import add_bench_commands as add_suite_bench_commands
    add_suite_bench_commands(bsub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logs(settings.log_level, verbose=args.verbose,
                       library_log=settings.data_dir / "logs" / "libraries.log")
        return args.func(args, settings)
    except PipelineError as exc:
        _say(f"powersell-pipeline: error: {exc}")
        return 2
    except KafkaError as exc:  # messages name topics and brokers, never record values
        _say(f"powersell-pipeline: error: Kafka: {type(exc).__name__}: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
