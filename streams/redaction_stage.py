"""One raw record in, one outcome out: redacted bytes for the downstream topic, or a
dead letter with its reason. Pure of Kafka, so it is unit-tested without a broker;
the Faust agent in app.py only moves bytes. Every record read is counted as redacted
or dead-lettered, per reason."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from pipeline_core.avro_codec import SchemaRegistry
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError, SchemaError
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.topics import topic

from .redaction import RedactionError, Redactor

STAGE = "redactor"
OUTPUTS = {"raw.shops": "redacted.shops", "raw.products": "redacted.products", "raw.orders": "redacted.orders"}


@dataclass(frozen=True)
class Redacted:
    topic: str
    key: bytes | None
    value: bytes
    kinds: Counter


@dataclass(frozen=True)
class DeadLettered:
    reason: str
    record: dict          # a DeadLetter record for ops.dead-letters


class StageMetrics:
    def __init__(self, metrics: PipelineMetrics):
        self.registry = metrics
        self.consumed = metrics.counter("records_consumed_total", "Records read, per stage and topic.", ["stage", "topic"])
        self.produced = metrics.counter("records_produced_total", "Records written, per stage and topic.", ["stage", "topic"])
        self.dead = metrics.counter("records_dead_lettered_total", "Records dead-lettered, per stage and reason.",
                                    ["stage", "reason"])
        self.redactions = metrics.counter("redactions_total", "Personal values redacted, by kind.", ["kind"])
        self.duration = metrics.histogram("processing_duration_seconds", "Time to process one record.", ["stage"],
                                          buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1))
        self.last_processed = metrics.gauge("last_processed_timestamp_seconds", "When the stage last processed a record.",
                                            ["stage"])


class RedactionStage:
    def __init__(self, redactor: Redactor, registry: SchemaRegistry, metrics: StageMetrics):
        self.redactor, self.registry, self.metrics = redactor, registry, metrics
        self._expected = {name: topic(name).value_schema for name in OUTPUTS}

    def process(self, source_topic: str, partition: int, offset: int, key: bytes | None,
                value: bytes | None) -> Redacted | DeadLettered:
        started = time.perf_counter()
        self.metrics.consumed.labels(stage=STAGE, topic=source_topic).inc()
        try:
            outcome = self._process(source_topic, partition, offset, key, value)
        finally:
            self.metrics.duration.labels(stage=STAGE).observe(time.perf_counter() - started)
            self.metrics.last_processed.labels(stage=STAGE).set(time.time())
        if isinstance(outcome, Redacted):
            self.metrics.produced.labels(stage=STAGE, topic=outcome.topic).inc()
            for kind, n in outcome.kinds.items():
                self.metrics.redactions.labels(kind=kind.lower()).inc(n)
        else:
            self.metrics.dead.labels(stage=STAGE, reason=outcome.reason).inc()
        return outcome

    def _process(self, source_topic, partition, offset, key, value) -> Redacted | DeadLettered:
        def dead(reason: str, message: str) -> DeadLettered:
            return DeadLettered(reason, dead_letter_record(
                stage=STAGE, reason=reason, message=message, original_key=key, original_value=value,
                source_topic=source_topic, source_partition=partition, source_offset=offset))

        if value is None:
            return dead("missing_field", "record has no value (tombstone on a raw topic)")
        try:
            name, record = self.registry.decode(value, reader=self._expected[source_topic])
        except DecodeError as exc:
            return dead(exc.reason, str(exc))
        try:
            out_name, redacted, kinds = self.redactor.redact(name, record)
            out = self.registry.encode(out_name, redacted)
        except (RedactionError, SchemaError) as exc:  # messages carry field paths, never values
            return dead("wrong_type", f"record breaks a schema rule: {type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must cost one record, not the worker; the type only: texts may quote values
            return dead("redaction_failed", f"redaction raised {type(exc).__name__}")
        return Redacted(OUTPUTS[source_topic], key, out, kinds)
