"""The Faust app of the aggregation worker: wiring only, over `streams.aggregation.Aggregator`.

    redacted.orders, redacted.products --forward--> <app>-input (1 partition) --aggregate--> analytics.aggregates
    timer (every few seconds) ------------tick----/

A cell combines every shop, so all records meet in one partition of an internal topic
(like Faust's own repartition topics); the timer's ticks travel the same way, which keeps
every state change inside an event of that partition (Faust's RocksDB store keeps a change in
the current event's partition). State lives in one table backed by RocksDB (rocksdict) with a changelog:
a worker killed mid-window recovers it on restart, and duplicates re-read after the restart
change nothing (the aggregator deduplicates by event and order version).

No record stops the worker: a record that cannot be read or aggregated (bad bytes, a tombstone, a
foreign record on the internal input, an event time far in the future) is dead-lettered with its
reason. A cell is marked published only once the broker acknowledged it; one that cannot be
encoded (a GMV beyond the schema's decimal(18,2)) is dead-lettered, the others are published."""

from __future__ import annotations

import json
import logging
import time
import weakref
from datetime import datetime, timezone

import faust
from faust.streams import _current_event

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.settings import Settings

from .aggregation import AddOutcome, AggregationError, Aggregator, suppression_counts
from .aggregation.errors import ImplausibleTime
from .aggregation.publish import SCHEMA as AGGREGATE_SCHEMA
from .aggregation.publish import Pending, encode_each
from .app import DEAD_LETTER_NAME, JSON, faust_app, internal_topic
from .redaction_stage import StageMetrics

log = logging.getLogger(__name__)
APP_ID = "powersell-aggregator"
STAGE = "aggregator"
SOURCES = {"com.powersell.pipeline.redacted.RedactedOrderEvent": "redacted.orders",
           "com.powersell.pipeline.redacted.RedactedProductEvent": "redacted.products"}
TICK = b"tick"
INPUT_KEYS = {name.encode() for name in SOURCES.values()}
FILTER_REASONS = {AddOutcome.DUPLICATE: "duplicate", AddOutcome.STALE: "stale", AddOutcome.LATE: "late"}


class AggregatorMetrics(StageMetrics):
    def __init__(self, metrics: PipelineMetrics):
        super().__init__(metrics)
        self.published = metrics.counter("aggregates_published_total", "Aggregate records published, by granularity.",
                                         ["granularity"])
        self.suppressed = metrics.counter("aggregates_suppressed_total", "Aggregate cells published as suppressed, by "
                                          "reason.", ["reason"])


def writes_follow(event) -> None:
    """Make `event` Faust's current event: Faust's RocksDB store puts a table write in the local database of the
    current event's partition, and Faust does not set one inside a `take_events` batch. (The changelog partition
    comes from `SubjectTable.partition_for_key`; the store has no such hook.)"""
    _current_event.set(weakref.ref(event))


def build_aggregation_app(settings: Settings, aggregator: Aggregator, metrics: AggregatorMetrics,
                          tick_seconds: float = 5.0, app_id: str = APP_ID) -> faust.App:
    # At least once. A batch changes many table keys; a crash between two of those changelog writes is made
    # harmless by Aggregator.load, which recomputes open cells from the (whole) order entries.
    app = faust_app(settings, app_id, store="rocksdb://")
    registry = default_registry()
    redacted = app.topic(*SOURCES.values(), key_serializer="raw", value_serializer="raw")
    merged_name = f"{app_id}-input"
    merged = app.topic(merged_name, partitions=1, internal=True, key_serializer="raw", value_serializer="raw")
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
            try:
                await merged.send(key=message.topic.encode(), value=message.value)
            except Exception as exc:  # refused by the producer (size): the record is kept, the agent goes on
                await dead_letter(message.key, message.value, message.topic, "send_failed",
                                  f"forwarding to the aggregates' input failed: {type(exc).__name__}")

    @app.timer(tick_seconds)
    async def tick():
        await merged.send(key=TICK, value=b"")

    async def dead_letter(key: bytes | None, value: bytes | None, source: str | None, reason: str, text: str) -> None:
        record = dead_letter_record(stage=STAGE, reason=reason, message=text, original_key=key, original_value=value,
                                    source_topic=source, source_partition=None, source_offset=None)
        sent = await dead_letters.send(key=record["original_key"], value=registry.encode(DEAD_LETTER_NAME, record),
                                       headers=[("reason", reason.encode()), ("stage", STAGE.encode())])
        await sent  # acknowledged before the record counts as dead-lettered
        metrics.dead.labels(stage=STAGE, reason=reason).inc()

    def read(message, now: datetime) -> AddOutcome:
        """Decode and aggregate one input record; raises DecodeError or AggregationError."""
        if message.key is None or message.value is None:
            raise DecodeError("missing_field", "a record on the aggregates' input has no key or no value")
        name, record = registry.decode(message.value)
        topic = SOURCES.get(name)
        if topic is None or topic != message.key.decode("utf-8", "replace"):
            raise DecodeError("schema_mismatch", f"a {name} record does not belong to the aggregates' input")
        return aggregator.add(topic, record, now)

    @app.agent(merged, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(500, within=1.0):
            if not loaded:  # the table was recovered from its changelog before the agent started
                aggregator.load((k, v) for k, v in state.items())
                loaded.append(True)
            for event in events:
                message = event.message
                if message.key == TICK:
                    await publish(aggregator.pending(datetime.now(timezone.utc)))
                    continue
                started = time.perf_counter()
                source = message.key.decode("utf-8", "replace") if message.key in INPUT_KEYS else merged_name
                try:
                    outcome = read(message, datetime.now(timezone.utc))
                except (DecodeError, ImplausibleTime) as exc:
                    await dead_letter(message.key, message.value, source, exc.reason, str(exc))
                    continue
                except AggregationError as exc:  # messages name the rule broken, never values
                    await dead_letter(message.key, message.value, source, "wrong_type", f"{type(exc).__name__}: {exc}")
                    continue
                except Exception as exc:  # a bug costs one record, not the worker; the type only (texts may quote values)
                    log.error("aggregating a record raised %s; dead-lettered", type(exc).__name__)
                    await dead_letter(message.key, message.value, source, "wrong_type",
                                      f"aggregating raised {type(exc).__name__}")
                    continue
                if outcome in FILTER_REASONS:
                    metrics.filtered.labels(stage=STAGE, reason=FILTER_REASONS[outcome]).inc()
                metrics.duration.labels(stage=STAGE).observe(time.perf_counter() - started)
                metrics.last_processed.labels(stage=STAGE).set(time.time())
            writes_follow(events[-1])  # the input's single partition
            for key, value in aggregator.changes().items():
                if value is None:
                    state.pop(key, None)
                else:
                    state[key] = value

    async def publish(pending: list[Pending]) -> None:
        """Send the due cells; each is settled as sent only once the broker acknowledged it."""
        ready, unencodable = encode_each(pending, lambda record: registry.encode(AGGREGATE_SCHEMA, record))
        for p, why in unencodable:  # aggregates only (no identifier): kept as JSON for whoever looks into it
            await dead_letter(p.text.encode("utf-8"), json.dumps(p.record, default=str).encode("utf-8"),
                              "analytics.aggregates", "encode_failed", why)
        futures = [(p, await analytics.send(key=p.text.encode("utf-8"), value=value)) for p, value in ready]
        sent, retry = [], []
        for p, future in futures:
            try:
                await future
            except Exception as exc:  # not acknowledged: the cell goes out again at the next tick
                log.warning("an aggregate was not acknowledged (%s); it is published again at the next tick",
                            type(exc).__name__)
                retry.append(p)
            else:
                sent.append(p)
                metrics.published.labels(granularity=p.record["granularity"].lower()).inc()
                metrics.produced.labels(stage=STAGE, topic="analytics.aggregates").inc()
        aggregator.settle(sent=sent, failed=[p for p, _ in unencodable], retry=retry)
        for reason, n in suppression_counts(p.record for p in sent).items():
            metrics.suppressed.labels(reason=reason).inc(n)

    app.ready = False

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        app.ready = True

    return app
