"""The worker's pure stage: every record read ends redacted or dead-lettered with a reason."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.sample_events import sample_events
from pipeline_core.keystore import SecretKey
from streams.policy import load_policy
from streams.redaction import Redactor
from streams.consent import ConsentBook
from streams.redaction_stage import DeadLettered, Redacted, RedactionStage, StageMetrics
from tests.consent_helpers import granted_book

KEY = SecretKey(b"k" * 32)
_PHONE = re.compile(r"\+?\d[\d .-]{7,}\d")


def scanner(text):  # a stand-in for the detection engine: the stage is what is tested here
    found = Counter()

    def sub(match):
        found["phone"] += 1
        return "[PHONE]"
    return _PHONE.sub(sub, text), found


@pytest.fixture
def stage():
    registry = default_registry()
    metrics = StageMetrics(PipelineMetrics())
    return RedactionStage(Redactor(load_policy(), registry, pseudonym_key=KEY, scanner=scanner), registry, metrics,
                          granted_book(sample_events()))


def counter(the_stage, name, **labels):
    return the_stage.metrics.registry.registry.get_sample_value(name, labels) or 0.0


def test_when_raw_events_arrive_then_redacted_events_go_to_the_matching_topic_with_the_same_key(stage):
    registry = default_registry()
    for offset, (topic, key, record) in enumerate(sample_events()):
        out = stage.process(topic, 0, offset, key.encode(), registry.encode(topic_schema(topic), record))
        assert isinstance(out, Redacted), out
        assert out.topic == topic.replace("raw.", "redacted.") and out.key == key.encode()
        name, redacted = registry.decode(out.value)
        assert name.endswith("Redacted" + topic_schema(topic).rsplit(".Raw", 1)[1])
        assert redacted["event_id"] == record["event_id"] and redacted["policy_version"]
    assert counter(stage, "powersell_records_produced_total", stage="redactor", topic="redacted.orders") == 3
    assert counter(stage, "powersell_redactions_total", kind="person_name") >= 3


def topic_schema(topic):
    from pipeline_core.topics import topic as t
    return t(topic).value_schema


@pytest.mark.parametrize("value, reason", [
    (b"", "not_single_object"),
    (b"{\"json\": true}", "not_single_object"),
    (b"\xc3\x01" + b"\x00" * 8 + b"body", "unknown_fingerprint"),
    (None, "missing_field"),
])
def test_when_a_record_cannot_be_decoded_then_it_is_dead_lettered_with_its_reason_and_bytes(stage, value, reason):
    out = stage.process("raw.orders", 2, 41, b"shopee:1", value)
    assert isinstance(out, DeadLettered) and out.reason == reason
    assert out.record["source_topic"] == "raw.orders" and out.record["source_offset"] == 41
    assert out.record["original_value"] == value and out.record["reason_code"] == reason
    default_registry().encode("com.powersell.pipeline.ops.DeadLetter", out.record)  # a valid dead letter


def test_when_a_body_is_corrupt_then_the_reason_is_corrupt_body(stage):
    registry = default_registry()
    topic, key, record = sample_events()[2]
    good = registry.encode(topic_schema(topic), record)
    out = stage.process(topic, 0, 0, key.encode(), good[:-7])
    assert isinstance(out, DeadLettered) and out.reason == "corrupt_body"


def test_when_a_topic_carries_another_schema_then_it_is_dead_lettered_as_a_mismatch(stage):
    registry = default_registry()
    topic, key, record = sample_events()[1]  # a product on the orders topic
    out = stage.process("raw.orders", 0, 0, key.encode(), registry.encode(topic_schema(topic), record))
    assert isinstance(out, DeadLettered) and out.reason == "schema_mismatch"


def test_every_record_read_is_accounted_for(stage):
    registry = default_registry()
    events = sample_events()
    inputs = [(t, registry.encode(topic_schema(t), r)) for t, _, r in events] + [("raw.orders", b"junk")] * 2
    for offset, (topic, value) in enumerate(inputs):
        stage.process(topic, 0, offset, b"k", value)
    consumed = sum(counter(stage, "powersell_records_consumed_total", stage="redactor", topic=t)
                   for t in ("raw.shops", "raw.products", "raw.orders"))
    produced = sum(counter(stage, "powersell_records_produced_total", stage="redactor", topic=t)
                   for t in ("redacted.shops", "redacted.products", "redacted.orders"))
    dead = counter(stage, "powersell_records_dead_lettered_total", stage="redactor", reason="not_single_object")
    assert consumed == len(inputs) == produced + dead


def test_every_detector_kind_is_declared_for_metrics_labels():
    from schemas import FREE_TEXT_KINDS
    from streams.detectors import DETECTORS
    assert {d.kind for d in DETECTORS} <= FREE_TEXT_KINDS


def test_when_redaction_itself_fails_then_one_record_is_dead_lettered_and_no_value_is_quoted(stage, monkeypatch):
    registry = default_registry()
    topic_name, key, record = sample_events()[2]

    def broken(name, rec):
        raise ValueError(f"cannot handle {rec['recipient']['name']}")  # a bug that quotes a value
    monkeypatch.setattr(stage.redactor, "redact", broken)
    out = stage.process(topic_name, 0, 7, key.encode(), registry.encode(topic_schema(topic_name), record))
    assert isinstance(out, DeadLettered) and out.reason == "redaction_failed"
    assert record["recipient"]["name"] not in out.record["error_message"]


# ---------------------------------------------------------------- sealed records (schema v2)
@pytest.fixture
def sealed_stage(tmp_path):
    from pipeline_core.keystore import LocalKeyStore
    from pipeline_core.sealing import RecordSealer
    registry = default_registry()
    sealer = RecordSealer(LocalKeyStore.in_dir(tmp_path / "keys"), KEY, registry)
    the_stage = RedactionStage(Redactor(load_policy(), registry, pseudonym_key=KEY, scanner=scanner), registry,
                               StageMetrics(PipelineMetrics()), granted_book(sample_events()), sealer=sealer)
    return the_stage, sealer


def test_when_records_are_sealed_then_the_stage_opens_them_and_redacts_as_from_plaintext(stage, sealed_stage):
    sealed, sealer = sealed_stage
    registry = default_registry()
    for offset, (topic, key, record) in enumerate(sample_events()):
        name = topic_schema(topic)
        plain_out = stage.process(topic, 0, offset, key.encode(), registry.encode(name, record))
        sealed_out = sealed.process(topic, 0, offset, key.encode(), registry.encode(name, sealer.seal(name, record)))
        assert isinstance(sealed_out, Redacted), sealed_out
        assert registry.decode(sealed_out.value)[1] == registry.decode(plain_out.value)[1]
        assert sealed_out.kinds == plain_out.kinds


def test_when_a_subject_was_erased_then_its_records_are_filtered_as_subject_erased_and_counted(sealed_stage):
    from streams.redaction_stage import Filtered
    the_stage, sealer = sealed_stage
    registry = default_registry()
    orders = [(key, record) for topic, key, record in sample_events() if topic == "raw.orders"]
    values = [registry.encode(topic_schema("raw.orders"), sealer.seal(topic_schema("raw.orders"), r)) for _, r in orders]
    erased = sealer.subjects(topic_schema("raw.orders"), orders[0][1])["buyer"]
    assert sealer.keystore.destroy(erased)
    out = [the_stage.process("raw.orders", 0, i, k.encode(), v) for i, ((k, _), v) in enumerate(zip(orders, values))]
    assert out[0] == Filtered("subject_erased")
    assert all(isinstance(o, Redacted) for o in out[1:])
    assert counter(the_stage, "powersell_records_filtered_total", stage="redactor", reason="subject_erased") == 1


def test_when_a_sealed_field_holds_garbage_then_the_record_is_dead_lettered_as_cannot_decrypt(sealed_stage):
    the_stage, sealer = sealed_stage
    registry = default_registry()
    topic, key, record = next(e for e in sample_events() if e[0] == "raw.shops")
    sealed = {**sealer.seal(topic_schema(topic), record), "shop_name": b"\x02\x03abc" + b"\x00" * 40}
    out = the_stage.process(topic, 0, 7, key.encode(), registry.encode(topic_schema(topic), sealed))
    assert isinstance(out, DeadLettered) and out.reason == "cannot_decrypt"
    assert "shop_name" in out.record["error_message"]
