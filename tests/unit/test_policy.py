"""The redaction policy file and its checks against the schemas: every failure stops the
worker at start with one message naming the kind and the field (fail closed). Free-text
fields each have their own entry, scan or drop."""

from __future__ import annotations

import copy
import json
import shutil
from collections import Counter
from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from pipeline_core.avro_codec import SchemaRegistry, default_registry
from schemas import PII_KINDS, SCHEMA_DIR
from pipeline_core.keystore import SecretKey
from pipeline_core.sample_events import sample_events
from streams.policy import (DEFAULT_POLICY, FREE_TEXT_ACTIONS, Policy, PolicyError, free_text_key, load_policy,
                            tagged_fields)
from streams.redaction import Redactor, validate_schemas

SHIPPED = json.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
RAW_ORDER = "com.powersell.pipeline.raw.RawOrderEvent"
RED_ORDER = "com.powersell.pipeline.redacted.RedactedOrderEvent"


# ---------------------------------------------------------------- the shipped policy
def test_when_the_shipped_policy_loads_then_it_has_a_version_and_a_rule_for_every_kind():
    policy = load_policy()
    assert policy.version == SHIPPED["version"]
    assert set(policy.rules) == PII_KINDS


def test_when_the_shipped_policy_is_checked_against_the_shipped_schemas_then_it_passes():
    validate_schemas(load_policy(), default_registry())


@pytest.mark.parametrize("kind, action, params", [
    ("person_name", "drop", {}), ("username", "drop", {}), ("email", "pseudonym", {"scope": "global"}),
    ("phone", "mask", {"keep_last": 3}), ("fax", "drop", {}), ("postal_address", "drop", {}),
    ("location_region", "generalise", {"to": "province"}), ("postal_code", "drop", {}), ("url", "drop", {}),
    ("card_number", "drop", {}), ("card_last4", "mask", {"keep_last": 4}), ("tax_id", "drop", {}),
    ("customer_id", "pseudonym", {"scope": "marketplace"}),
    ("ip_address", "generalise", {"to": "network", "ipv4_prefix": 24, "ipv6_prefix": 48}),
    ("tracking_id", "pseudonym", {}), ("date_of_birth", "generalise", {"to": "year"}),
    ("free_text", "scan", {}), ("raw_payload", "drop", {}), ("none", "keep", {}),
])
def test_when_the_shipped_policy_is_read_then_each_kind_has_the_agreed_action(kind, action, params):
    rule = load_policy().rules[kind]
    assert rule.action_name == action
    assert all(getattr(rule.action, name) == value for name, value in params.items())


# ---------------------------------------------------------------- the file itself
def _policy_with(change) -> dict:
    data = copy.deepcopy(SHIPPED)
    change(data)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda d: d["rules"].pop("phone"), "no rule for kind 'phone'"),
    (lambda d: d["rules"].update(passport={"action": "drop"}), "unknown kind 'passport'"),
    (lambda d: d["rules"].update(phone={"action": "hash"}), "kind 'phone' names unknown action 'hash'"),
    (lambda d: d["rules"].update(phone={"action": "mask", "keep_last": 9}), "kind 'phone'.*keep_last"),
    (lambda d: d["rules"].update(phone={"action": "mask", "digits": 3}), "kind 'phone'.*no parameter digits"),
    (lambda d: d["rules"].update(phone="mask"), "kind 'phone' must be an object"),
    (lambda d: d["rules"].update(phone={"keep_last": 3}), "kind 'phone' must be an object with an \"action\""),
    (lambda d: d.pop("version"), "version"),
    (lambda d: d.update(version="2026 11"), "version"),
    (lambda d: d.pop("rules"), "rules"),
])
def test_when_the_policy_file_is_wrong_then_loading_fails_closed_naming_the_kind(change, message):
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(_policy_with(change))


@pytest.mark.parametrize("content, message", [(None, "does not exist"), ("{not json", "cannot be read")])
def test_when_the_policy_file_is_missing_or_not_json_then_loading_fails(tmp_path, content, message):
    path = tmp_path / "policy.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


# ---------------------------------------------------------------- against the schemas
def _registry(tmp_path, name: str, change) -> SchemaRegistry:
    """The shipped schemas with one schema file changed (name: its stem)."""
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / f"{name}.avsc"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")
    return SchemaRegistry.from_dir(folder)


def _field(record: dict, dotted: str) -> dict:
    """A field of a schema definition by dotted path, through nullable records."""
    head, _, rest = dotted.partition(".")
    field = next(f for f in record["fields"] if f["name"] == head)
    if not rest:
        return field
    inner = field["type"]
    inner = next(b for b in inner if b != "null") if isinstance(inner, list) else inner
    return _field(inner, rest)


def _add(record_path: str, field: dict):
    def change(schema):
        target = _field(schema, record_path) if record_path else {"type": schema}
        inner = target["type"]
        inner = next(b for b in inner if b != "null") if isinstance(inner, list) else inner
        inner["fields"].append(field)
    return change


def _set(dotted: str, key: str, value):
    def change(schema):
        field = _field(schema, dotted)
        if value is None:
            field.pop(key, None)
        else:
            field[key] = value
    return change


SCHEMA_PROBLEMS = [
    ("raw_order_event", _set("buyer_note", "pii", "passport"),
     r"RawOrderEvent.buyer_note is tagged with unknown kind 'passport'"),
    ("redacted_order_event", _set("recipient.phone", "transform", "pseudonym"),
     r"RedactedOrderEvent.recipient.phone says transform 'pseudonym', but the policy's action for kind 'phone' is 'mask'"),
    ("redacted_order_event", _set("buyer_ip", "transform", None),
     r"RedactedOrderEvent.buyer_ip says no transform, but the policy's action for kind 'ip_address' is 'generalise'"),
    ("redacted_order_event", _set("currency", "transform", "mask"),
     r"RedactedOrderEvent.currency says transform 'mask', but its source field has no \"pii\" tag"),
    ("redacted_order_event", _set("buyer_ip", "transform", "shred"),
     r"RedactedOrderEvent.buyer_ip: unknown transform 'shred'"),
    ("redacted_order_event", _add("recipient", {"name": "name", "type": ["null", "string"], "default": None,
                                                "doc": "d", "transform": "mask"}),
     r"RedactedOrderEvent.recipient.name holds kind 'person_name', which the policy drops"),
    ("redacted_order_event", _set("currency", "pii", "phone"),
     r"RedactedOrderEvent.currency is tagged 'phone': a redacted schema holds no personal data"),
    ("redacted_order_event", _add("", {"name": "shoe_size", "type": ["null", "string"], "default": None, "doc": "d"}),
     r"RedactedOrderEvent.shoe_size has no source field in com.powersell.pipeline.raw.RawOrderEvent"),
    ("redacted_order_event", _add("", {"name": "buyer_note_words", "type": {"type": "array", "items": "string"},
                                       "default": [], "doc": "d"}),
     r"RedactedOrderEvent.buyer_note_words has no source field"),
]


@pytest.mark.parametrize("schema, change, message", SCHEMA_PROBLEMS, ids=lambda p: p if isinstance(p, str) else "")
def test_when_a_schema_disagrees_with_the_policy_then_validation_fails_closed_naming_the_field(
        tmp_path, schema, change, message):
    with pytest.raises(PolicyError, match=message):
        validate_schemas(load_policy(), _registry(tmp_path, schema, change))


def test_when_a_tagged_field_has_no_rule_then_validation_fails_closed_naming_kind_and_field():
    shipped = load_policy()
    rules = {kind: rule for kind, rule in shipped.rules.items() if kind != "phone"}
    with pytest.raises(PolicyError, match=r"no rule for kind 'phone', tagged on .*RawOrderEvent.recipient.phone"):
        validate_schemas(Policy("test", MappingProxyType(rules), free_text_fields=shipped.free_text_fields),
                         default_registry())


def test_when_the_policy_changes_an_action_the_schemas_rely_on_then_validation_fails_closed():
    data = _policy_with(lambda d: d["rules"].update(email={"action": "mask", "keep_last": 0}))
    with pytest.raises(PolicyError, match=r"RedactedShopEvent.seller.email says transform 'pseudonym', "
                                          r"but the policy's action for kind 'email' is 'mask'"):
        validate_schemas(Policy.from_dict(data), default_registry())


def test_when_a_raw_schema_has_no_redacted_counterpart_then_validation_fails_closed(tmp_path):
    registry = _registry(tmp_path, "raw_shop_event", lambda s: None)
    (tmp_path / "schemas" / "redacted_shop_event.avsc").unlink()
    with pytest.raises(PolicyError, match="RawShopEvent has no redacted counterpart .*RedactedShopEvent"):
        validate_schemas(load_policy(), SchemaRegistry.from_dir(tmp_path / "schemas"))
    assert registry  # the unchanged copy loads


def test_when_tags_are_listed_then_nested_records_and_arrays_are_included():
    tags = dict(tagged_fields(default_registry().definition(RAW_ORDER)))
    assert tags[f"{RAW_ORDER}.recipient.address.province"] == "location_region"
    assert tags[f"{RAW_ORDER}.items.product_title"] == "free_text"
    assert tags[f"{RAW_ORDER}.payment.card.card_ciphertext"] == "card_number"


# ---------------------------------------------------------------- free-text fields, one entry each
def _free_text_fields(registry) -> set[str]:
    out = set()
    for name in registry.names():
        if ".raw." in name:
            definition = registry.definition(name)
            out |= {free_text_key(definition, where) for where, kind in tagged_fields(definition) if kind == "free_text"}
    return out


def test_when_the_shipped_policy_is_read_then_every_free_text_field_has_its_own_scan_or_drop_entry():
    fields = _free_text_fields(default_registry())
    assert {"RawOrderEvent.buyer_note", "RawOrderEvent.items.product_title", "RawProductEvent.title",
            "RawProductEvent.description", "RawShopEvent.shop_name"} <= fields
    policy = load_policy()
    assert set(policy.free_text_fields) == fields  # no entry for a field that does not exist
    assert {a.name for a in policy.free_text_fields.values()} <= set(FREE_TEXT_ACTIONS)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("free_text_fields"), r"\"free_text_fields\" must be an object"),
    (lambda d: d["free_text_fields"].update({"RawOrderEvent.buyer_note": {"action": "mask"}}),
     r"free-text field RawOrderEvent.buyer_note has unknown action 'mask'; a free-text field says \"scan\" or \"drop\""),
    (lambda d: d["free_text_fields"].update({"RawShopEvent.shop_name": "scan"}),
     r"free-text field RawShopEvent.shop_name has no \"action\""),
    (lambda d: d["free_text_fields"].update({"RawShopEvent.shop_name": {"action": "scan", "keep_last": 3}}),
     r"free-text field RawShopEvent.shop_name: .*keep_last"),
])
def test_when_a_free_text_entry_is_wrong_then_loading_fails_closed_naming_the_field(change, message):
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(_policy_with(change))


@pytest.mark.parametrize("field", ["RawOrderEvent.buyer_note", "RawOrderEvent.items.product_title",
                                   "RawProductEvent.description", "RawShopEvent.shop_name"])
def test_when_a_free_text_field_has_no_entry_then_the_worker_does_not_start(field):
    policy = Policy.from_dict(_policy_with(lambda d: d["free_text_fields"].pop(field)))
    with pytest.raises(PolicyError, match=rf"free-text field {field} has no entry in \"free_text_fields\""):
        validate_schemas(policy, default_registry())


def test_when_a_required_free_text_field_is_set_to_drop_then_the_worker_does_not_start():
    policy = Policy.from_dict(_policy_with(
        lambda d: d["free_text_fields"].update({"RawProductEvent.title": {"action": "drop"}})))
    with pytest.raises(PolicyError, match=r"RedactedProductEvent.title is required in the redacted schema: "
                                          r"free-text field RawProductEvent.title cannot be dropped"):
        validate_schemas(policy, default_registry())


KEY = SecretKey(b"test-pseudonym-key-0123456789abcdef")


def _marking_scanner(text: str):
    return f"<scanned {len(text)}>", Counter({"NAME": 1})


def _redacted_order(action: str):
    policy = Policy.from_dict(_policy_with(
        lambda d: d["free_text_fields"].update({"RawOrderEvent.buyer_note": {"action": action}})))
    redactor = Redactor(policy, default_registry(), pseudonym_key=KEY, scanner=_marking_scanner)
    raw = next(r for t, _, r in sample_events(datetime(2026, 11, 21, tzinfo=timezone.utc))
               if t == "raw.orders" and r.get("buyer_note"))
    return raw, *redactor.redact(RAW_ORDER, raw)[1:]


def test_when_buyer_note_says_drop_then_it_is_null_downstream_and_the_item_titles_are_still_scanned():
    raw, red, counts = _redacted_order("drop")
    assert raw["buyer_note"] and red["buyer_note"] is None
    assert counts["free_text"] == 1
    assert all(item["product_title"].startswith("<scanned") for item in red["items"] if item["product_title"])


def test_when_buyer_note_says_scan_then_it_is_the_scanner_output():
    raw, red, counts = _redacted_order("scan")
    assert red["buyer_note"] == f"<scanned {len(raw['buyer_note'])}>"
    assert counts["NAME"] >= 1 and counts["free_text"] == 0
