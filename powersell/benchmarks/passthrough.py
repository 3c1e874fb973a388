"""A bare faust-streaming agent that copies records from one topic to another unchanged:
the baseline of `powersell-pipeline bench redaction`. Everything the redaction worker
does besides redacting (consume, commit, produce with acks=all) and nothing else.

It uses the redaction worker's own Faust settings (streams.app.faust_app), so the two
differ only by what their agent does per record.
"""

from __future__ import annotations

import faust

from pipeline_core.settings import Settings

from streams.app import faust_app

SOURCE = "bench.raw.orders"
SINK = "bench.passthrough.orders"


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
