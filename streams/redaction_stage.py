"""One raw record in, one outcome out: redacted bytes for the downstream topic (plus any
partner shares and audience changes it causes), filtered with the consent reason, or a
dead letter with its reason. Pure of Kafka, so it is unit-tested without a broker; the
Faust agent in app.py only moves bytes. Every record read is counted as produced,
filtered or dead-lettered (records_consumed = produced + filtered + dead_lettered).

The connection gate (R1) runs before redaction and at the event's own time: a shop's
event passes only if its connection consent for that marketplace was granted and not
withdrawn or expired at the event's time. Deny by default.

Then the record's sealed personal fields are opened, in memory only, for redaction (the
connectors seal them under the shop's or the buyer's data key). A record whose key was
destroyed belongs to an erased subject: it is filtered with reason subject_erased (and
counted), never redacted and never dead-lettered (its bytes are unreadable anyway)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pipeline_core.avro_codec import SchemaRegistry
from pipeline_core.dead_letters import dead_letter_record
from pipeline_core.errors import DecodeError, SchemaError
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.sealing import RecordSealer, SealingError, SubjectErased
from pipeline_core.topics import shop_key, topic

from .audiences import AUDIENCE_NAME, Audiences
from .consent import ConsentBook
from .redaction import RedactionError, Redactor
from .sharing import PARTNER_RECORD, WITHDRAWN_AT_SEND, Partner, check_at_send, shares

STAGE = "redactor"
OUTPUTS = {"raw.shops": "redacted.shops", "raw.products": "redacted.products", "raw.orders": "redacted.orders"}


@dataclass(frozen=True)
class Redacted:
    topic: str
    key: bytes | None
    value: bytes
    kinds: Counter
    also: tuple[tuple[str, bytes, bytes | None], ...] = ()  # (topic, key, value or tombstone): shares, audiences


@dataclass(frozen=True)
class Filtered:
    reason: str           # no_consent, consent_withdrawn, consent_expired, subject_erased
    event_id: str | None = field(default=None, compare=False)  # for the ledger (streams.outcome_log)


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
        self.filtered = metrics.counter("records_filtered_total", "Records not passed on, per stage and reason (consent).",
                                        ["stage", "reason"])
        self.decisions = metrics.counter("consent_decisions_total", "Consent decisions, by purpose and outcome.",
                                         ["purpose", "outcome"])
        self.event_age = metrics.histogram("event_age_seconds", "Age of a record's event time when the stage wrote it.",
                                           ["stage"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600))
        self.redactions = metrics.counter("redactions_total", "Personal values redacted, by kind.", ["kind"])
        self.duration = metrics.histogram("processing_duration_seconds", "Time to process one record.", ["stage"],
                                          buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1))
        self.last_processed = metrics.gauge("last_processed_timestamp_seconds", "When the stage last processed a record.",
                                            ["stage"])


    def decided(self, purpose: str, outcome: str) -> None:
        self.decisions.labels(purpose=purpose.lower(), outcome=outcome).inc()


class RedactionStage:
    # Outputs count as produced here, when they are built; the worker (app.py) turns this off and counts them once
    # the broker acknowledged them (issue 15: a refused send must not balance the conservation metric).
    count_produced = True

    def __init__(self, redactor: Redactor, registry: SchemaRegistry, metrics: StageMetrics, consent: ConsentBook,
                 audiences: Audiences | None = None, partners: tuple[Partner, ...] = (),
                 sealer: RecordSealer | None = None, clock=lambda: datetime.now(timezone.utc)):
        """sealer opens the sealed fields; without one, only records written before sealing (plaintext) redact."""
        self.redactor, self.registry, self.metrics, self.sealer = redactor, registry, metrics, sealer
        self.clock = clock  # send time, for sharing decisions
        self.consent, self.audiences, self.partners = consent, audiences, partners
        self._expected = {name: topic(name).value_schema for name in OUTPUTS}

    def process(self, source_topic: str, partition: int, offset: int, key: bytes | None,
                value: bytes | None) -> Redacted | Filtered | DeadLettered:
        started = time.perf_counter()
        self.metrics.consumed.labels(stage=STAGE, topic=source_topic).inc()
        try:
            outcome = self._process(source_topic, partition, offset, key, value)
        finally:
            self.metrics.duration.labels(stage=STAGE).observe(time.perf_counter() - started)
            self.metrics.last_processed.labels(stage=STAGE).set(time.time())
        if isinstance(outcome, Redacted):
            if self.count_produced:
                self.metrics.produced.labels(stage=STAGE, topic=outcome.topic).inc()
            for kind, n in outcome.kinds.items():
                self.metrics.redactions.labels(kind=kind.lower()).inc(n)
        elif isinstance(outcome, Filtered):
            self.metrics.filtered.labels(stage=STAGE, reason=outcome.reason).inc()
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
        subject = shop_key(record["marketplace"], record["shop_id"])
        decision = self.consent.connection(subject, record["marketplace"].lower(), record["event_time"])
        self.metrics.decided(decision.purpose, decision.outcome)
        if not decision.allowed:
            return Filtered(decision.reason, record["event_id"])
        if self.sealer is not None:
            try:
                record = self.sealer.open(name, record)
            except SubjectErased:
                return Filtered("subject_erased", record["event_id"])
            except SealingError as exc:  # names the field, never a value
                return dead("cannot_decrypt", str(exc))
        try:
            out_name, redacted, kinds = self.redactor.redact(name, record)
            out = self.registry.encode(out_name, redacted)
            also = self._shares(OUTPUTS[source_topic], subject, redacted)
            if source_topic == "raw.shops" and self.audiences is not None:
                also += self._audience(self.audiences.shop_seen(subject, record))
        except (RedactionError, SchemaError) as exc:  # messages carry field paths, never values
            return dead("wrong_type", f"record breaks a schema rule: {type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must cost one record, not the worker; the type only: texts may quote values
            return dead("redaction_failed", f"redaction raised {type(exc).__name__}")
        self.metrics.event_age.labels(stage=STAGE).observe(max(0.0, time.time() - record["event_time"].timestamp()))
        return Redacted(OUTPUTS[source_topic], key, out, kinds, also)

    def _shares(self, redacted_topic: str, subject: str, redacted: dict) -> tuple:
        out = []
        for share in shares(self.partners, self.consent, redacted_topic, subject, redacted, self.clock()):
            self.metrics.decided(share.decision.purpose, share.decision.outcome)
            if share.record is not None:
                out.append((share.partner.topic, share.record["event_id"].encode(),
                            self.registry.encode(PARTNER_RECORD, share.record)))  # counted at send (at_send)
        return tuple(out)

    def at_send(self, key: bytes | None, also: tuple) -> tuple:
        """The outputs of one record as they are about to be sent: a partner share whose sharing consent
        was withdrawn since it was built (the consent agent runs between awaits) is dropped. Each share is
        consumed by the sharing stage here and ends filtered (WITHDRAWN_AT_SEND), produced or dead-lettered."""
        check = check_at_send(self.consent, (key or b"").decode("utf-8", "replace"), also, self.clock())
        for topic_name, _, _ in also:
            if topic_name.startswith("partner."):
                self.metrics.consumed.labels(stage="sharing", topic=topic_name).inc()
        for topic_name, decision in check.withdrawn:
            self.metrics.decided(decision.purpose, decision.outcome)
            self.metrics.filtered.labels(stage="sharing", reason=WITHDRAWN_AT_SEND).inc()
        if self.count_produced:
            for topic_name, _, _ in check.send:
                if topic_name.startswith("partner."):
                    self.metrics.produced.labels(stage="sharing", topic=topic_name).inc()
        return check.send

    def unsent(self, also: tuple, reason: str) -> None:
        """Shares that passed at_send but go nowhere (the record's output would not fit): dead-lettered with it."""
        for topic_name, _, _ in also:
            if topic_name.startswith("partner."):
                self.metrics.dead.labels(stage="sharing", reason=reason).inc()

    def audience_changes(self, subject: str) -> tuple:
        """After a consent change of `subject`: who joins or leaves the audiences (called by the consent agent)."""
        return () if self.audiences is None else self._audience(self.audiences.consent_changed(subject))

    def _audience(self, changes) -> tuple:
        out = []
        for change in changes:
            self.metrics.decided(change.decision.purpose, change.decision.outcome)
            value = None if change.record is None else self.registry.encode(AUDIENCE_NAME, change.record)
            out.append((change.topic, change.key.encode(), value))
            if self.count_produced:
                self.metrics.produced.labels(stage="audience", topic=change.topic).inc()
        return tuple(out)
