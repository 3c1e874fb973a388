"""The Faust app of the privacy worker: wiring only. Three agents over pure code:

    consent.events           -> consent agent: ConsentFollower (the ConsentBook, rebuilt from the topic on
                                 assignment, applied in offset order) + audience changes
    raw.shops/products/orders -> redact agent: ConsentBarrier, then RedactionStage.process
                                 (connection gate, redaction, partner shares, audiences)
    privacy.erasure-requests -> erasure agent: Eraser.handle_request

Consent and raw topics have the same partition count and the same key partitioning (by
shop), so Faust assigns partition p of each to the same worker and the tables are local.
Faust's own web server is off: table browsing could show personal data; health and
metrics are served by the shared helper.

Every record read ends in exactly one place: published (counted as produced once the broker
acknowledged it), filtered with its reason, or dead-lettered with its reason. An output that
would exceed the topics' max.message.bytes is dead-lettered as `oversize_output` before it is
sent; a send the broker refuses is dead-lettered as `send_failed`; an unreadable record on any
input (consent.events included) is dead-lettered, and no agent stops on a record."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Producer as AIOKafkaDriverProducer

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError
from pipeline_core.kafka_io import partition_for
from pipeline_core.security import faust_credentials
from pipeline_core.settings import Settings
from pipeline_core.topics import (CATALOG, DATA_PARTITIONS, FAUST_APP_IDS, FOREVER, MAX_MESSAGE_BYTES, AccessClass, Service,
                                  Topic, topic)

from .batch_acks import acknowledged_when_finished
from .commit_flush import ChangesNotAcknowledged, UnacknowledgedSends
from .consent_barrier import ConsentBarrier
from .consent_follower import ConsentFollower, KafkaConsentReader, read_consent
from .delivery import fits, record_size
from .seek_safe_consumer import SeekSafeTransport
from .redaction_stage import OUTPUTS, STAGE, DeadLettered, Filtered, Redacted, RedactionStage
from . import outcome_log

log = logging.getLogger(__name__)
# The privacy worker (`worker redaction`) keeps its first app id: it is its consumer group and the prefix of its
# changelogs and ACLs, so renaming it would be a deployment break (a new group re-reads raw.* from the start).
APP_ID = FAUST_APP_IDS[Service.PRIVACY_WORKER]
CONSENT_TOPIC = "consent.events"
ERASURE_TOPIC = "privacy.erasure-requests"
DEAD_LETTER_NAME = "com.powersell.pipeline.ops.DeadLetter"
JSON = faust.Schema(key_serializer="json", value_serializer="json")  # table keys and values


class SubjectTable(faust.Table):
    """A table keyed by subject (a shop key), or with a single partition. Faust writes a change to the changelog
    partition of its current event, which it does not set inside a `take_events` batch; this table writes it to
    the partition the catalog gives the subject's data and consent instead (`partition_for_key`, Faust's
    documented hook). That is the partition this worker holds for the subject, so the change is recovered by
    whichever worker is assigned the subject after a rebalance."""

    def partition_for_key(self, key: Any) -> int:
        if self.partitions == 1:
            return 0
        consent = topic("consent.events")
        if self.partitions != consent.partitions:
            raise ValueError(f"table {self.name} has {self.partitions} partitions; a subject-keyed table needs the "
                             f"consent topic's {consent.partitions}")
        return partition_for(consent, key)


class IdempotentProducer(AIOKafkaDriverProducer):
    """Every send with acks=all and idempotence, as every producer of the pipeline (Faust turns idempotence on only
    inside transactions): a send retried after a leader change is not written twice. Its flush, which Faust calls
    before every commit, returns only once the table changes queued before it are acknowledged
    (streams.commit_flush); if one never can be, the worker stops instead of committing past it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.unacknowledged = UnacknowledgedSends()

    def _settings_extra(self):
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}

    def send_soon(self, fut) -> None:
        self.unacknowledged.track(fut)
        super().send_soon(fut)

    async def flush(self) -> None:
        await super().flush()
        try:
            await self.unacknowledged.wait_acknowledged(lambda: self.buffer.state == "running")
        except ChangesNotAcknowledged as exc:
            log.error("table changes were not acknowledged (%s); the worker stops before it commits past them", exc)
            await self.crash(exc)
            raise


class PipelineApp(faust.App):
    def _new_producer(self):
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)

    def _new_transport(self):  # a consumer that never takes records fetched before a seek for ones read after it
        return SeekSafeTransport(self.conf.broker_consumer, self)


def faust_app(settings: Settings, app_id: str, store: str = "memory://") -> faust.App:
    """The Faust settings every worker of this project uses (and the benchmark's passthrough)."""
    datadir = settings.data_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return PipelineApp(
        app_id,
        broker=[f"kafka://{host.strip()}" for host in settings.bootstrap_servers.split(",")],  # any node may be down
        broker_credentials=faust_credentials(settings),  # who this worker is to Kafka (pipeline_core.security)
        broker_client_id=app_id,
        datadir=str(datadir),
        store=store,
        web_enabled=False,
        topic_partitions=DATA_PARTITIONS,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_request_size=MAX_MESSAGE_BYTES,  # the topics' max.message.bytes (outputs are checked first)
        # Fewer, fuller produce requests: with Faust's defaults (no linger, 16 KiB batches) a worker draining a backlog
        # spent a tenth of its CPU in socket writes; these gave the privacy worker +15 % events/s (interleaved A/Bs of
        # the real worker, 3 rounds of 10,000 events) for at most 20 ms more latency per send.
        producer_linger=0.02,
        producer_max_batch_size=256 * 1024,
        key_serializer="raw",
        value_serializer="raw",
        Table=SubjectTable,
    )


class JsonLogWorker(faust.Worker):
    """Faust's worker with the pipeline's log format (JSON lines, no payloads) instead of its console format."""

    def __init__(self, *args, json_level: str = "INFO", **kwargs):
        self.json_level = json_level
        super().__init__(*args, **kwargs)

    def on_setup_root_logger(self, logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        from pipeline_core.logs import configure
        configure(self.json_level)


def internal_topic(name: str, partitions: int, cleanup: str = "compact") -> Topic:
    return Topic(name, "(faust internal)", AccessClass.INTERNAL, partitions, cleanup, FOREVER, "", "Faust's own topic.")


def faust_internal_topics(app: faust.App, extra: tuple[Topic, ...] = ()) -> tuple[Topic, ...]:
    """Faust's own topics (table changelogs, the assignor's, repartition inputs), to create before the worker
    starts: on a fresh broker Faust subscribes before its own creations are visible, then ignores them."""
    leader = internal_topic(f"{app.conf.id}-__assignor-__leader", 1, "delete")
    changelogs = tuple(internal_topic(t.changelog_topic.get_topic_name(), t.partitions or DATA_PARTITIONS)
                       for t in app.tables.values())
    return (leader, *changelogs, *extra)


def build_app(settings: Settings, stage: RedactionStage, app_id: str = APP_ID,
              eraser: Any | None = None) -> faust.App:
    app = faust_app(settings, app_id)
    registry = default_registry()
    raw = app.topic(*OUTPUTS, key_serializer="raw", value_serializer="raw")
    consent_topic = app.topic(CONSENT_TOPIC, key_serializer="raw", value_serializer="raw")
    out_names = set(OUTPUTS.values()) | {t.name for t in CATALOG if t.name.startswith(("partner.", "audience."))}
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in out_names}
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")
    outputs[outcome_log.TOPIC] = app.topic(outcome_log.TOPIC, key_serializer="raw", value_serializer="raw")

    # The consent book is rebuilt from consent.events itself (compacted: its own changelog) on assignment;
    # the sealed contacts live in a changelog-backed table: a restarted worker recovers them.
    reader = KafkaConsentReader(settings)
    follower = ConsentFollower(stage.consent, reader, lambda k, v: read_consent(registry, k, v))
    stage.count_produced = False  # counted below, once the broker acknowledged each output
    if stage.audiences is not None:
        stage.audiences.contacts = app.Table("shop_contacts", schema=JSON, partitions=DATA_PARTITIONS)

    # The consent partitions' ends as their leaders report them now (consent_barrier.py says why not the
    # consumer's cached high watermarks).
    barrier = ConsentBarrier(reader.end_offsets, follower)

    async def send(topic_name: str, key: bytes | None, value: bytes | None, headers=None) -> asyncio.Future:
        """The future of the broker's acknowledgement; a send the producer refuses at once is a failed future."""
        channel = dead_letters if topic_name == DEAD_LETTERS else outputs[topic_name]
        try:
            return await channel.send(key=key, value=value, headers=headers)
        except Exception as exc:
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    def dead_headers(record: dict) -> list[tuple[str, bytes]]:
        return [("reason", record["reason_code"].encode()), ("stage", record["stage"].encode())]

    async def dead_letter_sent(record: dict) -> None:
        """Send a dead letter and wait for the acknowledgement. Retried; if the broker keeps refusing, raised: the
        batch is then not committed, so the records are read again after a restart (nothing lost)."""
        value = registry.encode(DEAD_LETTER_NAME, record)
        for attempt in range(1, 4):
            try:
                await (await send(DEAD_LETTERS, record["original_key"], value, dead_headers(record)))
                return
            except Exception as exc:
                if attempt == 3:
                    raise
                log.warning("a dead letter was not acknowledged (%s); retrying", type(exc).__name__)
                await asyncio.sleep(attempt)

    def dead_record(message, reason: str, text: str, stage_name: str) -> dict:
        return dead_letter_record(stage=stage_name, reason=reason, message=text, original_key=message.key,
                                  original_value=message.value, source_topic=message.topic,
                                  source_partition=message.partition, source_offset=message.offset)

    async def dead_letter(message, reason: str, text: str, stage_name: str) -> None:
        await dead_letter_sent(dead_record(message, reason, text, stage_name))

    async def send_acknowledged(entries, stage_of) -> None:
        """Outputs that are not a record's own outcome (audience changes): sent, counted once acknowledged."""
        futures = [(topic_name, await send(topic_name, key, value)) for topic_name, key, value in entries]
        for topic_name, future in futures:
            try:
                await future
            except Exception as exc:  # the audience is recomputed at the subject's next consent change or shop event
                log.error("an output to %s was not acknowledged (%s)", topic_name, type(exc).__name__)
            else:
                stage.metrics.produced.labels(stage=stage_of(topic_name), topic=topic_name).inc()

    def side_stage(topic_name: str) -> str:
        return "sharing" if topic_name.startswith("partner.") else "audience"

    @app.agent(consent_topic, name="consent")
    async def consent(stream):
        async for event in stream.events():
            with acknowledged_when_finished((event,)):  # a stop mid-event must not commit it undecided
                message = event.message
                while True:
                    try:
                        subject = await follower.offer(message.partition, message.offset, message.key, message.value)
                        changes = stage.audience_changes(subject)
                    except DecodeError as exc:  # not a consent record (e.g. a RawShopEvent): the book moved past it
                        await dead_letter(message, exc.reason, str(exc), "consent")
                        stage.metrics.dead.labels(stage="consent", reason=exc.reason).inc()
                        changes = ()
                    except Exception as exc:  # reading a gap from the topic failed: the barrier holds data meanwhile
                        log.warning("consent record not applied yet (%s); retrying", type(exc).__name__)
                        await asyncio.sleep(1.0)
                        continue
                    break
                await send_acknowledged(changes, side_stage)

    def process(message) -> Redacted | Filtered | DeadLettered:
        try:
            return stage.process(message.topic, message.partition, message.offset, message.key, message.value)
        except Exception as exc:  # the stage catches its own failures; anything else costs this record only
            stage.metrics.dead.labels(stage=STAGE, reason="redaction_failed").inc()
            return DeadLettered("redaction_failed", dead_record(
                message, "redaction_failed", f"processing raised {type(exc).__name__}", STAGE))

    async def start_delivery(message, outcome) -> tuple:
        """Send what the outcome says (nothing is awaited here): (message, outcome, [(topic, ack future)])."""
        if isinstance(outcome, Redacted):
            entries = [(outcome.topic, outcome.key, outcome.value), *stage.at_send(message.key, outcome.also)]
            oversize = [(t, record_size(k, v)) for t, k, v in entries if not fits(k, v)]
            if not oversize:
                return message, outcome, [(t, await send(t, k, v)) for t, k, v in entries]
            names = ", ".join(f"{t} ({size} bytes)" for t, size in oversize)
            stage.metrics.dead.labels(stage=STAGE, reason="oversize_output").inc()
            stage.unsent(tuple(entries[1:]), "oversize_output")  # its shares passed at_send: they go with it
            outcome = DeadLettered("oversize_output", dead_record(
                message, "oversize_output", f"the redacted output would exceed the topics' limit of "
                f"{MAX_MESSAGE_BYTES} bytes: {names}", STAGE))
        if isinstance(outcome, DeadLettered):
            value = registry.encode(DEAD_LETTER_NAME, outcome.record)
            return message, outcome, [(DEAD_LETTERS, await send(DEAD_LETTERS, outcome.record["original_key"], value,
                                                                dead_headers(outcome.record)))]
        if isinstance(outcome, Filtered):  # the ledger's record of the decision, acknowledged like any output
            entry = outcome_log.filtered_entry(registry, STAGE, message, outcome.reason, outcome.event_id)
            return message, outcome, [(outcome_log.TOPIC, await send(outcome_log.TOPIC, *entry))]
        return message, outcome, []

    async def settle(message, outcome, futures) -> None:
        """Count each output once the broker acknowledged it; a refused main output is a dead letter."""
        if isinstance(outcome, DeadLettered):
            try:
                await futures[0][1]
            except Exception:
                await dead_letter_sent(outcome.record)  # retried, then raised: the batch is read again
            return
        if isinstance(outcome, Filtered):  # retried, then raised: the batch is read again
            entry = outcome_log.filtered_entry(registry, STAGE, message, outcome.reason, outcome.event_id)
            await outcome_log.acknowledged(futures[0][1], lambda: send(outcome_log.TOPIC, *entry))
            return
        if not isinstance(outcome, Redacted):
            return
        (topic_name, main), *side = futures
        try:
            await main
        except Exception as exc:
            log.warning("a redacted record was not acknowledged (%s); dead-lettered", type(exc).__name__)
            await dead_letter(message, "send_failed", f"sending to {topic_name} failed: {type(exc).__name__}", STAGE)
            stage.metrics.dead.labels(stage=STAGE, reason="send_failed").inc()
        else:
            stage.metrics.produced.labels(stage=STAGE, topic=topic_name).inc()
        for side_topic, future in side:
            try:
                await future
            except Exception as exc:
                await dead_letter(message, "send_failed", f"sending to {side_topic} failed: {type(exc).__name__}",
                                  side_stage(side_topic))
                stage.metrics.dead.labels(stage=side_stage(side_topic), reason="send_failed").inc()
            else:
                stage.metrics.produced.labels(stage=side_stage(side_topic), topic=side_topic).inc()

    @app.agent(raw, name="redact")
    async def redact(stream):
        async for events in stream.take_events(500, within=0.005):
            with acknowledged_when_finished(events):  # a stop mid-batch must not commit what was not decided
                await barrier.wait(e.message.partition for e in events)
                deliveries = []
                for event in events:
                    deliveries.append(await start_delivery(event.message, process(event.message)))
                for delivery in deliveries:  # the batch is acknowledged after this: every record has its place
                    await settle(*delivery)

    if eraser is not None:
        from .erasure import ErasureError, InvalidErasureRequest, already_handled

        @app.agent(app.topic(ERASURE_TOPIC, key_serializer="raw", value_serializer="raw"), name="erase")
        async def erase(stream):
            async for event in stream.events():
                with acknowledged_when_finished((event,)):  # a stop mid-event must not commit it undecided
                    message = event.message
                    if already_handled(message.headers):
                        continue  # the `erase` command carried it out and published the receipt itself
                    try:
                        await asyncio.get_running_loop().run_in_executor(None, eraser.handle_request, message.value)
                    except (DecodeError, InvalidErasureRequest) as exc:
                        await dead_letter(message, getattr(exc, "reason", "wrong_type"), str(exc), "erasure")
                    except ErasureError as exc:  # the key may be destroyed already; the request stays on the topic to rerun
                        log.error("erasure incomplete: %s", exc)
                    except Exception as exc:  # a record must not stop the agent; the type only (texts may quote values)
                        await dead_letter(message, "wrong_type", f"erasure request raised {type(exc).__name__}", "erasure")

    app.ready = False

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        barrier.forget()

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        barrier.forget()
        app.ready = True

    return app
