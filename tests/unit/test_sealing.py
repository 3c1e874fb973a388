"""Personal fields sealed by the schema's "encrypted" marks: the encoded raw record holds no
plaintext, the worker opens it back, and destroying the shop's or a buyer's key makes exactly
their fields unreadable."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.keystore import LocalKeyStore, SecretKey
from pipeline_core.pseudonyms import buyer_subject
from pipeline_core.sample_events import sample_events
from pipeline_core.sealing import RecordSealer, SealingError, SubjectErased, plaintext_definition, sealed_fields
from streams.actions import ActionContext, PseudonymAction

NS = "com.powersell.pipeline.raw."
SCHEMAS = {"raw.shops": NS + "RawShopEvent", "raw.products": NS + "RawProductEvent", "raw.orders": NS + "RawOrderEvent"}
KEY = SecretKey(bytes(range(32)))
EVENTS = sample_events(datetime(2026, 11, 21, tzinfo=timezone.utc))


@pytest.fixture()
def store(tmp_path):
    return LocalKeyStore.in_dir(tmp_path / "keys")


@pytest.fixture()
def sealer(store):
    return RecordSealer(store, KEY, default_registry())


def personal_strings(name: str, record: dict) -> list[str]:
    """Every text value of a sealed field in a plaintext record."""
    leaves, _ = sealed_fields(default_registry().definition(name))
    out = []

    def collect(node, path):
        if isinstance(node, list):
            for item in node:
                collect(item, path)
        elif not path:
            if isinstance(node, str) and len(node) >= 4:
                out.append(node)
        elif isinstance(node, dict):
            collect(node.get(path[0]), path[1:])
    for leaf in leaves:
        collect(record, leaf.path)
    return out


def _addresses(node):
    if isinstance(node, dict):
        if "province" in node:
            yield node
        for value in node.values():
            yield from _addresses(value)
    elif isinstance(node, list):
        for item in node:
            yield from _addresses(item)


@pytest.mark.parametrize("topic_name, key, record", EVENTS, ids=lambda v: v if isinstance(v, str) else "")
def test_when_sealed_then_the_encoded_record_holds_no_personal_text_and_opens_back(sealer, topic_name, key, record):
    name = SCHEMAS[topic_name]
    before = copy.deepcopy(record)
    sealed = sealer.seal(name, record)
    assert record == before  # the mapping's record is not changed
    data = default_registry().encode(name, sealed)
    secrets = personal_strings(name, record)
    assert secrets, "the sample has personal text"
    in_clear = {str(a.get("province")) for a in _addresses(record)}  # provinces stay readable by design
    for text in set(secrets) - in_clear:
        assert text.encode("utf-8") not in data, "a personal value is readable in the raw bytes"
    _, decoded = default_registry().decode(data)
    opened = sealer.open(name, decoded)
    assert {k: v for k, v in opened.items() if k != "payment"} == {k: v for k, v in record.items() if k != "payment"}
    if record.get("payment"):
        assert opened["payment"]["method"] == record["payment"]["method"]


def test_the_clear_fields_are_only_what_the_pipeline_needs(sealer):
    _, _, order = next(e for e in EVENTS if e[0] == "raw.orders")
    sealed = sealer.seal(SCHEMAS["raw.orders"], order)
    for field in ("event_id", "shop_id", "order_id", "status", "total_amount", "currency", "event_time"):
        assert sealed[field] == order[field]
    assert sealed["recipient"]["address"]["province"] == order["recipient"]["address"]["province"]
    assert sealed["recipient"]["address"]["country"] == order["recipient"]["address"]["country"]
    assert isinstance(sealed["recipient"]["address"]["district"], bytes)
    assert all(isinstance(line, bytes) for line in sealed["recipient"]["address"]["address_lines"])
    assert isinstance(sealed["payment"]["card"]["card_ciphertext"], bytes)


def test_a_buyers_fields_are_under_the_buyers_pseudonym_key_and_the_product_title_under_the_shops(sealer, store):
    _, key, order = next(e for e in EVENTS if e[0] == "raw.orders")
    sealed = sealer.seal(SCHEMAS["raw.orders"], order)
    buyer = buyer_subject(KEY, order["marketplace"], order["buyer"]["buyer_user_id"])
    # the same pseudonym the redaction policy writes downstream (customer_id, per marketplace)
    policy_action = PseudonymAction(kind="customer_id", scope="marketplace", normalise="strip")
    assert buyer == policy_action.apply(order["buyer"]["buyer_user_id"],
                                        ActionContext(pseudonym_key=KEY, marketplace=order["marketplace"]))
    assert store.open(buyer, sealed["recipient"]["name"]) == order["recipient"]["name"].encode()
    assert store.open(key, sealed["items"][0]["product_title"]) == order["items"][0]["product_title"].encode()


def test_when_a_buyer_is_erased_then_only_their_orders_stop_opening(sealer, store):
    orders = [(k, r) for t, k, r in EVENTS if t == "raw.orders"]
    sealed = [sealer.seal(SCHEMAS["raw.orders"], r) for _, r in orders]
    erased = buyer_subject(KEY, orders[0][1]["marketplace"], orders[0][1]["buyer"]["buyer_user_id"])
    assert store.destroy(erased)
    with pytest.raises(SubjectErased) as caught:
        sealer.open(SCHEMAS["raw.orders"], sealed[0])
    assert caught.value.owner == "buyer"
    assert orders[0][1]["recipient"]["name"] not in str(caught.value)
    assert sealer.open(SCHEMAS["raw.orders"], sealed[1])["recipient"] == orders[1][1]["recipient"]


def test_when_a_shop_is_erased_then_its_shop_and_product_records_stop_opening(sealer, store):
    shop_key, shop = next((k, r) for t, k, r in EVENTS if t == "raw.shops")
    product = next(r for t, k, r in EVENTS if t == "raw.products" and k == shop_key)
    sealed_shop, sealed_product = sealer.seal(SCHEMAS["raw.shops"], shop), sealer.seal(SCHEMAS["raw.products"], product)
    other = next(r for t, k, r in EVENTS if t == "raw.shops" and k != shop_key)
    sealed_other = sealer.seal(SCHEMAS["raw.shops"], other)
    assert store.destroy(shop_key)
    for name, rec in ((SCHEMAS["raw.shops"], sealed_shop), (SCHEMAS["raw.products"], sealed_product)):
        with pytest.raises(SubjectErased):
            sealer.open(name, rec)
    assert sealer.open(SCHEMAS["raw.shops"], sealed_other)["seller"] == other["seller"]


def test_records_written_before_sealing_still_open_as_they_are(sealer):
    _, _, shop = EVENTS[0]
    assert sealer.open(SCHEMAS["raw.shops"], shop) == shop


def test_another_shops_ciphertext_in_a_field_is_refused(sealer):
    (_, _, a), (_, _, b) = [e for e in EVENTS if e[0] == "raw.shops"][:2]
    sealed_a, sealed_b = sealer.seal(SCHEMAS["raw.shops"], a), sealer.seal(SCHEMAS["raw.shops"], b)
    swapped = {**sealed_a, "shop_name": sealed_b["shop_name"]}
    with pytest.raises(SealingError, match="shop_name"):
        sealer.open(SCHEMAS["raw.shops"], swapped)


def test_plaintext_definition_is_the_schema_the_mappings_fill():
    definition = plaintext_definition(default_registry().definition(SCHEMAS["raw.orders"]))
    recipient = next(f for f in definition["fields"] if f["name"] == "recipient")
    name = next(f for f in recipient["type"][1]["fields"] if f["name"] == "name")
    assert name["type"] == ["null", "string"]


def test_without_a_pseudonym_key_buyers_cannot_be_sealed(store):
    with pytest.raises(SealingError, match="pseudonym key"):
        RecordSealer(store, None, default_registry())
