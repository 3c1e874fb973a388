"""Avro single-object encoding of every record on the pipeline's topics.

Why this shape: each Kafka value carries a 10-byte header (the marker C3 01, then the
little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form,
as in the Avro specification's "Single object encoding"), so any consumer can decode
any message with the schema files alone, without a schema-registry service. Old data
stays decodable after a schema evolves as long as the superseded version is kept in
schemas/previous/: decode finds the writer schema by fingerprint and resolves it
against the current (reader) version.

Speed: schema files are parsed once; each schema's header is precomputed; decode is a
dict lookup plus fastavro's compiled reader. Safety: error messages carry names, paths
and sizes only, never record values (records hold personal data).
"""

from __future__ import annotations

import base64
import copy
import functools
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
from fastavro.read import SchemaResolutionError
from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form
from fastavro.utils import generate_one
from fastavro.validation import ValidationError, validate

from pipeline_core.errors import DecodeError, SchemaError
from schemas import SCHEMA_DIR

__all__ = [
    "DECODE_REASONS",
    "MARKER",
    "HEADER_SIZE",
    "SCHEMA_DIR",
    "SchemaRegistry",
    "default_registry",
    "schema_fingerprint",
]

MARKER = b"\xc3\x01"
HEADER_SIZE = 10  # marker (2) + fingerprint (8)
DECODE_REASONS = frozenset({"not_single_object", "unknown_fingerprint", "corrupt_body", "schema_mismatch"})


def schema_fingerprint(parsed: Any) -> bytes:
    """CRC-64-AVRO fingerprint of a fastavro-parsed schema's Parsing Canonical Form, in wire order."""
    return bytes.fromhex(_fastavro_fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


@dataclass(frozen=True, slots=True)
class _Version:
    """One schema file, parsed once."""

    full_name: str
    path: Path
    definition: dict[str, Any]
    parsed: dict[str, Any]
    canonical: str
    fingerprint: bytes
    header: bytes


def _load(path: Path) -> _Version:
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
        parsed = fastavro.parse_schema(copy.deepcopy(definition), named_schemas={})
        canonical = to_parsing_canonical_form(parsed)
    except Exception as exc:  # JSON, I/O and every kind of fastavro parse error
        raise SchemaError(f"invalid schema file {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise SchemaError(f"invalid schema file {path}: the top level must be a record schema")
    fingerprint = bytes.fromhex(_fastavro_fingerprint(canonical, "CRC-64-AVRO"))
    return _Version(parsed["name"], path, definition, parsed, canonical, fingerprint, MARKER + fingerprint)


def _type_name(schema: Any) -> str:
    """A short name for a (parsed) schema, for error messages."""
    if isinstance(schema, list):
        return "[" + ", ".join(_type_name(branch) for branch in schema) + "]"
    if isinstance(schema, dict):
        name = schema.get("logicalType") or schema.get("name") or schema.get("type")
        return name if isinstance(name, str) else "complex type"
    return str(schema)


class SchemaRegistry:
    """Current schemas (schemas/*.avsc) and superseded versions (schemas/previous/*.avsc)."""

    def __init__(self, current: list[_Version], previous: list[_Version]) -> None:
        self._current: dict[str, _Version] = {}
        for version in current:
            other = self._current.setdefault(version.full_name, version)
            if other is not version:
                raise SchemaError(
                    f"schema files {other.path} and {version.path} both define {version.full_name}"
                )
        # Current versions first, so that a previous copy identical in canonical form maps to them.
        self._writers: dict[bytes, _Version] = {}
        for version in current + previous:
            other = self._writers.setdefault(version.fingerprint, version)
            if other.canonical != version.canonical:
                raise SchemaError(
                    f"schema files {other.path} and {version.path} have the same fingerprint "
                    f"{version.fingerprint.hex()} but different canonical forms"
                )

    @classmethod
    def from_dir(cls, path: Path = SCHEMA_DIR) -> SchemaRegistry:
        """Load path/*.avsc as the current versions and path/previous/*.avsc as older ones."""
        path = Path(path)
        if not path.is_dir():
            raise SchemaError(f"schema folder {path} does not exist")
        current = [_load(file) for file in sorted(path.glob("*.avsc"))]
        previous = [_load(file) for file in sorted((path / "previous").glob("*.avsc"))]
        return cls(current, previous)

    def _version(self, full_name: str) -> _Version:
        try:
            return self._current[full_name]
        except (KeyError, TypeError):
            raise SchemaError(f"unknown schema {full_name!r}") from None

    def names(self) -> list[str]:
        """Full names of the current schemas, sorted."""
        return sorted(self._current)

    def definition(self, full_name: str) -> dict[str, Any]:
        """The schema JSON as in its file (with doc and custom attributes such as "pii"). Read-only."""
        return self._version(full_name).definition

    def parsed(self, full_name: str) -> dict[str, Any]:
        """The fastavro-parsed current schema (parsed once). Read-only."""
        return self._version(full_name).parsed

    def fingerprint(self, full_name: str) -> bytes:
        """The 8-byte CRC-64-AVRO fingerprint of the current schema, in wire order."""
        return self._version(full_name).fingerprint

    def known_fingerprints(self) -> frozenset[bytes]:
        """Fingerprints of every version that decode accepts (current and previous)."""
        return frozenset(self._writers)

    def encode(self, full_name: str, record: dict[str, Any]) -> bytes:
        """Single-object encoding of record with the current version of full_name."""
        version = self._version(full_name)
        buffer = io.BytesIO()
        buffer.write(version.header)
        problem = None
        try:
            fastavro.schemaless_writer(buffer, version.parsed, record)
        except Exception as exc:  # fastavro's messages include the datum: never pass them on
            problem = _explain(version, record, exc)
        if problem is not None:  # raised outside the handler, so no __context__ holds the datum
            raise SchemaError(problem)
        return buffer.getvalue()

    def decode(self, data: bytes, reader: str | None = None) -> tuple[str, dict[str, Any]]:
        """Decode single-object bytes; returns (reader full name, record).

        The writer schema is found by fingerprint among current and previous versions and
        resolved against the reader: by default the current version with the writer's full
        name (or the writer itself when that name has no current version any more).
        """
        if len(data) < HEADER_SIZE or data[:2] != MARKER:
            raise DecodeError(
                "not_single_object",
                f"not Avro single-object encoding: {len(data)} bytes, expected the C3 01 marker "
                f"and an 8-byte fingerprint",
            )
        fingerprint = bytes(data[2:HEADER_SIZE])
        writer = self._writers.get(fingerprint)
        if writer is None:
            raise DecodeError("unknown_fingerprint", f"no known schema has fingerprint {fingerprint.hex()}")
        target = self._current.get(writer.full_name, writer) if reader is None else self._version(reader)
        buffer = io.BytesIO(data)
        buffer.seek(HEADER_SIZE)
        problem: DecodeError | None = None
        record: Any = None
        try:
            if target is writer:
                record = fastavro.schemaless_reader(buffer, writer.parsed, None)
            else:
                record = fastavro.schemaless_reader(buffer, writer.parsed, target.parsed)
        except SchemaResolutionError:
            problem = DecodeError(
                "schema_mismatch",
                f"data written with {writer.full_name} ({writer.path.name}) cannot be read as "
                f"{target.full_name} ({target.path.name})",
            )
        except Exception as exc:  # EOF, bad UTF-8 (whose message shows the bytes), bad index...
            problem = DecodeError(
                "corrupt_body", f"corrupt {writer.full_name} body ({len(data)} bytes): {type(exc).__name__}"
            )
        if problem is not None:  # raised outside the handler, so no __context__ holds the payload
            raise problem
        trailing = len(data) - buffer.tell()
        if trailing:
            raise DecodeError(
                "corrupt_body", f"{trailing} trailing bytes after the {writer.full_name} record"
            )
        return target.full_name, record


def _writes(parsed: dict[str, Any], record: dict[str, Any]) -> bool:
    try:
        fastavro.schemaless_writer(io.BytesIO(), parsed, record)
    except Exception:
        return False
    return True


def _explain(version: _Version, record: Any, exc: Exception) -> str:
    """Why record does not match version, naming field paths and expected types, never values."""
    prefix = f"record does not match schema {version.full_name}"
    if not isinstance(record, dict):
        return f"{prefix}: expected a dict, got {type(record).__name__}"
    try:
        validate(record, version.parsed, raise_errors=True)
    except ValidationError as error:
        problems = {f"{data.field or version.full_name} (expected {_type_name(data.schema)})" for data in error.errors}
        return f"{prefix}: {'; '.join(sorted(problems))}"
    except Exception:
        pass  # e.g. a decimal of the wrong scale: the validator raises without naming the field
    # Find the culprit among the top-level fields: put each value alone into a valid record.
    template = generate_one(version.parsed)
    culprits = [
        f"{version.full_name}.{name}"
        for name in template
        if name in record and not _writes(version.parsed, {**template, name: record[name]})
    ]
    return f"{prefix}: {', '.join(culprits) or 'a value'} cannot be written ({type(exc).__name__})"


@functools.cache
def default_registry() -> SchemaRegistry:
    """The registry of SCHEMA_DIR, loaded once per process."""
    return SchemaRegistry.from_dir(SCHEMA_DIR)


def jsonable(value):
    """Avro values as JSON: timestamps in ISO 8601, decimals as strings, bytes as base64."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "base64:" + base64.b64encode(value).decode("ascii")
    return value
