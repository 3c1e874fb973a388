"""The Faust app of the aggregation worker: wiring only, over `streams.aggregation.Aggregator`.

    redacted.orders, redacted.products --forward--> <app>-input (1 partition) --aggregate--> analytics.aggregates
    timer (every few seconds) ------------tick----/

A cell combines every shop, so all records meet in one partition of an internal topic
(like Faust's own repartition topics); the timer's ticks travel the same way, which keeps
every state change inside an event (Faust writes table changes to the changelog of the
event's partition). State lives in one table backed by RocksDB (rocksdict) with a changelog:
a worker killed mid-window recovers it on restart, and duplicates re-read after the restart
change nothing (the aggregator deduplicates by event and order version)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import faust

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.settings import Settings

from .aggregation import AddOutcome, AggregationError, Aggregator, suppression_counts
from .aggregation.publish import SCHEMA as AGGREGATE_SCHEMA
from .app import DEAD_LETTER_NAME, JSON, faust_app, internal_topic, table_writes_follow
from .redaction_stage import StageMetrics

log = logging.getLogger(__name__)
APP_ID = "powersell-aggregator"
STAGE = "aggregator"
SOURCES = {"com.powersell.pipeline.redacted.RedactedOrderEvent": "redacted.orders",
           "com.powersell.pipeline.redacted.RedactedProductEvent": "redacted.products"}
TICK = b"tick"
FILTER_REASONS = {AddOutcome.DUPLICATE: "duplicate", AddOutcome.STALE: "stale", AddOutcome.LATE: "late"}


class AggregatorMetrics(StageMetrics):
    def __init__(self, metrics: PipelineMetrics):
        super().__init__(metrics)
        self.published = metrics.counter("aggregates_published_total", "Aggregate records published, by granularity.",
                                         ["granularity"])
        self.suppressed = metrics.counter("aggregates_suppressed_total", "Aggregate cells published as suppressed, by "
                                          "reason.", ["reason"])


def build_aggregation_app(settings: Settings, aggregator: Aggregator, metrics: AggregatorMetrics,
                          tick_seconds: float = 5.0, app_id: str = APP_ID) -> faust.App:
    # At least once. A batch changes many table keys; a crash between two of those changelog writes is made
    # harmless by Aggregator.load, which recomputes open cells from the (whole) order entries.
    app = faust_app(settings, app_id, store="rocksdb://")
    registry = default_registry()
    redacted = app.topic(*SOURCES.values(), key_serializer="raw", value_serializer="raw")
    merged = app.topic(f"{app_id}-input", partitions=1, internal=True, key_serializer="raw", value_serializer="raw")
    app.extra_topics = (internal_topic(f"{app_id}-input", 1, "delete"),)
    analytics = app.topic("analytics.aggregates", key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")
    state = app.Table("aggregates", schema=JSON, partitions=1)
    loaded = []

    @app.agent(redacted, name="forward")
    async def forward(stream):
        async for event in stream.events():
            message = event.message
            metrics.consumed.labels(stage=STAGE, topic=message.topic).inc()
            await merged.send(key=message.topic.encode(), value=message.value)

    @app.timer(tick_seconds)
    async def tick():
        await merged.send(key=TICK, value=b"")

    async def dead_letter(message, reason: str, text: str) -> None:
        record = dead_letter_record(stage=STAGE, reason=reason, message=text, original_key=message.key,
                                    original_value=message.value, source_topic=message.key.decode("utf-8", "replace"),
                                    source_partition=None, source_offset=None)
        await dead_letters.send(key=message.key, value=registry.encode(DEAD_LETTER_NAME, record),
                                headers=[("reason", reason.encode()), ("stage", STAGE.encode())])
        metrics.dead.labels(stage=STAGE, reason=reason).inc()

    @app.agent(merged, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(500, within=1.0):
            if not loaded:  # the table was recovered from its changelog before the agent started
                aggregator.load((k, v) for k, v in state.items())
                loaded.append(True)
            for event in events:
                message = event.message
                if message.key == TICK:
                    await publish(aggregator.due(datetime.now(timezone.utc)))
                    continue
                started = time.perf_counter()
                try:
                    name, record = registry.decode(message.value)
                    topic = SOURCES.get(name)
                    if topic is None or topic != message.key.decode("utf-8", "replace"):
                        raise DecodeError("schema_mismatch", f"a {name} record does not belong to the aggregates' input")
                    outcome = aggregator.add(topic, record)
                except DecodeError as exc:
                    await dead_letter(message, exc.reason, str(exc))
                    continue
                except AggregationError as exc:  # messages name the rule broken, never values
                    await dead_letter(message, "wrong_type", f"{type(exc).__name__}: {exc}")
                    continue
                if outcome in FILTER_REASONS:
                    metrics.filtered.labels(stage=STAGE, reason=FILTER_REASONS[outcome]).inc()
                metrics.duration.labels(stage=STAGE).observe(time.perf_counter() - started)
                metrics.last_processed.labels(stage=STAGE).set(time.time())
            table_writes_follow(events[-1])  # the input's single partition
            for key, value in aggregator.changes().items():
                if value is None:
                    state.pop(key, None)
                else:
                    state[key] = value

    async def publish(records) -> None:
        for key, record in records:
            await analytics.send(key=key.encode("utf-8"), value=registry.encode(AGGREGATE_SCHEMA, record))
            metrics.published.labels(granularity=record["granularity"].lower()).inc()
            metrics.produced.labels(stage=STAGE, topic="analytics.aggregates").inc()
        for reason, n in suppression_counts(r for _, r in records).items():
            metrics.suppressed.labels(reason=reason).inc(n)

    app.ready = False

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        app.ready = True

    return app
