"""Property-based tests (Hypothesis) of the Avro decoder and the redaction stage: whatever bytes
arrive, the decoder raises only DecodeError and the stage returns an outcome (redacted, filtered
or dead-lettered with a reason), never an exception, never a hang (each example has a deadline)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_core.avro_codec import HEADER_SIZE, MARKER, default_registry
from pipeline_core.dead_letters import MAX_ORIGINAL_BYTES
from pipeline_core.errors import DecodeError
from pipeline_core.keystore import SecretKey
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.sample_events import sample_events
from pipeline_core.topics import topic
from streams.policy import load_policy
from streams.redaction import Redactor
from streams.redaction_stage import OUTPUTS, DeadLettered, Filtered, Redacted, RedactionStage, StageMetrics
from tests.consent_helpers import granted_book

REGISTRY = default_registry()
VALID = [(name, REGISTRY.encode(topic(name).value_schema, record)) for name, _, record in sample_events()]
FINGERPRINTS = sorted(REGISTRY.known_fingerprints())
BOUNDED = settings(max_examples=150, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw):
    """A valid raw event's bytes, then truncated, extended, or with bytes overwritten."""
    name, data = draw(st.sampled_from(VALID))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "truncate", "append", "insert"]))
        where = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[where:]
        elif action == "append":
            data += draw(st.binary(max_size=64))
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
    return name, bytes(data)


@st.composite
def with_known_header(draw):
    """The marker and a known writer's fingerprint, then any body: the reader gets as far as fastavro."""
    return MARKER + draw(st.sampled_from(FINGERPRINTS)) + draw(st.binary(max_size=512))


any_bytes = st.one_of(st.binary(max_size=2048), with_known_header(), mutated().map(lambda m: m[1]))


@BOUNDED
@given(any_bytes)
def test_when_any_bytes_are_decoded_then_a_record_or_a_decode_error_comes_out(data):
    try:
        name, record = REGISTRY.decode(data)
    except DecodeError as exc:
        assert exc.reason in {"not_single_object", "unknown_fingerprint", "corrupt_body", "schema_mismatch"}
    else:
        assert isinstance(name, str) and isinstance(record, dict) and len(data) >= HEADER_SIZE


@BOUNDED
@given(mutated(), st.sampled_from(sorted(OUTPUTS)))
def test_when_bytes_are_read_as_a_given_schema_then_only_decode_errors_are_raised(item, source):
    try:
        REGISTRY.decode(item[1], reader=topic(source).value_schema)
    except DecodeError:
        pass


def _stage() -> RedactionStage:
    redactor = Redactor(load_policy(), REGISTRY, pseudonym_key=SecretKey(b"p" * 32))
    return RedactionStage(redactor, REGISTRY, StageMetrics(PipelineMetrics()), granted_book(sample_events()))


STAGE = _stage()


@BOUNDED
@given(st.sampled_from(sorted(OUTPUTS)), st.one_of(st.none(), st.binary(max_size=64)),
       st.one_of(st.none(), any_bytes))
def test_when_any_record_reaches_the_stage_then_it_ends_redacted_filtered_or_dead_lettered(source, key, value):
    outcome = STAGE.process(source, 0, 0, key, value)
    assert isinstance(outcome, (Redacted, Filtered, DeadLettered))
    if isinstance(outcome, DeadLettered):
        record = outcome.record
        assert record["reason_code"] == outcome.reason and record["stage"] == "redactor"
        assert record["original_value"] is None or len(record["original_value"]) <= MAX_ORIGINAL_BYTES
        REGISTRY.encode("com.powersell.pipeline.ops.DeadLetter", record)
    elif isinstance(outcome, Redacted):
        REGISTRY.decode(outcome.value)  # what goes downstream is readable


@settings(max_examples=40, deadline=timedelta(seconds=20), suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([v for v in VALID if v[0] in OUTPUTS]),
       st.text(alphabet=st.sampled_from("0123456789 .+-@abcxyzđăâêôơưกขค:/[]()"), max_size=400))
def test_when_free_text_holds_anything_then_the_stage_still_gives_one_outcome(item, text):
    name, data = item
    record = dict(REGISTRY.decode(data)[1])
    for field in ("buyer_note", "description", "shop_description"):
        if field in record:
            record[field] = text
    value = REGISTRY.encode(topic(name).value_schema, record)
    outcome = STAGE.process(name, 0, 0, b"k", value)
    assert isinstance(outcome, (Redacted, Filtered, DeadLettered))
