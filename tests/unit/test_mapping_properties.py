"""Property: every marketplace mapping turns any JSON-ish payload into a raw event that encodes
under its Avro contract, or raises MappingError (a dead letter with a reason). Nothing else may
escape: a KeyError, TypeError or OverflowError would stop a sync instead of dead-lettering one
record. Payloads are the mapping tests' valid ones with a few fields deleted or replaced by
random JSON values (so every field is reached), and wholly random objects."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from connectors.lazada import mapping as lazada
from connectors.shopee import mapping as shopee
from connectors.tiktok_shop import mapping as tiktok_shop
from connectors.base import MappingError
from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import SchemaError
from tests.unit import test_lazada_mapping as lazada_samples
from tests.unit import test_shopee_mapping as shopee_samples
from tests.unit import test_tiktok_shop_mapping as tiktok_samples

NS = "com.powersell.pipeline.raw"
INGEST = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
UNTIL = datetime(2026, 1, 1, tzinfo=timezone.utc)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def seal(number: str) -> bytes:
    return b"\x01\x04kid1" + bytes(reversed(number.encode()))  # stand-in ciphertext: never the number


def _item_and_models(payload):
    """ShopeeApi hands map_product a list of models (get_model_list's, checked) or None."""
    if not isinstance(payload, dict):
        return payload, []
    models = payload.get("models")
    return payload.get("item"), models if isinstance(models, list) else []


# (name, schema, sample payload, mapping) for every mapping function of the three marketplaces
MAPPINGS = [
    ("shopee.map_shop", "RawShopEvent", shopee_samples.SHOP_INFO,
     lambda p: shopee.map_shop(p, "220145871", "FULL_SYNC", INGEST)),
    ("shopee.map_product", "RawProductEvent", shopee_samples.ITEM,
     lambda p: shopee.map_product(p, None, "220145871", "FULL_SYNC", category_names={"100017": "Áo"},
                                  ingest_time=INGEST)),
    ("shopee.map_product+models", "RawProductEvent", {"item": shopee_samples.ITEM, "models": shopee_samples.MODELS},
     lambda p: shopee.map_product(*_item_and_models(p), "220145871", "FULL_SYNC", ingest_time=INGEST)),
    ("shopee.map_order", "RawOrderEvent", shopee_samples.ORDER,
     lambda p: shopee.map_order(p, "220145871", "FULL_SYNC", seal, INGEST)),
    ("lazada.map_shop", "RawShopEvent", lazada_samples.seller_payload(),
     lambda p: lazada.map_shop(p, "1000123456", "FULL_SYNC", INGEST, country="VN", authorised_until=UNTIL)),
    ("lazada.map_product", "RawProductEvent", lazada_samples.product_payload(),
     lambda p: lazada.map_product(p, "1000123456", "FULL_SYNC", INGEST, country="VN")),
    ("lazada.map_order", "RawOrderEvent", lazada_samples.order_payload(),
     lambda p: lazada.map_order(p, "1000123456", "FULL_SYNC", seal, INGEST, country="VN")),
    ("tiktok_shop.map_shop", "RawShopEvent",
     {"id": tiktok_samples.SHOP, "name": "Tiệm Lan", "region": "VN", "seller_type": "LOCAL", "cipher": "ROW_x"},
     lambda p: tiktok_shop.map_shop(p, "FULL_SYNC", authorised_until=UNTIL, ingest_time=INGEST)),
    ("tiktok_shop.map_product", "RawProductEvent", tiktok_samples.product_payload(),
     lambda p: tiktok_shop.map_product(p, tiktok_samples.SHOP, "FULL_SYNC", INGEST)),
    ("tiktok_shop.map_order", "RawOrderEvent", tiktok_samples.order_payload(),
     lambda p: tiktok_shop.map_order(p, tiktok_samples.SHOP, "FULL_SYNC", seal, INGEST)),
]

EDGE_NUMBERS = st.sampled_from([0, -1, 1, 2**31, -2**31 - 1, 2**63, 10**20, -10**20, 1e308, -0.0, 0.005,
                                float("inf"), float("nan")])
SCALARS = (st.none() | st.booleans() | st.integers() | EDGE_NUMBERS | st.floats()
           | st.text(max_size=24) | st.sampled_from(["", " ", "0", "²", "1e999", "NaN", "-1", "2024-13-45 99:99:99 +9999",
                                                      "9999-12-31T23:59:59+00:00", "1,2,3", "4111111111111111"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=6)


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


@st.composite
def mutated(draw, sample):
    """The sample with one to three of its fields (at any depth) deleted or replaced."""
    payload = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(payload))[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return payload


def maps_or_refuses(schema, mapping, payload):
    try:
        record = mapping(payload)
    except MappingError as exc:
        assert exc.reason in {"missing_field", "wrong_type"} and isinstance(exc.path, str)
        return
    try:
        default_registry().encode(f"{NS}.{schema}", record)
    except SchemaError as exc:  # a mapped event the topic cannot take would fail at publish time
        pytest.fail(f"mapped record does not encode: {exc}")


@pytest.mark.parametrize("name, schema, sample, mapping", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_the_valid_sample_maps_to_an_event(name, schema, sample, mapping):
    default_registry().encode(f"{NS}.{schema}", mapping(copy.deepcopy(sample)))


@pytest.mark.parametrize("name, schema, sample, mapping", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_when_fields_are_deleted_or_replaced_then_an_event_or_a_mapping_error_comes_out(name, schema, sample, mapping):
    @SETTINGS
    @given(st.data())
    def check(data):
        maps_or_refuses(schema, mapping, data.draw(mutated(sample)))
    check()


@pytest.mark.parametrize("name, schema, sample, mapping", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_when_the_payload_is_any_json_value_then_an_event_or_a_mapping_error_comes_out(name, schema, sample, mapping):
    @settings(SETTINGS, max_examples=40)
    @given(JSON_VALUES)
    def check(payload):
        maps_or_refuses(schema, mapping, payload)
    check()
