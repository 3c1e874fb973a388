"""The Faust app of the aggregation worker: wiring only, over `streams.aggregation.Aggregator`.

    redacted.orders, redacted.products --forward (route)--> <app>-shards (N partitions) --aggregate--> analytics.aggregates
    timer (every few seconds) ------------tick, to every shard----/

Scaling out (streams/aggregation/shards.py): a disclosure group (window x marketplace x
country) must be decided where all its cells are, so `forward` decodes each record and sends
it to the partition (shard) of its (marketplace, country); products go to every shard for the
category lookup, the owner's copy marked as such. Faust spreads the shards over the workers;
each shard has its own Aggregator, and its state lives in the table's changelog partition and
local RocksDB database of the same number (`ShardTable`, routed by the key, not by Faust's current
event), so N workers publish what one publishes. The timer's ticks
reach every shard through the same topic, which keeps every state change inside an event.
State is backed by RocksDB (rocksdict) with a changelog: a worker killed mid-window recovers
it on restart, and duplicates re-read after the restart change nothing (the aggregator
deduplicates by event and order version).

No record stops the worker: a record that cannot be read or aggregated (bad bytes, a tombstone, a
foreign record on the internal input, an event time far in the future) is dead-lettered with its
reason, once (a product's lookup copies never are). A cell is marked published only once the
broker acknowledged it; one that cannot be encoded (a GMV beyond the schema's decimal(18,2)) is
dead-lettered, the others are published.

The ledger (`powersell-pipeline reconcile`, stage `aggregator`): each forwarded copy carries the
redacted record's position (header `source-position`), so a dead letter and a filtered decision
name the record the ledger knows. Only the exceptions are written per event: a record the owning
shard filtered (late, duplicate, stale) goes to `ops.outcomes` through `streams.outcome_log`, a
batch's decisions sent together and acknowledged before its table writes (and so before its
commit); lookup copies decide nothing and write nothing. A counted record writes nothing: one
outcome per event would double the worker's output to say what the group's committed offsets
already say (a forwarded copy behind its shard partition's committed offset, with no outcome,
was counted)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

import faust

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.settings import Settings
from pipeline_core.topics import DATA_PARTITIONS

from .aggregation import AddOutcome, AggregationError, Aggregator, suppression_counts
from .aggregation.errors import ImplausibleTime
from .aggregation.publish import SCHEMA as AGGREGATE_SCHEMA
from .aggregation.publish import Pending, encode_each
from . import outcome_log
from .batch_acks import acknowledged_when_finished
from .aggregation.shards import LOOKUP_SUFFIX, ShardOwnership, route, split_state_key, state_key
from .aggregation.shardstore import STORE_OPTIONS, store_url
from .app import DEAD_LETTER_NAME, JSON, faust_app, internal_topic
from .redaction_stage import StageMetrics

log = logging.getLogger(__name__)
APP_ID = "powersell-aggregator"
STAGE = "aggregator"
SOURCES = {"com.powersell.pipeline.redacted.RedactedOrderEvent": "redacted.orders",
           "com.powersell.pipeline.redacted.RedactedProductEvent": "redacted.products"}
TICK = b"tick"
INPUT_KEYS = {name.encode() for name in SOURCES.values()}
LOOKUP_KEYS = {name.encode() + LOOKUP_SUFFIX.encode() for name in SOURCES.values()}
FILTER_REASONS = {AddOutcome.DUPLICATE: "duplicate", AddOutcome.STALE: "stale", AddOutcome.LATE: "late"}


class AggregatorMetrics(StageMetrics):
    def __init__(self, metrics: PipelineMetrics):
        super().__init__(metrics)
        self.published = metrics.counter("aggregates_published_total", "Aggregate records published, by granularity.",
                                         ["granularity"])
        self.suppressed = metrics.counter("aggregates_suppressed_total", "Aggregate cells published as suppressed, by "
                                          "reason.", ["reason"])


class ShardTable(faust.Table):
    """The shards' state: a key '<shard>/...' lives in changelog partition <shard>, the shard's input partition,
    so whichever worker is assigned the shard recovers exactly its state (shards.state_key). Its local RocksDB
    store puts the key in database <shard> too (shardstore.ShardStore): neither needs Faust's current event,
    which Faust does not set per event inside a `take_events` batch."""

    def __init__(self, app: faust.App, *, name: str, **kwargs: Any):
        kwargs.setdefault("store", store_url(name))
        kwargs.setdefault("options", dict(STORE_OPTIONS))  # a copy: Faust's store pops keys from it
        super().__init__(app, name=name, **kwargs)

    def partition_for_key(self, key: Any) -> int:
        return split_state_key(key)[0]


def build_aggregation_app(settings: Settings, aggregator: Aggregator, metrics: AggregatorMetrics,
                          tick_seconds: float = 5.0, app_id: str = APP_ID, shards: int = DATA_PARTITIONS) -> faust.App:
    """`aggregator` is the template (rules, windows, noise) of every shard's own Aggregator."""
    # At least once. A batch changes many table keys; a crash between two of those changelog writes is made
    # harmless by Aggregator.load, which recomputes open cells from the (whole) order entries.
    app = faust_app(settings, app_id, store="rocksdb://")
    registry = default_registry()
    redacted = app.topic(*SOURCES.values(), key_serializer="raw", value_serializer="raw")
    merged_name = f"{app_id}-shards"
    merged = app.topic(merged_name, partitions=shards, internal=True, key_serializer="raw", value_serializer="raw")
    app.extra_topics = (internal_topic(merged_name, shards, "delete"),)
    analytics = app.topic("analytics.aggregates", key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")
    outcomes = app.topic(outcome_log.TOPIC, key_serializer="raw", value_serializer="raw")
    state = app.tables.add(ShardTable(app, name="shard_state", schema=JSON, partitions=shards,
                                      beacon=app.tables.beacon))
    held: dict[int, Aggregator] = {}  # shard -> its aggregator, for the shards this worker holds

    def shard_aggregator(shard: int) -> Aggregator:
        """The shard's aggregator; on first use after an assignment, rebuilt from the recovered table."""
        if shard not in held:
            mine = dataclasses.replace(aggregator, owns=ShardOwnership(shard, shards) if shards > 1 else None)
            entries = []
            for key, value in state.items():
                owner, name = split_state_key(key)
                if owner == shard:
                    entries.append((name, value))
            held[shard] = mine.load(entries)
        return held[shard]

    @app.agent(redacted, name="forward")
    async def forward(stream):
        async for event in stream.events():
            with acknowledged_when_finished((event,)):  # a stop mid-event must not commit it undecided
                message = event.message
                metrics.consumed.labels(stage=STAGE, topic=message.topic).inc()
                try:
                    if message.key is None or message.value is None:
                        raise DecodeError("missing_field", f"a record on {message.topic} has no key or no value")
                    name, record = registry.decode(message.value)
                    if SOURCES.get(name) != message.topic:
                        raise DecodeError("schema_mismatch", f"a {name} record does not belong on {message.topic}")
                    copies = route(message.topic, record, shards)
                except DecodeError as exc:
                    await dead_letter(message.key, message.value, message.topic, exc.reason, str(exc),
                                      message.partition, message.offset)
                    continue
                except Exception as exc:  # a record without its group's fields; the type only (texts may quote values)
                    await dead_letter(message.key, message.value, message.topic, "wrong_type",
                                      f"routing raised {type(exc).__name__}", message.partition, message.offset)
                    continue
                source = [outcome_log.source_header(message.partition, message.offset)]  # for the ledger
                try:
                    for copy in copies:
                        key = message.topic + (LOOKUP_SUFFIX if copy.lookup else "")
                        await merged.send(key=key.encode(), value=message.value, partition=copy.shard,
                                          headers=None if copy.lookup else source)
                except Exception as exc:  # refused by the producer (size): the record is kept, the agent goes on
                    await dead_letter(message.key, message.value, message.topic, "send_failed",
                                      f"forwarding to the aggregates' input failed: {type(exc).__name__}",
                                      message.partition, message.offset)

    @app.timer(tick_seconds)
    async def tick():
        for shard in range(shards):
            await merged.send(key=TICK, value=b"", partition=shard)

    async def dead_letter(key: bytes | None, value: bytes | None, source: str | None, reason: str, text: str,
                          partition: int | None = None, offset: int | None = None) -> None:
        record = dead_letter_record(stage=STAGE, reason=reason, message=text, original_key=key, original_value=value,
                                    source_topic=source, source_partition=partition, source_offset=offset)
        sent = await dead_letters.send(key=record["original_key"], value=registry.encode(DEAD_LETTER_NAME, record),
                                       headers=[("reason", reason.encode()), ("stage", STAGE.encode())])
        await sent  # acknowledged before the record counts as dead-lettered
        metrics.dead.labels(stage=STAGE, reason=reason).inc()

    def read(agg: Aggregator, message, now: datetime) -> tuple[AddOutcome, str | None]:
        """Decode and aggregate one input record: (outcome, its event id); raises DecodeError or AggregationError."""
        if message.key is None or message.value is None:
            raise DecodeError("missing_field", "a record on the aggregates' input has no key or no value")
        name, record = registry.decode(message.value)
        topic = SOURCES.get(name)
        if topic is None or topic != message.key.decode("utf-8", "replace").removesuffix(LOOKUP_SUFFIX):
            raise DecodeError("schema_mismatch", f"a {name} record does not belong to the aggregates' input")
        return agg.add(topic, record, now), record.get("event_id")

    def position_of(message) -> tuple[str, int, int]:
        """Where the record this copy stands for was read: the redacted record's position when the copy says so
        (forward's header), else the copy's own."""
        read_at = outcome_log.source_of(message.headers) if message.key in INPUT_KEYS else None
        if read_at is None:
            return merged_name, message.partition, message.offset
        return message.key.decode("utf-8"), *read_at

    async def aggregate_one(agg: Aggregator, message) -> tuple[bytes, bytes] | None:
        """Aggregate one record; the ledger's (key, value) when the owning shard filtered it (sent by the caller)."""
        if message.key == TICK:
            await publish(agg, agg.pending(datetime.now(timezone.utc)))
            return None
        started = time.perf_counter()
        lookup = message.key in LOOKUP_KEYS  # the owner's copy reports this record's problems and outcome
        try:
            outcome, event_id = read(agg, message, datetime.now(timezone.utc))
        except (DecodeError, ImplausibleTime) as exc:
            if not lookup:
                await dead_letter_copy(message, exc.reason, str(exc))
            return None
        except AggregationError as exc:  # messages name the rule broken, never values
            if not lookup:
                await dead_letter_copy(message, "wrong_type", f"{type(exc).__name__}: {exc}")
            return None
        except Exception as exc:  # a bug costs one record, not the worker; the type only (texts may quote values)
            log.error("aggregating a record raised %s; dead-lettered", type(exc).__name__)
            if not lookup:
                await dead_letter_copy(message, "wrong_type", f"aggregating raised {type(exc).__name__}")
            return None
        if lookup:
            return None
        entry = None
        if outcome in FILTER_REASONS:
            metrics.filtered.labels(stage=STAGE, reason=FILTER_REASONS[outcome]).inc()
            entry = outcome_log.filtered_entry_at(registry, STAGE, position_of(message), FILTER_REASONS[outcome],
                                                  event_id)
        metrics.duration.labels(stage=STAGE).observe(time.perf_counter() - started)
        metrics.last_processed.labels(stage=STAGE).set(time.time())
        return entry

    async def dead_letter_copy(message, reason: str, text: str) -> None:
        """Dead-letter a record of the aggregates' input under its source: the redacted record's topic and, when
        the copy says, its position (what the ledger matches)."""
        if message.key in INPUT_KEYS:
            partition, offset = outcome_log.source_of(message.headers) or (None, None)
            source = message.key.decode("utf-8")
        else:
            source, partition, offset = merged_name, message.partition, message.offset
        await dead_letter(message.key, message.value, source, reason, text, partition, offset)

    @app.agent(merged, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(500, within=1.0):
            with acknowledged_when_finished(events):  # a stop mid-batch must not commit what was not decided
                by_shard: dict[int, list] = {}
                for event in events:  # per-shard order is kept; shards are independent
                    by_shard.setdefault(event.message.partition, []).append(event)
                filtered: list[tuple[bytes, bytes]] = []  # the ledger's records of this batch's filtered decisions
                aggregated: list[tuple[int, Aggregator]] = []
                for shard, shard_events in by_shard.items():
                    agg = shard_aggregator(shard)
                    for event in shard_events:
                        entry = await aggregate_one(agg, event.message)
                        if entry is not None:
                            filtered.append(entry)
                    aggregated.append((shard, agg))
                await record_filtered(filtered)  # acknowledged before the table writes, so before the batch commits
                for shard, agg in aggregated:
                    for key, value in agg.changes().items():
                        if value is None:
                            state.pop(state_key(shard, key), None)
                        else:
                            state[state_key(shard, key)] = value

    async def record_filtered(entries: list[tuple[bytes, bytes]]) -> None:
        """Send a batch's filtered decisions together, then wait for each acknowledgement (retried, then raised: the
        batch is not committed and is read again, a duplicate decision at worst)."""
        futures = [(key, value, await outcomes.send(key=key, value=value)) for key, value in entries]
        for key, value, future in futures:
            await outcome_log.acknowledged(future, lambda k=key, v=value: outcomes.send(key=k, value=v))

    async def publish(agg: Aggregator, pending: list[Pending]) -> None:
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
        agg.settle(sent=sent, failed=[p for p, _ in unencodable], retry=retry)
        for reason, n in suppression_counts(p.record for p in sent).items():
            metrics.suppressed.labels(reason=reason).inc(n)

    app.ready = False

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        app.ready = True

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs):  # noqa: ARG001
        for tp in revoked:  # another worker holds the shard now; rebuilt from the table if it comes back
            if tp.topic == merged_name:
                held.pop(tp.partition, None)

    return app
