"""`powersell-pipeline worker redaction` and `redact`: the stream processors' side of the command line."""

from __future__ import annotations

import base64
import json
import sys

from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import ConfigError, SchemaError
from pipeline_core.metrics import PipelineMetrics, serve_metrics
from pipeline_core.settings import Settings

from .redact_lines import DEFAULT_MAX_LINE_BYTES

# `worker NAME` -> what the worker is called in help and log lines (its app id stays streams.app.APP_ID)
WORKER_NAMES = {"redaction": "privacy worker", "aggregation": "aggregation worker"}


def build_redactor(settings: Settings):
    from .key_commands import keystore_dir
    from .redaction import Redactor, default_scanner
    from pipeline_core.pseudonyms import pseudonym_key_env
    env = {"POWERSELL_KEYSTORE_DIR": str(keystore_dir(settings)), **pseudonym_key_env(settings.data_dir)}
    return Redactor.from_env(default_registry(), env, scanner=default_scanner())


def record_sealer(settings: Settings):
    """Opens the raw records' sealed fields: the connectors' key store and pseudonym key."""
    from pipeline_core.keystore import open_keystore
    from pipeline_core.pseudonyms import pipeline_pseudonym_key
    from pipeline_core.sealing import RecordSealer
    return RecordSealer(open_keystore(settings), pipeline_pseudonym_key(settings.data_dir), default_registry())


def _privacy_app(settings: Settings, metrics: PipelineMetrics):
    from pipeline_core.kafka_io import AvroPublisher

    from .app import APP_ID, build_app
    from .audiences import Audiences
    from .consent import ConsentBook
    from .erasure import KafkaCompactedLog
    from .erasure_commands import build_eraser
    from .key_commands import open_keystore
    from .redaction_stage import RedactionStage, StageMetrics
    from .sharing import load_partners

    redactor, book = build_redactor(settings), ConsentBook()
    audiences = Audiences(open_keystore(settings), book, {}, redactor.policy.version)
    stage = RedactionStage(redactor, default_registry(), StageMetrics(metrics), book, audiences, load_partners(),
                           sealer=record_sealer(settings))
    publisher = AvroPublisher(settings, client_id="powersell-eraser")
    eraser = build_eraser(settings, publisher, KafkaCompactedLog(settings, producer=publisher.producer))
    return build_app(settings, stage, eraser=eraser), APP_ID, ("raw.shops", "raw.products", "raw.orders")


def _aggregation_app(settings: Settings, metrics: PipelineMetrics, args, max_future):
    from datetime import timedelta

    from .aggregation import Aggregator, DisclosureRules, Granularity, LaplaceNoise, NoiseConfig, WindowPolicy
    from .aggregation_app import APP_ID, AggregatorMetrics, build_aggregation_app

    try:
        rules = DisclosureRules(k=args.k, dominance=args.dominance)
        noise = LaplaceNoise(NoiseConfig(epsilon=args.dp_epsilon)) if args.dp_epsilon else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    windows = WindowPolicy({Granularity.HOURLY: timedelta(hours=args.hourly_lateness),
                            Granularity.DAILY: timedelta(days=args.daily_lateness)})
    aggregator = Aggregator(rules=rules, windows=windows, noise=noise, max_future=max_future)
    app_id = args.app_id or APP_ID
    app = build_aggregation_app(settings, aggregator, AggregatorMetrics(metrics), tick_seconds=args.tick_seconds,
                                app_id=app_id)
    return app, app_id, ("redacted.orders", "redacted.products")


def cmd_worker(args, settings: Settings) -> int:
    from .app import JsonLogWorker

    from pipeline_core.kafka_io import ensure_topics
    from pipeline_core.lag import start_lag_monitor

    if args.name == "aggregation":  # a bad value is refused before anything starts
        from .aggregation.aggregator import parse_max_future
        max_future = parse_max_future(args.max_future)
    ensure_topics(settings)  # the catalog's topics, with their settings, before Faust would declare its own
    metrics = PipelineMetrics()
    component = "redactor" if args.name == "redaction" else "aggregator"
    metrics.build_info("0.1.0", component)
    app, group, topics = (_privacy_app(settings, metrics) if args.name == "redaction"
                          else _aggregation_app(settings, metrics, args, max_future))
    from .app import faust_internal_topics
    ensure_topics(settings, faust_internal_topics(app, getattr(app, "extra_topics", ())))
    server = serve_metrics(metrics, settings.metrics_port if args.metrics_port is None else args.metrics_port,
                           host=settings.bind_host, ready=lambda: app.ready)
    stop_lag = start_lag_monitor(settings, metrics, group=group, stage=component, topics=topics)
    print(f"{WORKER_NAMES[args.name]}: metrics at http://127.0.0.1:{server.port}/metrics", file=sys.stderr, flush=True)
    try:
        JsonLogWorker(app, loglevel=settings.log_level.lower().replace("warning", "warn"), quiet=True,
                      json_level=settings.log_level).execute_from_commandline()
    finally:
        stop_lag()
        server.stop()
    return 0


def cmd_redact(args, settings: Settings) -> int:
    """One output line per input line, in order: text through the free-text engine, or with
    --schema NAME, JSON records through the schema-driven redaction. stdin is read as bytes,
    each line bounded (streams.redact_lines); exit code 1 when a line was refused."""
    from .redact_lines import redact_stream
    if args.max_line_bytes < 1:
        raise ConfigError("--max-line-bytes must be at least 1")
    if args.schema:
        redact_line, refused_line = _record_redactor(settings, args.schema)
    else:
        from .detectors import redact_text
        redact_line, refused_line = (lambda number, text: redact_text(text)[0]), (lambda number: "")
    refused = redact_stream(sys.stdin.buffer, sys.stdout.buffer, sys.stderr, redact_line, args.max_line_bytes,
                            refused_line)
    return 1 if refused else 0


def _record_redactor(settings: Settings, schema: str):
    """(redact_line, refused_line) for JSON records of a raw schema; a bad line becomes an error line."""
    from pipeline_core.avro_codec import jsonable
    redactor = build_redactor(settings)
    registry = default_registry()
    full = next((n for n in registry.names() if n.rsplit(".", 1)[1] == schema or n == schema), None)
    if full is None:
        raise ConfigError(f"unknown schema {schema!r}; for example RawOrderEvent")

    def redact_line(number: int, line: str) -> str:
        try:
            record = registry.decode(registry.encode(full, _from_json(json.loads(line), registry, full)))[1]
            name, redacted, _ = redactor.redact(full, record)
            return json.dumps(jsonable(redacted), ensure_ascii=False)
        except SchemaError as exc:  # our messages name fields, never values
            return json.dumps({"error": type(exc).__name__, "line": number, "message": str(exc)})
        except Exception as exc:  # one bad line never stops the rest; its text is not repeated
            return json.dumps({"error": type(exc).__name__, "line": number})

    return redact_line, lambda number: json.dumps({"error": "LineTooLong", "line": number})


def _from_json(value, registry, full_name):
    """JSON to Avro values: ISO timestamps and decimal strings are converted by the schema."""
    from datetime import datetime
    from decimal import Decimal

    def convert(v, schema):
        if isinstance(schema, list):
            if v is None:
                return None
            for branch in schema:
                if branch != "null":
                    return convert(v, branch)
        if schema == "bytes" and isinstance(v, str) and v.startswith("base64:"):  # as `topics tail` prints bytes
            return base64.b64decode(v[len("base64:"):])
        if isinstance(schema, dict):
            logical = schema.get("logicalType")
            if logical == "timestamp-millis" and isinstance(v, str):
                return datetime.fromisoformat(v.replace("Z", "+00:00"))
            if logical == "decimal" and isinstance(v, (str, int, float)):
                return Decimal(str(v))
            if schema.get("type") == "record":
                return {f["name"]: convert(v.get(f["name"]), f["type"]) for f in schema["fields"]} if isinstance(v, dict) else v
            if schema.get("type") == "array" and isinstance(v, list):
                return [convert(x, schema["items"]) for x in v]
        return v

    return convert(value, registry.parsed(full_name))


def add_commands(sub) -> None:
    p = sub.add_parser("worker", help="run a stream worker: redaction (the privacy worker) or aggregation",
                       description="Run a faust-streaming worker. `redaction` (the privacy worker) reads consent.events "
                                   "and raw.shops/products/orders, passes only events of shops whose connection consent "
                                   "held at the event's time, redacts personal data as the policy file says and writes "
                                   "redacted.*, partner.* and audience.*; it also carries out erasure requests. "
                                   "`aggregation` turns redacted orders and products into anonymised statistics on "
                                   "analytics.aggregates (hourly and daily windows, small cells and dominated cells "
                                   "suppressed). Records that cannot be decoded go to ops.dead-letters with the reason.")
    p.add_argument("name", choices=list(WORKER_NAMES), help="which worker: redaction (the privacy worker) or aggregation")
    p.add_argument("--metrics-port", type=int, default=None, help="port for /metrics, /healthz, /readyz "
                                                                  "(default POWERSELL_METRICS_PORT)")
    g = p.add_argument_group("aggregation options")
    g.add_argument("--k", type=int, default=10, help="publish a cell only with at least K distinct shops and K distinct "
                                                     "buyers (default 10)")
    g.add_argument("--dominance", type=float, default=0.5, help="suppress a cell where one shop has more than this share "
                                                                "of GMV (default 0.5)")
    g.add_argument("--hourly-lateness", type=float, default=48.0, help="hours an hourly window accepts late events "
                                                                        "(default 48)")
    g.add_argument("--daily-lateness", type=float, default=62.0, help="days a daily window accepts late events; covers a "
                                                                      "new shop's first sync (default 62)")
    g.add_argument("--dp-epsilon", type=float, default=None, help="add Laplace noise with this epsilon per record "
                                                                  "(differential privacy; off by default)")
    g.add_argument("--max-future", default="1d", metavar="DURATION",
                   help="dead-letter (reason implausible_time) an order or product stamped more than this ahead of "
                        "the wall clock, so it never moves the watermark: a duration with its unit, s, m, h or d, "
                        "e.g. 12h or 2d (default 1d)")
    g.add_argument("--tick-seconds", type=float, default=5.0, help="how often due windows are published (default 5)")
    g.add_argument("--app-id", default=None, help="Faust app id (consumer group, internal topics); default "
                                                  "powersell-aggregator. Another id aggregates the same input afresh")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("redact", help="redact text lines (or JSON records) from stdin to stdout",
                       description="Reads lines on stdin and writes the redacted lines to stdout, one output line "
                                   "per input line, in order, with the pipeline's engine: personal data in free text "
                                   "becomes typed placeholders such as [PHONE]. With --schema NAME each line is a JSON "
                                   "record of that raw schema (e.g. RawOrderEvent) redacted field by field. stdin is "
                                   "read as bytes: invalid UTF-8 is replaced (U+FFFD) and the line still comes out.")
    p.add_argument("--schema", default=None, help="raw schema of JSON records, e.g. RawOrderEvent")
    p.add_argument("--max-line-bytes", type=int, default=DEFAULT_MAX_LINE_BYTES, metavar="N",
                   help="refuse a line longer than N bytes: it is reported on stderr (number and size, never its "
                        "content), comes out as an empty line (an error record with --schema) and the exit code "
                        f"is 1; the other lines carry on (default {DEFAULT_MAX_LINE_BYTES}, 1 MiB)")
    p.set_defaults(func=cmd_redact)
