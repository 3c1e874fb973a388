"""New readers must read old data.

A schema in schemas/ may only change in ways that are backward compatible with every
earlier version of it: the files kept in schemas/previous/ and every version ever
committed to git. Checked with the reference implementation's
`avro.compatibility.ReaderWriterCompatibilityChecker`, plus one check it lacks: a
changed logical type (e.g. a decimal's scale) reads old bytes as wrong values.
Every committed version's fingerprint must also be known to the registry, or the data
already on the topics could no longer be decoded.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import avro.schema
import fastavro
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from pipeline_core.avro_codec import SCHEMA_DIR, SchemaRegistry, schema_fingerprint

CURRENT = sorted(SCHEMA_DIR.glob("*.avsc"))
PREVIOUS = sorted((SCHEMA_DIR / "previous").glob("*.avsc"))
NAMED = {"record", "enum", "fixed", "error"}
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def full_name(definition: dict[str, Any]) -> str:
    name = definition["name"]
    return name if "." in name or not definition.get("namespace") else f"{definition['namespace']}.{name}"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the check ---


def _annotations(schema: Any, path: str, out: dict[str, dict[str, Any]], seen: set[str]) -> None:
    """Map each primitive (or fixed) position "path|type" to its logical type annotation ({} if none)."""
    if isinstance(schema, list):
        for branch in schema:
            _annotations(branch, path, out, seen)
    elif isinstance(schema, str) and schema in PRIMITIVES:
        out[f"{path}|{schema}"] = {}
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in NAMED:
            if schema["name"] in seen:  # each named type is walked once, where it is defined
                return
            seen.add(schema["name"])
        if kind in ("record", "error"):
            for field in schema["fields"]:
                _annotations(field["type"], f"{path}/{field['name']}", out, seen)
        elif kind == "array":
            _annotations(schema["items"], f"{path}/[]", out, seen)
        elif kind == "map":
            _annotations(schema["values"], f"{path}/{{}}", out, seen)
        elif kind in PRIMITIVES or kind == "fixed":
            keys = ("logicalType", "precision", "scale")
            out[f"{path}|{kind}"] = {key: schema[key] for key in keys if key in schema and "logicalType" in schema}


def logical_type_changes(reader: dict[str, Any], writer: dict[str, Any]) -> list[str]:
    """Positions in both schemas whose logical type changed: old bytes would be read as other values.

    The reference checker compares the underlying types only (the spec lets a reader ignore
    a logical type), so a decimal's new scale or millis becoming micros passes it.
    """
    new: dict[str, dict[str, Any]] = {}
    old: dict[str, dict[str, Any]] = {}
    _annotations(fastavro.parse_schema(reader, named_schemas={}), "", new, set())
    _annotations(fastavro.parse_schema(writer, named_schemas={}), "", old, set())
    changes = []
    for key in sorted(old.keys() & new.keys()):
        was, now = old[key], new[key]
        same_meaning = was.get("logicalType") == now.get("logicalType") and was.get("scale") == now.get("scale")
        if not same_meaning or now.get("precision", 0) < was.get("precision", 0):  # more precision is fine
            position, kind = key.split("|")
            changes.append(f"{position} ({kind}): logical type {was or 'none'} became {now or 'none'}")
    return changes


def incompatibilities(reader: dict[str, Any], writer: dict[str, Any]) -> list[str]:
    """Why reader cannot read data written with writer (empty when it can)."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer))
    )
    problems = []
    if result.compatibility is not SchemaCompatibilityType.compatible:
        kinds = ", ".join(sorted(kind.value for kind in result.incompatibilities))
        problems.append(
            f"{kinds}: {'; '.join(sorted(result.messages))} at {', '.join(sorted(result.locations))}"
        )
    return problems + logical_type_changes(reader, writer)


# --- earlier versions from git ---


class GitUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Committed:
    commit: str
    path: str  # relative to the repository root
    definition: dict[str, Any] | None  # None: not valid JSON, so nothing can have been written with it


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)


def committed_versions(schema_dir: Path) -> list[Committed]:
    """Every distinct *.avsc blob ever committed directly under schema_dir (not previous/)."""
    if shutil.which("git") is None:
        raise GitUnavailable("git is not installed")
    top = _git(schema_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise GitUnavailable(f"{schema_dir} is not in a git checkout: {top.stderr.strip()}")
    root = Path(top.stdout.strip())
    if _git(root, "rev-parse", "--verify", "-q", "HEAD").returncode != 0:
        return []  # no commits yet: nothing to compare with
    folder = schema_dir.resolve().relative_to(root.resolve()).as_posix()
    log = _git(root, "log", "--format=%H", "--", f"{folder}/")
    if log.returncode != 0:
        raise GitUnavailable(f"git log failed: {log.stderr.strip()}")
    blobs: dict[str, tuple[str, str]] = {}
    for commit in log.stdout.split():
        tree = _git(root, "ls-tree", commit, f"{folder}/")
        for line in tree.stdout.splitlines():
            meta, path = line.split("\t", 1)
            _, kind, blob = meta.split()
            if kind == "blob" and path.endswith(".avsc"):
                blobs.setdefault(blob, (commit, path))
    versions = []
    for blob, (commit, path) in blobs.items():
        try:
            definition = json.loads(_git(root, "cat-file", "-p", blob).stdout)
        except ValueError:
            definition = None
        versions.append(Committed(commit, path, definition))
    return versions


def missing_fingerprints(versions: list[Committed], registry: SchemaRegistry) -> list[str]:
    """Committed versions whose data the registry could no longer decode."""
    known = registry.known_fingerprints()
    missing = []
    for version in versions:
        if version.definition is None:
            continue
        try:
            fingerprint = schema_fingerprint(fastavro.parse_schema(version.definition, named_schemas={}))
        except Exception:
            continue  # fastavro could not parse it, so no producer wrote with it
        if fingerprint not in known:
            name = Path(version.path).stem
            missing.append(
                f"{version.path} as committed in {version.commit[:12]} (fingerprint {fingerprint.hex()}) is "
                f"neither current nor in schemas/previous/: data written with it can no longer be decoded. "
                f"Copy that version into schemas/previous/, e.g. `git show {version.commit[:12]}:{version.path}"
                f" > schemas/previous/{name}.{version.commit[:12]}.avsc`"
            )
    return missing


@functools.cache
def _real_history() -> tuple[list[Committed], str]:
    """The committed versions of the real schemas, read once per run (or why they cannot be)."""
    try:
        return committed_versions(SCHEMA_DIR), ""
    except GitUnavailable as reason:
        return [], str(reason)


def _committed_or_skip() -> list[Committed]:
    versions, unavailable = _real_history()
    if unavailable:
        pytest.skip(f"cannot read the committed versions of the schemas: {unavailable}")
    return versions


def _history_of(path: Path, versions: list[Committed]) -> Iterator[Committed]:
    name = full_name(_read(path))
    for version in versions:
        same_file = Path(version.path).name == path.name
        if version.definition is not None and (same_file or full_name(version.definition) == name):
            yield version


# --- the real schemas ---


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.name)
def test_when_previous_version_is_kept_then_current_schema_reads_its_data(path: Path) -> None:
    current = _read(path)
    for old_path in PREVIOUS:
        old = _read(old_path)
        if full_name(old) == full_name(current):
            problems = incompatibilities(current, old)
            assert not problems, f"{path.name} cannot read data written with previous/{old_path.name}: {problems}"


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.name)
def test_when_version_was_committed_then_current_schema_reads_its_data(path: Path) -> None:
    current = _read(path)
    for version in _history_of(path, _committed_or_skip()):
        assert version.definition is not None
        problems = incompatibilities(current, version.definition)
        assert not problems, (
            f"{path.name} cannot read data written with {version.path} as committed in "
            f"{version.commit[:12]}: {problems}. Make the change backward compatible (e.g. give a new "
            f"field a default) or introduce a new schema."
        )


def test_when_version_was_committed_then_registry_still_decodes_its_data() -> None:
    missing = missing_fingerprints(_committed_or_skip(), SchemaRegistry.from_dir(SCHEMA_DIR))
    assert not missing, "\n".join(missing)


# --- the check can fail ---

BASE: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "com.powersell.pipeline.test",
    "doc": "An order.",
    "fields": [
        {"name": "id", "type": "string", "doc": "Id."},
        {"name": "count", "type": "int", "doc": "Count."},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "doc": "S.", "symbols": ["NEW", "PAID"]},
            "doc": "Status.",
        },
        {
            "name": "total",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2},
            "doc": "Total.",
        },
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When."},
    ],
}


def with_field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    """BASE with the field called name replaced, or appended when BASE has none."""
    field = {"name": name, "type": type_, "doc": f"{name}.", **extra}
    fields = [field if f["name"] == name else f for f in BASE["fields"]]
    return {**BASE, "fields": fields if field in fields else fields + [field]}


def without_field(name: str) -> dict[str, Any]:
    return {**BASE, "fields": [f for f in BASE["fields"] if f["name"] != name]}


def decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


def status(*symbols: str) -> dict[str, Any]:
    return {"type": "enum", "name": "Status", "symbols": list(symbols)}


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(with_field("note", "string"), "reader_field_missing_default_value", id="add-field-no-default"),
        pytest.param(with_field("count", "string"), "type_mismatch", id="int-to-string"),
        pytest.param(with_field("id", "long"), "type_mismatch", id="string-to-long"),
        pytest.param({**BASE, "name": "Order2"}, "name_mismatch", id="rename-record"),
        pytest.param(with_field("status", status("NEW")), "missing_enum_symbols", id="remove-enum-symbol"),
        pytest.param(with_field("total", decimal(18, 3)), "logical type", id="decimal-scale-change"),
        pytest.param(with_field("total", decimal(10, 2)), "logical type", id="less-decimal-precision"),
        pytest.param(
            with_field("at", {"type": "long", "logicalType": "timestamp-micros"}), "logical type", id="millis-to-micros"
        ),
    ],
)
def test_when_new_schema_cannot_read_old_data_then_check_reports_it(new: dict[str, Any], expected: str) -> None:
    problems = incompatibilities(new, BASE)
    assert problems and expected in " ".join(problems)


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(BASE, id="unchanged"),
        pytest.param({**BASE, "doc": "Reworded."}, id="doc-only"),
        pytest.param(with_field("note", ["null", "string"], default=None), id="add-optional-field"),
        pytest.param(with_field("shop", "string", default=""), id="add-field-with-default"),
        pytest.param(without_field("count"), id="remove-field"),
        pytest.param(with_field("count", "long"), id="promote-int-to-long"),
        pytest.param(with_field("status", status("NEW", "PAID", "GONE")), id="add-enum-symbol"),
        pytest.param(with_field("id", ["null", "string"], default=None), id="make-nullable"),
        pytest.param(with_field("total", decimal(20, 2)), id="more-decimal-precision"),
    ],
)
def test_when_new_schema_reads_old_data_then_check_passes(new: dict[str, Any]) -> None:
    assert incompatibilities(new, BASE) == []


# --- the git history check on a throwaway repository ---


def _commit(repo: Path, message: str) -> None:
    identity = ("-c", "user.name=t", "-c", "user.email=t@example.com")
    for args in (("add", "-A"), (*identity, "commit", "-q", "-m", message)):
        done = _git(repo, *args)
        assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_when_schema_changed_in_git_then_old_version_must_be_kept(tmp_path: Path) -> None:
    assert _git(tmp_path, "init", "-q").returncode == 0
    schemas = tmp_path / "schemas"
    (schemas / "previous").mkdir(parents=True)
    assert committed_versions(schemas) == []  # no commits yet
    (schemas / "order.avsc").write_text(json.dumps(BASE), encoding="utf-8")
    _commit(tmp_path, "v1")
    v2 = with_field("note", ["null", "string"], default=None)
    (schemas / "order.avsc").write_text(json.dumps(v2), encoding="utf-8")
    (schemas / "gone.avsc").write_text(json.dumps({**BASE, "name": "Gone"}), encoding="utf-8")
    _commit(tmp_path, "v2")
    (schemas / "gone.avsc").unlink()
    (schemas / "order.avsc").write_text(json.dumps({**v2, "doc": "Reworded."}), encoding="utf-8")
    _commit(tmp_path, "doc only, Gone retired")

    versions = committed_versions(schemas)
    assert sorted(Path(v.path).name for v in versions) == ["gone.avsc", "order.avsc", "order.avsc", "order.avsc"]
    missing = missing_fingerprints(versions, SchemaRegistry.from_dir(schemas))
    assert len(missing) == 2 and all("schemas/previous/" in m for m in missing)  # v1 and Gone

    (schemas / "previous" / "order.v1.avsc").write_text(json.dumps(BASE), encoding="utf-8")
    (schemas / "previous" / "gone.avsc").write_text(json.dumps({**BASE, "name": "Gone"}), encoding="utf-8")
    assert missing_fingerprints(versions, SchemaRegistry.from_dir(schemas)) == []
    current = _read(schemas / "order.avsc")
    assert all(incompatibilities(current, v.definition or {}) == [] for v in versions if "order" in v.path)


def test_when_folder_is_not_a_checkout_then_history_is_unavailable(tmp_path: Path) -> None:
    if shutil.which("git") is not None and _git(tmp_path, "rev-parse", "--show-toplevel").returncode == 0:
        pytest.skip("tmp_path is inside a git checkout")
    with pytest.raises(GitUnavailable):
        committed_versions(tmp_path)
