"""A bare faust-streaming agent that copies records from one topic to another unchanged:
the baseline of `powersell-pipeline bench redaction`. Everything the redaction worker
does besides redacting (consume, commit, produce with acks=all) and nothing else.

`faust_app` builds a Faust app with the same settings as the redaction worker's
(streams/app.py), so the two differ only by what their agent does per record.
"""

from __future__ import annotations

import faust

from pipeline_core.settings import Settings
from pipeline_core.topics import DATA_PARTITIONS

SOURCE = "bench.raw.orders"
SINK = "bench.passthrough.orders"


def faust_app(settings: Settings, app_id: str) -> faust.App:
    """A Faust app configured exactly as streams.app.build_app configures the redaction worker."""
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


def build_passthrough_app(settings: Settings, app_id: str, source: str = SOURCE, sink: str = SINK) -> faust.App:
    app = faust_app(settings, app_id)
    src = app.topic(source, key_serializer="raw", value_serializer="raw")
    out = app.topic(sink, key_serializer="raw", value_serializer="raw")

    @app.agent(src, name="passthrough")
    async def passthrough(stream):
        async for event in stream.events():
            message = event.message
            await out.send(key=message.key, value=message.value)

    return app
