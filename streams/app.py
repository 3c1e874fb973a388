"""The Faust app of the privacy worker: wiring only. Three agents over pure code:

    consent.events           -> consent agent: ConsentBook (a Faust table) + audience changes
    raw.shops/products/orders -> redact agent: ConsentBarrier, then RedactionStage.process
                                 (connection gate, redaction, partner shares, audiences)
    privacy.erasure-requests -> erasure agent: Eraser.handle_request

Consent and raw topics have the same partition count and the same key partitioning (by
shop), so Faust assigns partition p of each to the same worker and the tables are local.
Faust's own web server is off: table browsing could show personal data; health and
metrics are served by the shared helper."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Callable

import faust
from faust.streams import _current_event
from faust.types import TP

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError
from pipeline_core.security import faust_credentials
from pipeline_core.settings import Settings
from pipeline_core.topics import CATALOG, DATA_PARTITIONS, FOREVER, AccessClass, Topic

from .consent_barrier import ConsentBarrier
from .redaction_stage import OUTPUTS, Filtered, Redacted, RedactionStage

log = logging.getLogger(__name__)
APP_ID = "powersell-redactor"
CONSENT_TOPIC = "consent.events"
ERASURE_TOPIC = "privacy.erasure-requests"
DEAD_LETTER_NAME = "com.powersell.pipeline.ops.DeadLetter"
JSON = faust.Schema(key_serializer="json", value_serializer="json")  # table keys and values


def faust_app(settings: Settings, app_id: str, store: str = "memory://") -> faust.App:
    """The Faust settings every worker of this project uses (and the benchmark's passthrough)."""
    datadir = settings.data_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=f"kafka://{settings.bootstrap_servers.split(',')[0]}",
        broker_credentials=faust_credentials(settings),  # who this worker is to Kafka (pipeline_core.security)
        broker_client_id=app_id,
        datadir=str(datadir),
        store=store,
        web_enabled=False,
        topic_partitions=DATA_PARTITIONS,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
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


def table_writes_follow(event) -> None:
    """Make `event` Faust's current event. Faust writes a table change to the changelog partition of the
    current event, which it sets per event in `stream.events()` but not inside a `take_events` batch."""
    _current_event.set(weakref.ref(event))


def internal_topic(name: str, partitions: int, cleanup: str = "compact") -> Topic:
    return Topic(name, "(faust internal)", AccessClass.INTERNAL, partitions, cleanup, FOREVER, "", "Faust's own topic.")


def faust_internal_topics(app: faust.App, extra: tuple[Topic, ...] = ()) -> tuple[Topic, ...]:
    """Faust's own topics (table changelogs, the assignor's, repartition inputs), to create before the worker
    starts: on a fresh broker Faust subscribes before its own creations are visible, then ignores them."""
    leader = internal_topic(f"{app.conf.id}-__assignor-__leader", 1, "delete")
    changelogs = tuple(internal_topic(t.changelog_topic.get_topic_name(), t.partitions or DATA_PARTITIONS)
                       for t in app.tables.values())
    return (leader, *changelogs, *extra)


def _committed_offsets(settings: Settings, group: str) -> Callable:
    """Where the consent agent starts in partitions it has not processed since the last rebalance."""
    def read(partitions: list[int]) -> dict[int, int]:
        from kafka import KafkaConsumer, TopicPartition

        from pipeline_core.kafka_io import admin_client
        from pipeline_core.lag import committed_offsets
        from pipeline_core.security import kafka_client_config
        tps = [TopicPartition(CONSENT_TOPIC, p) for p in partitions]
        admin = admin_client(settings)
        try:
            committed = committed_offsets(admin, group, tps)
        finally:
            admin.close()
        consumer = KafkaConsumer(**kafka_client_config(settings, enable_auto_commit=False))
        try:
            starts = consumer.beginning_offsets(tps)
        finally:
            consumer.close()
        out = {}
        for tp in tps:
            meta = committed.get(tp)
            out[tp.partition] = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
        return out

    async def start_offsets(partitions: list[int]) -> dict[int, int]:
        return await asyncio.get_running_loop().run_in_executor(None, read, partitions)
    return start_offsets


def build_app(settings: Settings, stage: RedactionStage, app_id: str = APP_ID,
              eraser: Any | None = None) -> faust.App:
    app = faust_app(settings, app_id)
    registry = default_registry()
    raw = app.topic(*OUTPUTS, key_serializer="raw", value_serializer="raw")
    consent_topic = app.topic(CONSENT_TOPIC, key_serializer="raw", value_serializer="raw")
    out_names = set(OUTPUTS.values()) | {t.name for t in CATALOG if t.name.startswith(("partner.", "audience."))}
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in out_names}
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")

    # The consent book and the sealed contacts live in changelog-backed tables: a restarted worker recovers them.
    stage.consent.store = app.Table("consent_state", schema=JSON, partitions=DATA_PARTITIONS)
    if stage.audiences is not None:
        stage.audiences.contacts = app.Table("shop_contacts", schema=JSON, partitions=DATA_PARTITIONS)

    async def end_offsets(partitions: list[int]) -> dict[int, int]:
        """The consent partitions' high watermarks from the consumer's last fetch (no round trip: the same fetch
        that brought the data reported them); a broker query only when none is known yet."""
        known, unknown = {}, []
        for p in partitions:
            try:
                highwater = app.consumer.highwater(TP(CONSENT_TOPIC, p))
            except Exception:  # not assigned here yet (mid-rebalance)
                highwater = None
            if highwater is None:
                unknown.append(p)
            else:
                known[p] = highwater
        if unknown:
            ends = await app.consumer.highwaters(*[TP(CONSENT_TOPIC, p) for p in unknown])
            known.update({tp.partition: offset for tp, offset in ends.items()})
        return known

    barrier = ConsentBarrier(end_offsets, _committed_offsets(settings, app_id))

    async def send_all(also) -> None:
        for topic_name, key, value in also:
            await outputs[topic_name].send(key=key, value=value)

    async def dead_letter(message, reason: str, text: str, stage_name: str) -> None:
        record = dead_letter_record(stage=stage_name, reason=reason, message=text, original_key=message.key,
                                    original_value=message.value, source_topic=message.topic,
                                    source_partition=message.partition, source_offset=message.offset)
        await dead_letters.send(key=message.key, value=registry.encode(DEAD_LETTER_NAME, record),
                                headers=[("reason", reason.encode()), ("stage", stage_name.encode())])

    @app.agent(consent_topic, name="consent")
    async def consent(stream):
        async for event in stream.events():
            message = event.message
            if message.key is not None:
                key = message.key.decode("utf-8", "replace")
                try:
                    record = None if message.value is None else registry.decode(message.value)[1]
                except DecodeError as exc:
                    await dead_letter(message, exc.reason, str(exc), "consent")
                else:
                    if stage.consent.apply(key, record):
                        await send_all(stage.audience_changes(key.split("|", 1)[0]))
            barrier.advanced(message.partition, message.offset + 1)

    @app.agent(raw, name="redact")
    async def redact(stream):
        async for events in stream.take_events(500, within=0.005):
            await barrier.wait(e.message.partition for e in events)
            for event in events:
                table_writes_follow(event)
                message = event.message
                outcome = stage.process(message.topic, message.partition, message.offset, message.key, message.value)
                if isinstance(outcome, Redacted):
                    await outputs[outcome.topic].send(key=outcome.key, value=outcome.value)
                    await send_all(stage.at_send(message.key, outcome.also))  # sharing re-decided at send time
                elif not isinstance(outcome, Filtered):
                    await dead_letters.send(key=message.key, value=registry.encode(DEAD_LETTER_NAME, outcome.record),
                                            headers=[("reason", outcome.reason.encode()), ("stage", b"redactor")])

    if eraser is not None:
        from .erasure import ErasureError, InvalidErasureRequest, already_handled

        @app.agent(app.topic(ERASURE_TOPIC, key_serializer="raw", value_serializer="raw"), name="erase")
        async def erase(stream):
            async for event in stream.events():
                message = event.message
                if already_handled(message.headers):
                    continue  # the `erase` command carried it out and published the receipt itself
                try:
                    await asyncio.get_running_loop().run_in_executor(None, eraser.handle_request, message.value)
                except (DecodeError, InvalidErasureRequest) as exc:
                    await dead_letter(message, getattr(exc, "reason", "wrong_type"), str(exc), "erasure")
                except ErasureError as exc:  # the key may be destroyed already; the request stays on the topic to rerun
                    log.error("erasure incomplete: %s", exc)

    app.ready = False

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        barrier.forget()

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        barrier.forget()
        app.ready = True

    return app
