"""Single-object Avro codec: header layout, round trips, interop with the reference
`avro` library, schema evolution through decode, and every error path.

Runs against small schemas written into tmp_path and against every real schema in
schemas/ (current and previous/).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import random
import traceback
import uuid
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import fastavro
import fastavro.utils
import pytest

from pipeline_core.avro_codec import (
    DECODE_REASONS,
    HEADER_SIZE,
    MARKER,
    SCHEMA_DIR,
    SchemaRegistry,
    default_registry,
    schema_fingerprint,
)
from pipeline_core.errors import DecodeError, SchemaError

NS = "com.powersell.pipeline.test"
CANARY = "canary-4242@example.com"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}

ADDRESS: dict[str, Any] = {
    "type": "record",
    "name": "Address",
    "doc": "A postal address.",
    "fields": [
        {"name": "city", "type": "string", "doc": "City.", "pii": "location_region"},
        {"name": "line", "type": ["null", "string"], "default": None, "doc": "Street.", "pii": "postal_address"},
    ],
}
SAMPLE: dict[str, Any] = {
    "type": "record",
    "name": "Sample",
    "namespace": NS,
    "doc": "Every kind of type the real schemas use.",
    "fields": [
        {"name": "email", "type": "string", "doc": "Buyer email.", "pii": "email"},
        {"name": "count", "type": "int", "doc": "A count."},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When."},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
            "doc": "Money.",
        },
        {
            "name": "kind",
            "type": {"type": "enum", "name": "Kind", "doc": "Kinds.", "symbols": ["ORDER", "REFUND"]},
            "doc": "Kind.",
        },
        {"name": "address", "type": ["null", ADDRESS], "default": None, "doc": "Where."},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "doc": "Tags."},
        {"name": "attributes", "type": {"type": "map", "values": "long"}, "doc": "Attributes."},
        {"name": "ratio", "type": ["null", "double"], "default": None, "doc": "A ratio."},
        {"name": "flag", "type": "boolean", "default": False, "doc": "A flag."},
    ],
}
SAMPLE_NAME = f"{NS}.Sample"
PLAIN: dict[str, Any] = {  # no logical types: the reference library's own fingerprint is right for it
    "type": "record",
    "name": "Plain",
    "namespace": NS,
    "doc": "Primitives only.",
    "fields": [{"name": "id", "type": "string", "doc": "Id."}, {"name": "n", "type": "long", "doc": "N."}],
}
USER_V1: dict[str, Any] = {
    "type": "record",
    "name": "User",
    "namespace": NS,
    "doc": "A user, version 1.",
    "fields": [
        {"name": "id", "type": "string", "doc": "Id."},
        {"name": "email", "type": "string", "doc": "Email.", "pii": "email"},
    ],
}
USER_V2: dict[str, Any] = {  # adds a field with a default: can read version 1 data
    **USER_V1,
    "doc": "A user, version 2.",
    "fields": USER_V1["fields"] + [{"name": "country", "type": "string", "default": "VN", "doc": "Country."}],
}
USER_V3_BROKEN: dict[str, Any] = {  # adds a field without a default: cannot read version 1 data
    **USER_V1,
    "fields": USER_V1["fields"] + [{"name": "age", "type": "int", "doc": "Age."}],
}

REAL_FILES = sorted(SCHEMA_DIR.glob("*.avsc")) + sorted((SCHEMA_DIR / "previous").glob("*.avsc"))
REAL_CURRENT = sorted(SCHEMA_DIR.glob("*.avsc"))


def full_name(definition: dict[str, Any]) -> str:
    name = definition["name"]
    return name if "." in name or not definition.get("namespace") else f"{definition['namespace']}.{name}"


def write_schemas(folder: Path, current: dict[str, dict], previous: dict[str, dict] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "previous").mkdir(exist_ok=True)
    for file_name, definition in current.items():
        (folder / file_name).write_text(json.dumps(definition, indent=2), encoding="utf-8")
    for file_name, definition in (previous or {}).items():
        (folder / "previous" / file_name).write_text(json.dumps(definition, indent=2), encoding="utf-8")
    return folder


@pytest.fixture
def registry(tmp_path: Path) -> SchemaRegistry:
    return SchemaRegistry.from_dir(write_schemas(tmp_path, {"sample.avsc": SAMPLE, "plain.avsc": PLAIN}))


def sample_record(**overrides: Any) -> dict[str, Any]:
    record = {
        "email": "buyer@example.com",
        "count": 3,
        "at": dt.datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=dt.timezone.utc),
        "amount": decimal.Decimal("199000.50"),
        "kind": "ORDER",
        "address": {"city": "Hà Nội", "line": None},
        "tags": ["a", "b"],
        "attributes": {"x": 1},
        "ratio": 0.25,
        "flag": True,
    }
    record.update(overrides)
    return record


# --- a generator of valid values, logical types included (for the reference library) ---


def valid_value(schema: Any, named: dict[str, Any], rng: random.Random) -> Any:
    """A random value of a fastavro-parsed schema, as the readers return it (aware datetimes, Decimals)."""
    if isinstance(schema, list):
        return valid_value(rng.choice(schema), named, rng)
    if isinstance(schema, str):
        if schema not in PRIMITIVES:
            return valid_value(named[schema], named, rng)
        schema = {"type": schema}
    kind, logical = schema["type"], schema.get("logicalType")
    if logical in ("timestamp-millis", "timestamp-micros"):
        unit = 1 if logical == "timestamp-millis" else 1000
        offset = dt.timedelta(microseconds=rng.randint(0, 2**41) * 1000 // unit * unit)
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + offset
    if logical == "date":
        return dt.date(1970, 1, 1) + dt.timedelta(days=rng.randint(0, 40000))
    if logical == "decimal":
        limit = 10 ** schema["precision"] - 1
        return decimal.Decimal(rng.randint(-limit, limit)).scaleb(-schema.get("scale", 0))
    if logical == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind == "record":
        return {f["name"]: valid_value(f["type"], named, rng) for f in schema["fields"]}
    if kind == "enum":
        return rng.choice(schema["symbols"])
    if kind == "array":
        return [valid_value(schema["items"], named, rng) for _ in range(rng.randint(0, 3))]
    if kind == "map":
        return {f"k{i}": valid_value(schema["values"], named, rng) for i in range(rng.randint(0, 3))}
    if kind == "fixed":
        return rng.randbytes(schema["size"])
    return {
        "null": lambda: None,
        "boolean": lambda: rng.random() < 0.5,
        "int": lambda: rng.randint(-(2**31), 2**31 - 1),
        "long": lambda: rng.randint(-(2**63), 2**63 - 1),
        "float": lambda: rng.randint(-4000, 4000) / 4,  # exact in 32 bits
        "double": lambda: rng.uniform(-1e6, 1e6),
        "bytes": lambda: rng.randbytes(rng.randint(0, 12)),
        "string": lambda: "".join(rng.choice("abcé€ 😀") for _ in range(rng.randint(0, 12))),
    }[kind]()


def valid_records(parsed: dict[str, Any], count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    named = parsed.get("__named_schemas", {})
    return [valid_value(parsed, named, rng) for _ in range(count)]


# --- the reference implementation ---


def reference_schema(definition: dict[str, Any]) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(definition))


def _simple_primitives(node: Any) -> Any:
    if isinstance(node, list):
        return [_simple_primitives(item) for item in node]
    if isinstance(node, dict):
        if set(node) == {"type"} and node["type"] in PRIMITIVES:
            return node["type"]
        return {key: _simple_primitives(value) for key, value in node.items()}
    return node


def reference_fingerprint(definition: dict[str, Any]) -> bytes:
    """The reference library's CRC-64-AVRO, on its Parsing Canonical Form completed per the spec.

    avro (Python) strips logicalType/precision/scale but leaves {"type": "long"} instead of
    the spec's (and Java's) simple form "long" ([PRIMITIVES]); so its own fingerprint differs
    for any schema with a logical type. We complete that one step, check that the reference
    library agrees the result is canonical, and take its CRC-64-AVRO.
    """
    canonical = json.dumps(
        _simple_primitives(json.loads(reference_schema(definition).canonical_form)), separators=(",", ":")
    )
    again = avro.schema.parse(canonical)
    assert again.canonical_form == canonical
    return again.fingerprint("CRC-64-AVRO")


def reference_encode(definition: dict[str, Any], record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(MARKER + reference_fingerprint(definition))
    avro.io.DatumWriter(reference_schema(definition)).write(record, avro.io.BinaryEncoder(buffer))
    return buffer.getvalue()


def reference_decode(definition: dict[str, Any], data: bytes) -> dict[str, Any]:
    assert data[:2] == MARKER
    assert data[2:HEADER_SIZE] == reference_fingerprint(definition)
    buffer = io.BytesIO(data[HEADER_SIZE:])
    record = avro.io.DatumReader(reference_schema(definition)).read(avro.io.BinaryDecoder(buffer))
    assert isinstance(record, dict)
    assert buffer.tell() == len(data) - HEADER_SIZE, "the reference reader left bytes unread"
    return record


# --- header and fingerprints ---


def test_when_fingerprinting_null_schema_then_spec_vector_matches() -> None:
    ours = schema_fingerprint(fastavro.parse_schema("null"))
    assert int.from_bytes(ours, "little", signed=True) == 7195948357588979594
    assert ours == avro.schema.parse('"null"').fingerprint("CRC-64-AVRO")


def test_when_encoding_then_header_is_marker_and_fingerprint(registry: SchemaRegistry) -> None:
    data = registry.encode(SAMPLE_NAME, sample_record())
    fingerprint = registry.fingerprint(SAMPLE_NAME)
    assert len(fingerprint) == 8
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == fingerprint
    assert data[:10] == registry.encode(SAMPLE_NAME, sample_record(count=99))[:10]
    assert fingerprint == schema_fingerprint(registry.parsed(SAMPLE_NAME))


def test_when_schema_has_no_logical_type_then_fingerprint_equals_reference_library(registry: SchemaRegistry) -> None:
    assert registry.fingerprint(f"{NS}.Plain") == reference_schema(PLAIN).fingerprint("CRC-64-AVRO")


def test_when_logical_type_or_doc_changes_then_fingerprint_does_not(tmp_path: Path) -> None:
    plain = json.loads(json.dumps(SAMPLE).replace('"logicalType"', '"ignoredType"'))
    plain["doc"] = "another doc"
    reg = SchemaRegistry.from_dir(write_schemas(tmp_path, {"sample.avsc": plain}))
    ours = SchemaRegistry.from_dir(write_schemas(tmp_path / "b", {"sample.avsc": SAMPLE}))
    assert reg.fingerprint(SAMPLE_NAME) == ours.fingerprint(SAMPLE_NAME)  # [STRIP] then [PRIMITIVES]
    assert ours.fingerprint(SAMPLE_NAME) == reference_fingerprint(SAMPLE)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(SCHEMA_DIR)))
def test_when_real_schema_then_fingerprint_equals_reference_library(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    reg = default_registry()
    parsed = fastavro.parse_schema(definition, named_schemas={})
    assert schema_fingerprint(parsed) == reference_fingerprint(definition)
    assert schema_fingerprint(parsed) in reg.known_fingerprints()


def test_when_loading_real_folder_then_every_current_file_is_a_schema() -> None:
    reg = default_registry()
    assert reg is default_registry()
    assert reg.names() == sorted(full_name(json.loads(p.read_text(encoding="utf-8"))) for p in REAL_CURRENT)
    for name in reg.names():
        assert reg.definition(name)["doc"]
        assert all("doc" in field for field in reg.definition(name)["fields"])


# --- round trips and interop ---


@pytest.mark.parametrize("path", REAL_CURRENT, ids=lambda p: p.name)
def test_when_generated_records_round_trip_then_they_are_unchanged(path: Path) -> None:
    reg = default_registry()
    name = full_name(json.loads(path.read_text(encoding="utf-8")))
    random.seed(20240501)
    for generated in fastavro.utils.generate_many(reg.parsed(name), 5):
        data = reg.encode(name, generated)
        decoded_name, record = reg.decode(data)
        assert decoded_name == name
        assert reg.decode(reg.encode(name, record)) == (name, record)
    for record in valid_records(reg.parsed(name), 5):
        assert reg.decode(reg.encode(name, record)) == (name, record)


def _interop_cases() -> list[Any]:
    cases = [pytest.param(SAMPLE, id="tmp-sample"), pytest.param(PLAIN, id="tmp-plain")]
    for path in REAL_FILES:
        cases.append(pytest.param(json.loads(path.read_text(encoding="utf-8")), id=path.name))
    return cases


@pytest.mark.parametrize("definition", _interop_cases())
def test_when_reference_library_writes_then_we_decode(tmp_path: Path, definition: dict[str, Any]) -> None:
    reg = SchemaRegistry.from_dir(write_schemas(tmp_path, {"s.avsc": definition}))
    name = full_name(definition)
    for record in valid_records(reg.parsed(name), 8, seed=11):
        assert reg.decode(reference_encode(definition, record)) == (name, record)


@pytest.mark.parametrize("definition", _interop_cases())
def test_when_we_write_then_reference_library_decodes(tmp_path: Path, definition: dict[str, Any]) -> None:
    reg = SchemaRegistry.from_dir(write_schemas(tmp_path, {"s.avsc": definition}))
    name = full_name(definition)
    for record in valid_records(reg.parsed(name), 8, seed=13):
        data = reg.encode(name, record)
        assert reference_decode(definition, data) == record
        assert data == reference_encode(definition, record)  # byte for byte


def test_when_decoding_then_definition_keeps_doc_and_custom_attributes(registry: SchemaRegistry) -> None:
    definition = registry.definition(SAMPLE_NAME)
    assert definition == SAMPLE
    assert definition["fields"][0]["pii"] == "email"
    assert registry.names() == [f"{NS}.Plain", SAMPLE_NAME]
    assert registry.parsed(SAMPLE_NAME) is registry.parsed(SAMPLE_NAME)


@pytest.mark.parametrize("payload", [bytes, bytearray, memoryview])
def test_when_decoding_any_bytes_like_then_record_is_returned(registry: SchemaRegistry, payload: type) -> None:
    data = registry.encode(SAMPLE_NAME, sample_record())
    assert registry.decode(payload(data)) == (SAMPLE_NAME, sample_record())


# --- schema evolution ---


@pytest.fixture
def evolved(tmp_path: Path) -> tuple[SchemaRegistry, SchemaRegistry]:
    """(old producer's registry with v1 current, new registry with v2 current and v1 in previous/)."""
    old = SchemaRegistry.from_dir(write_schemas(tmp_path / "old", {"user.avsc": USER_V1}))
    new = SchemaRegistry.from_dir(
        write_schemas(tmp_path / "new", {"user.avsc": USER_V2, "plain.avsc": PLAIN}, {"user_v1.avsc": USER_V1})
    )
    return old, new


def test_when_old_version_wrote_then_current_reads_it_with_default(evolved: tuple[SchemaRegistry, ...]) -> None:
    old, new = evolved
    data = old.encode(f"{NS}.User", {"id": "u1", "email": "a@example.com"})
    assert old.fingerprint(f"{NS}.User") != new.fingerprint(f"{NS}.User")
    assert new.decode(data) == (f"{NS}.User", {"id": "u1", "email": "a@example.com", "country": "VN"})
    assert new.decode(data, reader=f"{NS}.User")[1]["country"] == "VN"
    assert new.names() == [f"{NS}.Plain", f"{NS}.User"]  # previous versions are not current names


def test_when_current_version_wrote_then_it_decodes_without_resolution(evolved: tuple[SchemaRegistry, ...]) -> None:
    _, new = evolved
    record = {"id": "u2", "email": "b@example.com", "country": "TH"}
    assert new.decode(new.encode(f"{NS}.User", record)) == (f"{NS}.User", record)


def test_when_writer_has_no_current_version_then_it_decodes_as_written(tmp_path: Path) -> None:
    retired = {**PLAIN, "name": "Retired"}
    old = SchemaRegistry.from_dir(write_schemas(tmp_path / "old", {"r.avsc": retired}))
    new = SchemaRegistry.from_dir(write_schemas(tmp_path / "new", {"p.avsc": PLAIN}, {"r.avsc": retired}))
    data = old.encode(f"{NS}.Retired", {"id": "x", "n": 1})
    assert new.decode(data) == (f"{NS}.Retired", {"id": "x", "n": 1})


def test_when_previous_copy_equals_current_then_registry_loads(tmp_path: Path) -> None:
    reg = SchemaRegistry.from_dir(write_schemas(tmp_path, {"u.avsc": USER_V2}, {"u_doc.avsc": {**USER_V2, "doc": "x"}}))
    assert reg.known_fingerprints() == {reg.fingerprint(f"{NS}.User")}


# --- errors ---


def _decode_cases(registry: SchemaRegistry) -> dict[str, bytes]:
    good = registry.encode(SAMPLE_NAME, sample_record())
    header = registry.encode(SAMPLE_NAME, sample_record())[:HEADER_SIZE]
    email_bytes = "é".encode()[:1]  # a string cut inside a UTF-8 sequence
    return {
        "empty": b"",
        "marker-only": MARKER,
        "short-fingerprint": good[:9],
        "wrong-marker": b"\xc3\x02" + good[2:],
        "swapped-marker": b"\x01\xc3" + good[2:],
        "json": b'{"email": "' + CANARY.encode() + b'"}',
        "unknown-fingerprint": MARKER + bytes(8) + good[HEADER_SIZE:],
        "header-only": header,
        "truncated": good[:-1],
        "truncated-half": good[: len(good) // 2],
        "trailing-garbage": good + b"\x00",
        "trailing-record": good + good,
        "bad-utf8": header + b"\x02" + email_bytes + good[HEADER_SIZE + 1 :],
        # email "", count 0, at 0, amount b"" then an enum index (63) out of range
        "bad-enum-index": header + b"\x00" * 4 + b"\x7e",
        # ... kind ORDER, then a union index (63) out of range
        "bad-union-index": header + b"\x00" * 5 + b"\x7e",
    }


EXPECTED_REASON = {
    "empty": "not_single_object",
    "marker-only": "not_single_object",
    "short-fingerprint": "not_single_object",
    "wrong-marker": "not_single_object",
    "swapped-marker": "not_single_object",
    "json": "not_single_object",
    "unknown-fingerprint": "unknown_fingerprint",
    "header-only": "corrupt_body",
    "truncated": "corrupt_body",
    "truncated-half": "corrupt_body",
    "trailing-garbage": "corrupt_body",
    "trailing-record": "corrupt_body",
    "bad-utf8": "corrupt_body",
    "bad-enum-index": "corrupt_body",
    "bad-union-index": "corrupt_body",
}


def assert_clean(exc: BaseException) -> None:
    """No payload in the message, nor in a chained exception a logger would print."""
    text = "".join(traceback.format_exception(exc))
    assert CANARY not in text and "buyer@example.com" not in text
    assert exc.__cause__ is None and exc.__context__ is None


@pytest.mark.parametrize("case", sorted(EXPECTED_REASON))
def test_when_bytes_are_bad_then_decode_error_has_reason(registry: SchemaRegistry, case: str) -> None:
    data = _decode_cases(registry)[case]
    with pytest.raises(DecodeError) as caught:
        registry.decode(data)
    assert caught.value.reason == EXPECTED_REASON[case]
    assert caught.value.reason in DECODE_REASONS
    assert isinstance(caught.value, SchemaError)
    assert_clean(caught.value)


@pytest.mark.parametrize("seed", range(25))
def test_when_random_bytes_follow_a_valid_header_then_body_is_corrupt(registry: SchemaRegistry, seed: int) -> None:
    rng = random.Random(seed)
    data = registry.encode(SAMPLE_NAME, sample_record())[:HEADER_SIZE] + rng.randbytes(rng.randint(1, 200))
    with pytest.raises(DecodeError) as caught:
        registry.decode(data)
    assert caught.value.reason == "corrupt_body"
    assert_clean(caught.value)


@pytest.mark.parametrize(
    ("reader", "writer", "record"),
    [
        pytest.param(USER_V3_BROKEN, USER_V1, {"id": "u", "email": CANARY}, id="reader-adds-field-without-default"),
        pytest.param(
            {**USER_V1, "fields": [{"name": "id", "type": "long", "doc": "Id."}]},
            USER_V1,
            {"id": "u", "email": CANARY},
            id="reader-changes-type",
        ),
    ],
)
def test_when_writer_cannot_be_resolved_to_reader_then_schema_mismatch(
    tmp_path: Path, reader: dict, writer: dict, record: dict
) -> None:
    old = SchemaRegistry.from_dir(write_schemas(tmp_path / "old", {"u.avsc": writer}))
    new = SchemaRegistry.from_dir(write_schemas(tmp_path / "new", {"u.avsc": reader}, {"u_v1.avsc": writer}))
    with pytest.raises(DecodeError) as caught:
        new.decode(old.encode(f"{NS}.User", record))
    assert caught.value.reason == "schema_mismatch"
    assert "u_v1.avsc" in str(caught.value) and "u.avsc" in str(caught.value)
    assert_clean(caught.value)


def test_when_reader_is_another_record_then_schema_mismatch(registry: SchemaRegistry) -> None:
    data = registry.encode(SAMPLE_NAME, sample_record())
    with pytest.raises(DecodeError) as caught:
        registry.decode(data, reader=f"{NS}.Plain")
    assert caught.value.reason == "schema_mismatch"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        pytest.param(sample_record(count=CANARY), "Sample.count", id="string-in-int"),
        pytest.param(sample_record(email=4242, tags=[CANARY]), "Sample.email", id="int-in-string"),
        pytest.param(sample_record(kind=CANARY), "Sample.kind", id="unknown-enum-symbol"),
        pytest.param(sample_record(at=CANARY), "Sample.at", id="string-in-timestamp"),
        pytest.param(sample_record(address={"city": 4242, "line": CANARY}), "Address.city", id="nested-record"),
        pytest.param(sample_record(tags=["ok", 4242], email=CANARY), "Sample.tags", id="array-item"),
        pytest.param(sample_record(attributes={CANARY: CANARY}), "Sample.attributes", id="map-value"),
        pytest.param({"email": CANARY}, "Sample.count", id="missing-required-field"),
        pytest.param(
            sample_record(amount=decimal.Decimal("4242.424"), email=CANARY), "Sample.amount", id="decimal-scale"
        ),
        pytest.param([CANARY], None, id="not-a-dict"),
    ],
)
def test_when_record_does_not_match_then_schema_error_names_field_not_value(
    registry: SchemaRegistry, record: Any, field: str | None
) -> None:
    with pytest.raises(SchemaError) as caught:
        registry.encode(SAMPLE_NAME, record)
    assert not isinstance(caught.value, DecodeError)
    assert SAMPLE_NAME in str(caught.value)
    if field is not None:
        assert field in str(caught.value)
    assert "4242" not in str(caught.value)
    assert_clean(caught.value)


@pytest.mark.parametrize("call", ["encode", "parsed", "definition", "fingerprint", "decode-reader"])
def test_when_full_name_is_unknown_then_schema_error(registry: SchemaRegistry, call: str) -> None:
    with pytest.raises(SchemaError, match="Nope") as caught:
        if call == "encode":
            registry.encode("com.powersell.Nope", {})
        elif call == "decode-reader":
            registry.decode(registry.encode(SAMPLE_NAME, sample_record()), reader="com.powersell.Nope")
        else:
            getattr(registry, call)("com.powersell.Nope")
    assert not isinstance(caught.value, DecodeError)


@pytest.mark.parametrize(
    ("files", "blamed"),
    [
        pytest.param({"a.avsc": USER_V1, "b.avsc": USER_V2}, ["a.avsc", "b.avsc"], id="same-full-name-twice"),
        pytest.param({"bad.avsc": "{not json"}, ["bad.avsc"], id="not-json"),
        pytest.param(
            {"bad.avsc": {**PLAIN, "fields": [{"name": "x", "type": "strin"}]}}, ["bad.avsc"], id="unknown-type"
        ),
        pytest.param({"bad.avsc": {"type": "enum", "name": "E", "symbols": ["A"]}}, ["bad.avsc"], id="not-a-record"),
        pytest.param({"bad.avsc": "\"string\""}, ["bad.avsc"], id="primitive"),
        pytest.param(
            {"bad.avsc": {**PLAIN, "fields": [{"name": "x", "type": "int", "default": "x"}]}},
            ["bad.avsc"],
            id="bad-default",
        ),
        pytest.param({"previous/old.avsc": "[1, 2"}, ["old.avsc"], id="invalid-previous"),
    ],
)
def test_when_schema_folder_is_invalid_then_schema_error_names_file(
    tmp_path: Path, files: dict[str, Any], blamed: list[str]
) -> None:
    (tmp_path / "previous").mkdir()
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        SchemaRegistry.from_dir(tmp_path)
    for name in blamed:
        assert name in str(caught.value)


def test_when_folder_is_missing_then_schema_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        SchemaRegistry.from_dir(tmp_path / "nowhere")


def test_when_folder_has_no_previous_then_registry_loads(tmp_path: Path) -> None:
    (tmp_path / "plain.avsc").write_text(json.dumps(PLAIN), encoding="utf-8")
    assert SchemaRegistry.from_dir(tmp_path).names() == [f"{NS}.Plain"]
