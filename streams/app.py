"""The Faust app of the redaction worker: wiring only. Topics in, `RedactionStage.process`
(pure, unit-tested) in the middle, topics out. Faust's own web server is off: table
browsing could show personal data; health and metrics are served by the shared helper."""

from __future__ import annotations

import faust

from pipeline_core.avro_codec import default_registry
from pipeline_core.dead_letters import TOPIC as DEAD_LETTERS
from pipeline_core.settings import Settings
from pipeline_core.topics import DATA_PARTITIONS

from .redaction_stage import OUTPUTS, Redacted, RedactionStage

APP_ID = "powersell-redactor"


def faust_app(settings: Settings, app_id: str) -> faust.App:
    """The Faust settings every worker of this project uses (and the benchmark's passthrough)."""
    datadir = settings.data_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=f"kafka://{settings.bootstrap_servers.split(',')[0]}",
        broker_client_id=app_id,
        datadir=str(datadir),
        store="memory://",
        web_enabled=False,
        topic_partitions=DATA_PARTITIONS,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
    )


def build_app(settings: Settings, stage: RedactionStage, app_id: str = APP_ID) -> faust.App:
    app = faust_app(settings, app_id)
    raw = app.topic(*OUTPUTS, key_serializer="raw", value_serializer="raw")
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in OUTPUTS.values()}
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")
    registry = default_registry()

    @app.agent(raw, name="redact")
    async def redact(stream):
        async for event in stream.events():
            message = event.message
            outcome = stage.process(message.topic, message.partition, message.offset, message.key, message.value)
            if isinstance(outcome, Redacted):
                await outputs[outcome.topic].send(key=outcome.key, value=outcome.value)
            else:
                await dead_letters.send(key=message.key,
                                        value=registry.encode("com.powersell.pipeline.ops.DeadLetter", outcome.record),
                                        headers=[("reason", outcome.reason.encode()), ("stage", b"redactor")])

    app.ready = False

    @app.on_partitions_assigned.connect
    async def on_assigned(sender, assigned, **kwargs):  # noqa: ARG001 (Faust's signal signature)
        app.ready = True

    return app
