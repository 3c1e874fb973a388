"""Raw events -> redacted events: every result encodes with the redacted schema, no seeded
canary survives except what the policy keeps by design, the raw record is never changed,
and a redactor that is missing anything refuses to start."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import random
import re
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import fastavro
import pytest
from fastavro.utils import generate_many

from pipeline_core.avro_codec import SchemaRegistry, default_registry
from pipeline_core.errors import ConfigError
from pipeline_core.sample_events import sample_events
from pipeline_core.sealing import plaintext_definition
from pipeline_core.topics import topic
from streams import redaction as redaction_module
from streams.actions import pseudonymise
from pipeline_core.keystore import KeyDestroyed, LocalKeyStore, SecretKey
from streams.policy import DEFAULT_POLICY, Policy, PolicyError, load_policy
from streams.redaction import RedactionError, Redactor, load_pseudonym_key, redacted_name

KEY = SecretKey(b"test-pseudonym-key-0123456789abcdef")
NS = "com.powersell.pipeline"
RAW_NAMES = [f"{NS}.raw.RawShopEvent", f"{NS}.raw.RawProductEvent", f"{NS}.raw.RawOrderEvent"]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
_CANARY = re.compile(r"\S*canary\S*", re.IGNORECASE)


def scanner(text: str) -> tuple[str, Counter]:
    """A stand-in for streams.detectors.redact_text: e-mails, phone numbers and canary words."""
    found: Counter = Counter()

    def replace(kind: str, placeholder: str):
        def sub(match: re.Match) -> str:
            found[kind] += 1
            return placeholder
        return sub

    text = _EMAIL.sub(replace("email", "[EMAIL]"), text)
    text = _PHONE.sub(replace("phone", "[PHONE]"), text)
    text = _CANARY.sub(replace("person_name", "[NAME]"), text)
    return text, found


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return default_registry()


@pytest.fixture(scope="module")
def redactor(registry) -> Redactor:
    return Redactor(load_policy(), registry, pseudonym_key=KEY, scanner=scanner)


def _encodes(registry, name: str, record: dict) -> bytes:
    data = registry.encode(name, record)
    assert registry.decode(data)[0] == name
    return data


# ---------------------------------------------------------------- every record encodes
@pytest.mark.parametrize("topic_name, key, record", sample_events(datetime(2026, 11, 21, tzinfo=timezone.utc)),
                         ids=lambda v: v if isinstance(v, str) and "." in v else "")
def test_when_a_sample_event_is_redacted_then_it_encodes_with_the_redacted_schema(
        registry, redactor, topic_name, key, record):
    raw_name = topic(topic_name).value_schema
    name, redacted, _ = redactor.redact(raw_name, record)
    assert name == redacted_name(raw_name) == topic(topic_name.replace("raw.", "redacted.")).value_schema
    assert redacted["policy_version"] == load_policy().version
    _encodes(registry, name, redacted)


@pytest.mark.parametrize("raw_name", RAW_NAMES)
def test_when_generated_raw_records_are_redacted_then_they_all_encode(registry, redactor, raw_name):
    random.seed(raw_name)
    plaintext = fastavro.parse_schema(plaintext_definition(registry.definition(raw_name)), named_schemas={})
    for record in generate_many(plaintext, 40):  # as the worker hands records over: sealed fields opened
        name, redacted, _ = redactor.redact(raw_name, record)
        _encodes(registry, name, redacted)


# ---------------------------------------------------------------- canaries
def _named(schema, out=None) -> dict:
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            _named(branch, out)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            out[f"{schema['namespace']}.{schema['name']}"] = schema
        for field in schema.get("fields", ()):
            _named(field["type"], out)
        if "items" in schema:
            _named(schema["items"], out)
    return out


_counter = itertools.count(10)


def _canary(kind: str):
    """A value of the kind that says where it came from; digits only where the kind needs them."""
    n = next(_counter)
    return {
        "person_name": f"Canaryname{n} Zq", "username": f"canary_user_{n}", "email": f"canary{n}@example.invalid",
        "phone": f"+84 9{n} 765 43{n}", "fax": f"fax canary {n}", "postal_address": f"{n} Đường Canary {n}",
        "location_region": f"Canaryregion{n}", "postal_code": f"PC-CANARY-{n}", "url": f"https://canary{n}.example",
        "card_number": f"CANARY-CARD-{n}".encode(), "card_last4": "4242", "tax_id": f"canary-tax-{n}",
        "customer_id": f"canary-buyer-{n}", "ip_address": f"203.0.113.{n}", "tracking_id": f"CANARYTRACK{n}VN",
        "free_text": f"Canary{n} gọi 0987 654 {n}1, mail canary{n}@mail.invalid",
        "none": f"Đồ gia dụng {n}",
    }[kind]


def _fill(schema, named: dict, path: str, seeded: list, kind: str | None = None):
    """A full record (every optional part present, arrays of two) with a canary in each tagged field."""
    if isinstance(schema, list):
        return _fill(next(b for b in schema if b != "null"), named, path, seeded, kind)
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, dict) and schema.get("type") == "record":
        return {f["name"]: _fill(f["type"], named, f"{path}.{f['name']}".lstrip("."), seeded, f.get("pii"))
                for f in schema["fields"]}
    if isinstance(schema, dict) and schema.get("type") == "array":
        return [_fill(schema["items"], named, path, seeded, kind) for _ in range(2)]
    if kind is not None:
        value = _canary(kind)
        seeded.append((path, kind, value))
        return value
    if isinstance(schema, dict) and schema.get("type") == "enum":
        return schema["symbols"][0]
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    base = schema.get("type") if isinstance(schema, dict) else schema
    return {"timestamp-millis": datetime(2026, 11, 20, tzinfo=timezone.utc), "decimal": Decimal("12.50")}.get(
        logical, {"string": f"plain-{path}", "int": 2, "long": 2, "bytes": b"plain"}.get(base))


def _at(record, path: str):
    values = [record]
    for step in path.split("."):
        values = [v for value in values for v in (value if isinstance(value, list) else [value])]
        values = [value.get(step) if isinstance(value, dict) else None for value in values]
    return values


@pytest.mark.parametrize("raw_name", RAW_NAMES)
def test_when_every_tagged_field_holds_a_canary_then_none_survives_except_what_the_policy_keeps(
        registry, redactor, raw_name):
    seeded: list = []
    definition = registry.definition(raw_name)
    record = _fill(definition, _named(definition), "", seeded)
    name, redacted, counts = redactor.redact(raw_name, record)
    data = _encodes(registry, name, redacted)

    assert b"canary" not in data.lower()
    kinds = {kind for _, kind, _ in seeded}
    for path, kind, value in seeded:
        raw = value if isinstance(value, bytes) else value.encode()
        if kind == "none":
            assert _at(redacted, path) == [value] * len(_at(redacted, path)) and raw in data
        elif kind == "card_last4":
            assert _at(redacted, "payment.last4") == ["4242"]
        else:
            assert raw not in data, f"{path} ({kind}) leaked"
        if kind == "phone":
            digits = re.sub(r"\D", "", value)
            assert digits[:-3].encode() not in data  # only the last three digits may remain
    if "phone" in kinds:
        path, _, value = next(s for s in seeded if s[1] == "phone" and s[0].endswith(".phone"))
        digits = re.sub(r"\D", "", value)
        assert _at(redacted, path) == ["*" * (len(digits) - 3) + digits[-3:]]
    if "ip_address" in kinds:
        assert redacted["buyer_ip"] == "203.0.113.0/24"
    if "customer_id" in kinds:
        buyer = _at(record, "buyer.buyer_user_id")[0]
        assert redacted["buyer"]["buyer_user_id"] == pseudonymise(KEY.reveal(), "customer_id", "SHOPEE", buyer)
    assert {kind for kind in kinds - {"none", "free_text"} if counts[kind] == 0} == set()


# ---------------------------------------------------------------- what each field becomes
def _sample(topic_name: str, index: int = 0) -> dict:
    return [r for t, _, r in sample_events(datetime(2026, 11, 21, tzinfo=timezone.utc)) if t == topic_name][index]


ORDER, SHOP = f"{NS}.raw.RawOrderEvent", f"{NS}.raw.RawShopEvent"


def test_when_the_sample_card_order_is_redacted_then_each_field_is_transformed_as_the_policy_says(redactor):
    raw = _sample("raw.orders", 0)
    _, red, counts = redactor.redact(ORDER, raw)
    assert red["buyer"] == {"buyer_user_id": pseudonymise(KEY.reveal(), "customer_id", "SHOPEE", "b9000")}
    assert red["recipient"] == {"phone": "*******321", "address": {"province": "Hải Phòng", "country": "VN"}}
    assert red["payment"] == {"method": "CARD", "card_brand": "VISA", "last4": "1111"}
    assert red["buyer_note"] == "Giao giờ hành chính, gọi trước [PHONE]"  # policy.json scans buyer notes
    assert red["buyer_ip"] == "113.161.45.0/24"
    assert (red["order_id"], red["total_amount"], red["items"][0]["product_title"]) == (
        raw["order_id"], raw["total_amount"], raw["items"][0]["product_title"])
    assert counts == Counter({"phone": 2, "postal_address": 2, "location_region": 2, "customer_id": 1,
                              "username": 1, "person_name": 1, "card_number": 1, "card_last4": 1, "ip_address": 1})


@pytest.mark.parametrize("payment, expected", [
    (None, None),
    ({"method": "COD", "card": None, "billing_tax_code": "0312345678", "billing_company": "Lan"},
     {"method": "COD", "card_brand": None, "last4": None}),
    ({"method": "CARD", "card": {"card_ciphertext": b"x" * 40, "brand": "JCB", "last4": "0005"},
      "billing_tax_code": None, "billing_company": None},
     {"method": "CARD", "card_brand": "JCB", "last4": "0005"}),
])
def test_when_payment_varies_then_brand_and_last4_come_from_the_card(redactor, payment, expected):
    raw = {**_sample("raw.orders", 0), "payment": payment}
    assert redactor.redact(ORDER, raw)[1]["payment"] == expected


@pytest.mark.parametrize("province, city, expected", [
    ("TP. Hồ Chí Minh", None, "Hồ Chí Minh"),
    (None, "Thành phố Hồ Chí Minh", "Hồ Chí Minh"),   # Lazada gives a shop's region as the city only
    ("จังหวัดเชียงใหม่", "เชียงใหม่", "เชียงใหม่"),
    (None, "Thủ Dầu Một", None),                      # a city that is not a province says nothing
    ("Quận 3", None, None),
])
def test_when_an_address_is_generalised_then_only_a_known_province_and_the_country_remain(
        redactor, province, city, expected):
    raw = copy.deepcopy(_sample("raw.shops", 1))
    raw["seller"]["address"].update(province=province, city=city)
    assert redactor.redact(SHOP, raw)[1]["seller"]["address"] == {"province": expected, "country": "VN"}


def test_when_the_same_buyer_appears_in_two_events_then_the_pseudonym_is_the_same_and_marketplaces_differ(
        redactor):
    first, second = _sample("raw.orders", 0), {**_sample("raw.orders", 0), "event_id": "other", "order_id": "2"}
    lazada = {**first, "marketplace": "LAZADA"}
    ids = [redactor.redact(ORDER, r)[1]["buyer"]["buyer_user_id"] for r in (first, second, lazada)]
    assert ids[0] == ids[1] != ids[2]


def test_when_an_email_is_pseudonymised_then_it_is_the_same_in_every_topic(redactor):
    shop = _sample("raw.shops", 0)
    email = shop["seller"]["email"]
    redacted = redactor.redact(SHOP, shop)[1]["seller"]["email"]
    assert redacted == pseudonymise(KEY.reveal(), "email", "", email.casefold())
    upper = copy.deepcopy(shop)
    upper["seller"]["email"] = email.upper()
    assert redactor.redact(SHOP, upper)[1]["seller"]["email"] == redacted


@pytest.mark.parametrize("topic_name", ["raw.shops", "raw.products", "raw.orders"])
def test_when_redacted_then_the_raw_record_is_unchanged_and_shares_nothing_mutable(redactor, topic_name):
    raw = _sample(topic_name)
    before = copy.deepcopy(raw)
    _, red, _ = redactor.redact(topic(topic_name).value_schema, raw)
    assert raw == before

    def containers(node, out):
        if isinstance(node, (dict, list)):
            out.add(id(node))
            for child in node.values() if isinstance(node, dict) else node:
                containers(child, out)
        return out
    assert containers(raw, set()).isdisjoint(containers(red, set()))


# ---------------------------------------------------------------- failing closed
def test_when_the_pseudonym_key_is_missing_then_the_redactor_does_not_start(registry):
    with pytest.raises(PolicyError, match="pseudonym key"):
        Redactor(load_policy(), registry, scanner=scanner)


def test_when_no_scanner_exists_then_the_redactor_does_not_start(registry, monkeypatch):
    monkeypatch.setattr(redaction_module, "default_scanner", lambda: None)
    with pytest.raises(PolicyError, match="scans free text and no scanner"):
        Redactor(load_policy(), registry, pseudonym_key=KEY)


def test_when_the_detectors_package_has_redact_text_then_it_is_the_default_scanner(monkeypatch):
    import types
    module = types.ModuleType("streams.detectors")
    module.redact_text = scanner
    monkeypatch.setitem(__import__("sys").modules, "streams.detectors", module)
    assert redaction_module.default_scanner() is scanner


def test_when_a_scanner_fails_then_the_record_fails_without_its_text_in_the_message(registry):
    def broken(text):
        raise ValueError(f"cannot scan {text}")
    redactor = Redactor(load_policy(), registry, pseudonym_key=KEY, scanner=broken)
    with pytest.raises(RedactionError) as caught:
        redactor.redact(ORDER, _sample("raw.orders", 0))
    assert "Giao" not in str(caught.value) and "ValueError" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("name, record, message", [
    ("com.powersell.pipeline.raw.RawChatEvent", {}, "no redaction plan"),
    (ORDER, {**_sample("raw.orders", 0), "buyer": None}, "RedactedOrderEvent.buyer is required"),
])
def test_when_a_record_cannot_be_redacted_then_it_is_refused(redactor, name, record, message):
    with pytest.raises(RedactionError, match=message):
        redactor.redact(name, record)


# ---------------------------------------------------------------- encryption end to end
RAW_NOTE = {"type": "record", "name": "RawNoteEvent", "namespace": f"{NS}.raw", "doc": "d", "fields": [
    {"name": "marketplace", "type": "string", "doc": "d"},
    {"name": "shop_id", "type": "string", "doc": "d"},
    {"name": "buyer", "doc": "d", "type": {"type": "record", "name": "NoteBuyer", "doc": "d", "fields": [
        {"name": "buyer_user_id", "type": ["null", "string"], "default": None, "doc": "d", "pii": "customer_id"}]}},
    {"name": "contact_email", "type": ["null", "string"], "default": None, "doc": "d", "pii": "email"}]}
RED_NOTE = {"type": "record", "name": "RedactedNoteEvent", "namespace": f"{NS}.redacted", "doc": "d", "fields": [
    {"name": "marketplace", "type": "string", "doc": "d"},
    {"name": "shop_id", "type": "string", "doc": "d"},
    {"name": "policy_version", "type": "string", "doc": "d"},
    {"name": "buyer", "doc": "d", "type": {"type": "record", "name": "NoteBuyer", "doc": "d", "fields": [
        {"name": "buyer_user_id", "type": ["null", "string"], "default": None, "doc": "d",
         "transform": "pseudonym"}]}},
    {"name": "contact_email", "type": ["null", "bytes"], "default": None, "doc": "d", "transform": "encrypt"}]}


def test_when_a_policy_encrypts_then_the_buyers_key_opens_it_until_the_buyer_is_erased(tmp_path):
    (tmp_path / "schemas").mkdir()
    for schema in (RAW_NOTE, RED_NOTE):
        (tmp_path / "schemas" / f"{schema['name']}.avsc").write_text(json.dumps(schema))
    registry = SchemaRegistry.from_dir(tmp_path / "schemas")
    data = json.loads(DEFAULT_POLICY.read_text())
    data["rules"]["email"] = {"action": "encrypt"}
    policy = Policy.from_dict(data)
    with pytest.raises(PolicyError, match="key store"):
        Redactor(policy, registry, pseudonym_key=KEY)
    store = LocalKeyStore.in_dir(tmp_path / "keys")
    redactor = Redactor(policy, registry, pseudonym_key=KEY, keystore=store)
    raw = {"marketplace": "LAZADA", "shop_id": "1", "buyer": {"buyer_user_id": "b77"}, "contact_email": "mai@x.vn"}
    name, red, counts = redactor.redact(f"{NS}.raw.RawNoteEvent", raw)
    encoded = _encodes(registry, name, red)
    subject = red["buyer"]["buyer_user_id"]  # the buyer's consent subject id is their pseudonym
    assert b"mai@x.vn" not in encoded and counts == Counter(customer_id=1, email=1)
    assert store.open(subject, red["contact_email"]) == b"mai@x.vn"
    store.destroy(subject)
    with pytest.raises(KeyDestroyed):
        store.open(None, red["contact_email"])


# ---------------------------------------------------------------- the pseudonym key from the environment
V = "POWERSELL_PSEUDONYM_KEY"


def test_when_the_pseudonym_key_comes_from_env_or_file_then_it_loads_and_never_prints(tmp_path):
    key = bytes(range(32))
    (tmp_path / "k").write_bytes(key)
    assert load_pseudonym_key({V: key.hex()}) == SecretKey(key)
    assert load_pseudonym_key({V: base64.b64encode(key).decode()}) == SecretKey(key)
    assert load_pseudonym_key({f"{V}_FILE": str(tmp_path / "k")}) == SecretKey(key)
    assert load_pseudonym_key({}) is None
    assert key.hex() not in repr(load_pseudonym_key({V: key.hex()}))


@pytest.mark.parametrize("env", [{V: "c2hvcnQ="}, {V: "not base64!"}, {f"{V}_FILE": "/nonexistent/key"}])
def test_when_the_pseudonym_key_is_short_or_unreadable_then_loading_fails_without_showing_it(env):
    with pytest.raises(ConfigError) as caught:
        load_pseudonym_key(env)
    assert "c2hvcnQ=" not in str(caught.value)


def test_when_built_from_the_environment_then_policy_key_and_scanner_are_used(registry, tmp_path):
    env = {V: bytes(range(32)).hex(), "POWERSELL_REDACTION_POLICY": str(DEFAULT_POLICY)}
    redactor = Redactor.from_env(registry, env, scanner=scanner)
    assert redactor.redact(ORDER, _sample("raw.orders", 0))[1]["policy_version"] == load_policy().version
    with pytest.raises(PolicyError, match="pseudonym key"):
        Redactor.from_env(registry, {}, scanner=scanner)
