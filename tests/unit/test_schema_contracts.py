"""The rules every schema in schemas/ keeps: docs everywhere, personal data tagged,
redacted schemas saying how each personal field was transformed."""

from __future__ import annotations

import json
import re

import pytest

from schemas import PII_KINDS, SCHEMA_DIR, TRANSFORMS

PERSONAL_WORDS = {"name", "email", "phone", "phone2", "fax", "address", "card", "billing", "ip", "url",
                  "note", "message", "description"}
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.avsc"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _records(schema: dict, seen=None):
    """Every named record defined inside a schema, the schema first."""
    seen = [] if seen is None else seen
    if isinstance(schema, dict):
        if schema.get("type") == "record" and schema not in seen:
            seen.append(schema)
            for field in schema["fields"]:
                _records(field["type"], seen)
        elif schema.get("type") == "array":
            _records(schema["items"], seen)
        elif schema.get("type") == "map":
            _records(schema["values"], seen)
    elif isinstance(schema, list):
        for branch in schema:
            _records(branch, seen)
    return seen


def _record_type(type_, named: dict):
    """The record a field holds (directly, nullable, or as array items), else None."""
    if isinstance(type_, list):
        found = [_record_type(b, named) for b in type_ if b != "null"]
        return found[0] if len(found) == 1 else None
    if isinstance(type_, str):
        return named.get(type_)
    if type_.get("type") == "record":
        return type_
    if type_.get("type") == "array":
        return _record_type(type_["items"], named)
    return None


def _named(schema: dict) -> dict:
    named = {}
    for rec in _records(schema):
        full = rec["name"] if "." in rec["name"] else f"{rec.get('namespace', '')}.{rec['name']}"
        named[full] = rec
    return named


def leaf_fields(schema: dict, prefix: str = "", named: dict | None = None):
    """(path, field) for every field that is not itself a record: personal data lives in leaves."""
    named = _named(schema) if named is None else named
    for field in schema["fields"]:
        path = f"{prefix}{field['name']}"
        inner = _record_type(field["type"], named)
        if inner is not None:
            yield from leaf_fields(inner, path + ".", named)
        else:
            yield path, field


def looks_personal(field_name: str) -> bool:
    return bool(set(re.split(r"[_\d]+", field_name.lower())) & PERSONAL_WORDS) or field_name in PERSONAL_WORDS


def untagged_personal_fields(schema: dict) -> list[str]:
    return [path for path, f in leaf_fields(schema)
            if looks_personal(f["name"]) and "pii" not in f and "transform" not in f]


def untransformed_personal_fields(raw: dict, redacted: dict) -> list[str]:
    """Paths the raw schema tags as personal that the redacted schema keeps without saying how."""
    personal = {path for path, f in leaf_fields(raw) if f.get("pii") not in (None, "none")}
    return [path for path, f in leaf_fields(redacted) if path in personal and "transform" not in f]


# ---------------------------------------------------------------- the rules, per file
def test_schemas_exist():
    assert {p.stem for p in SCHEMA_FILES} >= {
        "raw_shop_event", "raw_product_event", "raw_order_event", "redacted_shop_event", "redacted_product_event",
        "redacted_order_event", "consent_event", "analytics_aggregate", "dead_letter"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_record_and_field_has_a_namespace_and_a_doc(path):
    schema = _load(path)
    assert schema.get("namespace", "").startswith("com.powersell.pipeline")
    for rec in _records(schema):
        assert rec.get("doc"), f"record {rec['name']} has no doc"
        for field in rec["fields"]:
            assert field.get("doc"), f"{rec['name']}.{field['name']} has no doc"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_file_name_says_which_record_it_holds(path):
    name = _load(path)["name"]
    assert path.stem == re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_fields_that_look_personal_are_tagged(path):
    assert untagged_personal_fields(_load(path)) == []


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_tags_come_from_the_closed_sets(path):
    schema = _load(path)
    for p, f in leaf_fields(schema):
        if "pii" in f:
            assert f["pii"] in PII_KINDS, p
        if "transform" in f:
            assert f["transform"] in TRANSFORMS, p
            assert path.stem.startswith("redacted_"), f"{p}: only redacted schemas transform"


@pytest.mark.parametrize("path", [p for p in SCHEMA_FILES if p.stem.startswith(("redacted_", "analytics_"))],
                         ids=lambda p: p.name)
def test_downstream_schemas_hold_no_untransformed_personal_data(path):
    for p, f in leaf_fields(_load(path)):
        assert f.get("pii") in (None, "none"), f"{p} is tagged {f.get('pii')} in a downstream schema"


@pytest.mark.parametrize("raw_path", sorted(SCHEMA_DIR.glob("raw_*.avsc")), ids=lambda p: p.name)
def test_redacted_schema_says_how_each_personal_field_is_transformed(raw_path):
    redacted_path = SCHEMA_DIR / raw_path.name.replace("raw_", "redacted_", 1)
    assert redacted_path.exists(), f"{raw_path.name} has no redacted form"
    assert untransformed_personal_fields(_load(raw_path), _load(redacted_path)) == []


def test_raw_schemas_never_hold_a_card_number_in_the_clear():
    card_fields = [(p, f) for path in SCHEMA_DIR.glob("raw_*.avsc") for p, f in leaf_fields(_load(path))
                   if f.get("pii") == "card_number"]
    assert card_fields and all(f["type"] == "bytes" and "ciphertext" in f["name"] for _, f in card_fields)


# ---------------------------------------------------------------- the checks can fail
def _schema(fields):
    return {"type": "record", "name": "T", "namespace": "com.powersell.pipeline.t", "doc": "t", "fields": fields}


def test_when_a_personal_looking_field_has_no_tag_then_it_is_reported():
    bad = _schema([{"name": "contact", "doc": "d", "type": _schema([{"name": "buyer_email", "type": "string", "doc": "d"}])
                                                                | {"name": "Contact"}},
                   {"name": "client_ip", "type": "string", "doc": "d"},
                   {"name": "shipping", "type": "string", "doc": "d"}])  # "ip" inside a word is not a hit
    assert untagged_personal_fields(bad) == ["contact.buyer_email", "client_ip"]


def test_when_a_redacted_schema_keeps_a_personal_field_silently_then_it_is_reported():
    raw = _schema([{"name": "phone", "type": "string", "doc": "d", "pii": "phone"},
                   {"name": "email", "type": "string", "doc": "d", "pii": "email"},
                   {"name": "status", "type": "string", "doc": "d"}])
    redacted = _schema([{"name": "phone", "type": "string", "doc": "d"},
                        {"name": "email", "type": "string", "doc": "d", "transform": "pseudonym"},
                        {"name": "status", "type": "string", "doc": "d"}])
    assert untransformed_personal_fields(raw, redacted) == ["phone"]
