"""Shopee payloads -> raw records: valid under the Avro contract, missing or mistyped fields
as MappingError with a reason (never the value), card numbers only as ciphertext."""

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.base import BadPayload, MappingError, PushKind
from connectors.card_vault import CardVault
from connectors.shopee.mapping import map_order, map_product, map_shop, payment_method
from connectors.shopee.push import parse_push
from pipeline_core.avro_codec import default_registry

NS = "com.powersell.pipeline.raw"
INGEST = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
CARD = "4111111111111111"

SHOP_INFO = {"request_id": "r1", "error": "", "message": "", "shop_name": "Nhà Lan Shop", "region": "VN",
             "status": "NORMAL", "is_cb": False, "auth_time": 1717000000, "expire_time": 1748536000}

ITEM = {"item_id": 34001234567, "category_id": 100017, "item_name": "Áo thun cotton", "description": "Liên hệ 0912 345 678",
        "item_sku": "AT-01", "create_time": 1714000000, "update_time": 1717200000, "item_status": "NORMAL",
        "has_model": False, "brand": {"brand_id": 0, "original_brand_name": "NoBrand"},
        "price_info": [{"currency": "VND", "original_price": 150000.0, "current_price": 129000.0}],
        "stock_info_v2": {"summary_info": {"total_reserved_stock": 0, "total_available_stock": 12}}}
MODELS = [{"model_id": 90001, "model_sku": "AT-01-S", "price_info": [{"currency": "VND", "current_price": 129000}],
           "stock_info_v2": {"summary_info": {"total_available_stock": 5}}},
          {"model_id": 90002, "model_sku": "AT-01-M", "price_info": [{"currency": "VND", "current_price": "139000"}],
           "stock_info_v2": {"summary_info": {"total_available_stock": 0}}}]

ORDER = {"order_sn": "250601ABCDEFG", "region": "TH", "currency": "THB", "cod": False, "order_status": "READY_TO_SHIP",
         "create_time": 1717200000, "update_time": 1717203600, "message_to_seller": "โทร 081-234-5678 ก่อนส่ง",
         "buyer_user_id": 123456789, "buyer_username": "somchai.j77", "total_amount": 598.5,
         "estimated_shipping_fee": 40.0, "actual_shipping_fee": 0, "payment_method": "Credit Card/Debit Card",
         "payment_info": {"card_number": CARD, "card_brand": "VISA"},
         "recipient_address": {"name": "สมชาย ใจดี", "phone": "66812345678", "town": "คลองตันเหนือ", "district": "วัฒนา",
                               "city": "กรุงเทพมหานคร", "state": "กรุงเทพมหานคร", "region": "TH", "zipcode": "10110",
                               "full_address": "12/3 ถนนสุขุมวิท คลองตันเหนือ วัฒนา กรุงเทพมหานคร 10110"},
         "item_list": [{"item_id": 34001234567, "item_name": "เสื้อยืด", "model_id": 90001, "model_quantity_purchased": 2,
                        "model_original_price": 299.0, "model_discounted_price": 279.25},
                       {"item_id": 34001234568, "item_name": "หมวก", "model_id": 0, "model_quantity_purchased": 1,
                        "model_discounted_price": 0.0}]}


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    return CardVault.from_file(tmp_path_factory.mktemp("keys") / "card.key")


def encodes(name, record):
    return default_registry().encode(f"{NS}.{name}", record)


def test_shop_maps_to_a_valid_record_with_no_seller_contact():
    record = map_shop(SHOP_INFO, "220145871", "FULL_SYNC", INGEST)
    encodes("RawShopEvent", record)
    assert record["shop_name"] == "Nhà Lan Shop" and record["country"] == "VN" and record["status"] == "NORMAL"
    assert record["seller"] is None and record["tax_code"] is None      # Shopee exposes no e-mail/phone
    assert record["authorised_until"] == datetime.fromtimestamp(1748536000, timezone.utc)
    assert record["event_time"] == INGEST                               # get_shop_info has no update time
    assert map_shop(SHOP_INFO, "220145871", "FULL_SYNC", INGEST)["event_id"] == record["event_id"]


def test_product_without_models_maps_to_one_sku_keyed_by_item_id():
    record = map_product(ITEM, None, "220145871", "INCREMENTAL_SYNC", category_names={"100017": "T-Shirts"},
                         ingest_time=INGEST)
    encodes("RawProductEvent", record)
    assert record["item_id"] == "34001234567" and record["category_name"] == "T-Shirts"
    assert record["brand"] is None and record["currency"] == "VND"
    assert record["skus"] == [{"sku_id": "34001234567", "seller_sku": "AT-01", "price": Decimal("129000.00"), "stock": 12}]
    assert record["updated_time"] == record["event_time"] == datetime.fromtimestamp(1717200000, timezone.utc)


def test_product_with_models_takes_prices_and_stock_from_the_models():
    item = dict(ITEM, has_model=True, brand={"brand_id": 7, "original_brand_name": "Coolmate"})
    item.pop("price_info")
    record = map_product(item, MODELS, "220145871", "FULL_SYNC", ingest_time=INGEST)
    encodes("RawProductEvent", record)
    assert [(s["sku_id"], s["price"], s["stock"]) for s in record["skus"]] == [
        ("90001", Decimal("129000.00"), 5), ("90002", Decimal("139000.00"), 0)]
    assert record["brand"] == "Coolmate" and record["category_name"] is None


def test_order_maps_to_a_valid_record_and_the_card_only_as_ciphertext(vault):
    record = map_order(ORDER, "220145871", "WEBHOOK", vault.seal, INGEST)
    encoded = encodes("RawOrderEvent", record)
    assert CARD.encode() not in encoded and CARD not in repr(record)
    payment = record["payment"]
    assert payment["method"] == "CARD" and payment["card"]["brand"] == "VISA" and payment["card"]["last4"] == "1111"
    assert vault.open(payment["card"]["card_ciphertext"]) == CARD
    assert record["total_amount"] == Decimal("598.50") and record["shipping_fee"] == Decimal("40.00")
    assert record["buyer"] == {"buyer_user_id": "123456789", "buyer_username": "somchai.j77", "buyer_email": None}
    recipient = record["recipient"]
    assert recipient["name"] == "สมชาย ใจดี" and recipient["address"]["postal_code"] == "10110"
    assert recipient["address"]["ward"] == "คลองตันเหนือ" and recipient["address"]["province"] == "กรุงเทพมหานคร"
    assert [(i["item_id"], i["sku_id"], i["quantity"], i["unit_price"]) for i in record["items"]] == [
        ("34001234567", "90001", 2, Decimal("279.25")), ("34001234568", "34001234568", 1, Decimal("0.00"))]
    assert record["buyer_note"].startswith("โทร") and record["tracking_number"] is None and record["buyer_ip"] is None


def test_order_without_card_or_recipient_is_still_valid(vault):
    order = dict(ORDER, payment_method="Cash on Delivery", recipient_address=None, message_to_seller="")
    order.pop("payment_info")
    record = map_order(order, "220145871", "FULL_SYNC", vault.seal, INGEST)
    encodes("RawOrderEvent", record)
    assert record["payment"]["method"] == "COD" and record["payment"]["card"] is None
    assert record["recipient"] is None and record["buyer_note"] is None


@pytest.mark.parametrize("raw, ours", [("Cash on Delivery", "COD"), ("Credit Card/Debit Card", "CARD"),
                                       ("ShopeePay", "WALLET"), ("Bank Transfer", "BANK_TRANSFER"),
                                       ("Installment Plan", "INSTALLMENT_PLAN")])
def test_payment_method_names_become_our_symbols(raw, ours):
    assert payment_method(raw) == ours


def _without(payload, path):
    clone = copy.deepcopy(payload)
    node = clone
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part] if not part.isdigit() else node[int(part)]
    del node[int(leaf) if leaf.isdigit() else leaf]
    return clone


def _with(payload, path, value):
    clone = copy.deepcopy(payload)
    node = clone
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part] if not part.isdigit() else node[int(part)]
    node[int(leaf) if leaf.isdigit() else leaf] = value
    return clone


@pytest.mark.parametrize("path", ["order_sn", "update_time", "create_time", "order_status", "currency", "total_amount",
                                  "region", "item_list", "item_list.0.item_id", "item_list.0.model_quantity_purchased",
                                  "item_list.0.model_discounted_price"])
def test_when_an_order_field_is_missing_then_mapping_error_missing_field(path, vault):
    with pytest.raises(MappingError) as err:
        map_order(_without(ORDER, path), "1", "FULL_SYNC", vault.seal, INGEST)
    assert err.value.reason == "missing_field"


@pytest.mark.parametrize("path, value", [("update_time", "1717203600"), ("order_sn", 250601), ("total_amount", "abc"),
                                         ("total_amount", True), ("item_list", {}), ("item_list.0.quantity_x", 0),
                                         ("recipient_address", "12 Sukhumvit"), ("buyer_user_id", "123"),
                                         ("payment_info", {"card_number": "4111-0000"})])
def test_when_an_order_field_has_a_wrong_type_then_mapping_error_wrong_type_without_the_value(path, value, vault):
    payload = _with(ORDER, path, value)
    if path == "item_list.0.quantity_x":
        payload = _with(_without(ORDER, "item_list.0.model_quantity_purchased"), "item_list.0.model_quantity_purchased", 2.5)
    with pytest.raises(MappingError) as err:
        map_order(payload, "1", "FULL_SYNC", vault.seal, INGEST)
    assert err.value.reason == "wrong_type"
    assert "4111" not in str(err.value) and "12 Sukhumvit" not in str(err.value) and "abc" not in str(err.value)


@pytest.mark.parametrize("payload, reason", [(_without(ITEM, "item_id"), "missing_field"),
                                             (_without(ITEM, "update_time"), "missing_field"),
                                             (_without(ITEM, "price_info"), "missing_field"),
                                             (_with(ITEM, "price_info", []), "missing_field"),
                                             (_with(ITEM, "item_name", None), "missing_field"),
                                             (_with(ITEM, "update_time", "x"), "wrong_type"),
                                             (_with(ITEM, "item_id", "34001234567"), "wrong_type"),
                                             (_with(ITEM, "price_info.0.current_price", [1]), "wrong_type"),
                                             ("not an item", "wrong_type")])
def test_when_a_product_is_malformed_then_mapping_error_with_reason(payload, reason):
    with pytest.raises(MappingError) as err:
        map_product(payload, None, "1", "FULL_SYNC", ingest_time=INGEST)
    assert err.value.reason == reason


def test_when_the_shop_lacks_its_region_then_mapping_error():
    with pytest.raises(MappingError) as err:
        map_shop(_without(SHOP_INFO, "region"), "1", "FULL_SYNC", INGEST)
    assert (err.value.reason, err.value.path) == ("missing_field", "region")


def test_event_id_is_deterministic_per_entity_id_and_update_time(vault):
    a = map_order(ORDER, "1", "FULL_SYNC", vault.seal, INGEST)
    b = map_order(ORDER, "1", "WEBHOOK", vault.seal, datetime(2026, 1, 1, tzinfo=timezone.utc))
    c = map_order(dict(ORDER, update_time=ORDER["update_time"] + 1), "1", "FULL_SYNC", vault.seal, INGEST)
    d = map_order(dict(ORDER, order_sn="250601ZZZZZZZ"), "1", "FULL_SYNC", vault.seal, INGEST)
    assert a["event_id"] == b["event_id"]
    assert len({a["event_id"], c["event_id"], d["event_id"]}) == 3
    p1 = map_product(ITEM, None, "1", "FULL_SYNC", ingest_time=INGEST)
    p2 = map_product(ITEM, None, "1", "INCREMENTAL_SYNC", ingest_time=None)
    assert p1["event_id"] == p2["event_id"] != map_product(dict(ITEM, update_time=1), None, "1", "FULL_SYNC")["event_id"]
    assert p1["event_id"] != a["event_id"]


# ---------------------------------------------------------------- pushes
def push(**body):
    return json.dumps(body).encode()


@pytest.mark.parametrize("body, kind, shop, order", [
    (push(code=1, timestamp=1660616278, partner_id=2001887,
          data={"authorize_type": "shop authorization by user", "shop_id": 60011111, "success": 1}),
     PushKind.SHOP_AUTHORISED, "60011111", None),
    (push(code=2, timestamp=1660616278, data={"authorize_type": "expiry", "shopid": 60011111, "success": 1}),
     PushKind.AUTHORISATION_CANCELLED, "60011111", None),
    (push(code=12, timestamp=1568606634, data={"shop_expire_soon": [23213], "merchant_expire_soon": [],
                                                "user_expire_soon": [], "expire_before": 1619740800,
                                                "page_no": 1, "total_page": 1}),
     PushKind.AUTHORISATION_EXPIRING, "23213", None),
    (push(shop_id=727720655, code=3, timestamp=1660123127,
          data={"items": [], "ordersn": "220810QSK8S7BX", "status": "PROCESSED", "update_time": 1660123127}),
     PushKind.ORDER_STATUS, "727720655", "220810QSK8S7BX"),
    (push(shop_id=727720655, code=4, timestamp=1660123127,
          data={"ordersn": "220810QSK8S7BX", "package_number": "OFG1", "tracking_no": "SPXVN0123"}),
     PushKind.ORDER_STATUS, "727720655", "220810QSK8S7BX"),
    (push(shop_id=727720655, code=5, timestamp=1660123127, data={"actions": []}), PushKind.OTHER, "727720655", None),
])
def test_push_codes_become_push_kinds(body, kind, shop, order):
    notice = parse_push(body)
    assert (notice.kind, notice.shop_id, notice.order_id, notice.marketplace) == (kind, shop, order, "shopee")
    assert notice.timestamp == datetime.fromtimestamp(json.loads(body)["timestamp"], timezone.utc)
    assert parse_push(body).notification_id == notice.notification_id


def test_push_notification_id_separates_changes_and_collapses_retries():
    base = dict(shop_id=1, code=3, timestamp=100, data={"ordersn": "A", "status": "SHIPPED", "update_time": 100})
    retry = dict(base, timestamp=400)                 # re-sent later: same message
    later = dict(base, data=dict(base["data"], status="COMPLETED", update_time=200))
    ids = [parse_push(push(**b)).notification_id for b in (base, retry, later)]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize("body, reason", [(b"\xff\xfe", "invalid_utf8"), (b"{not json", "invalid_json"),
                                          (b"[]", "wrong_type"), (push(timestamp=1, data={}), "missing_field"),
                                          (push(code="3", timestamp=1, data={}), "wrong_type"),
                                          (push(code=3, timestamp=1, data={"ordersn": "A"}), "missing_field"),
                                          (push(code=3, shop_id=1, timestamp=1, data={}), "missing_field"),
                                          (push(code=3, shop_id=1, timestamp=1, data=[]), "wrong_type")])
def test_malformed_pushes_raise_bad_payload_with_reason(body, reason):
    with pytest.raises(BadPayload) as err:
        parse_push(body)
    assert err.value.reason == reason and err.value.body == body


def test_a_dead_order_keeps_its_body_but_never_the_card_number():
    from connectors.base import Stream
    from connectors.shopee.mapping import dead_payload

    broken = _without(ORDER, "update_time")
    with pytest.raises(MappingError) as err:
        map_order(broken, "1", "FULL_SYNC", lambda n: b"sealed", INGEST)
    dead = dead_payload(Stream.ORDERS, err.value, broken)
    assert dead.reason == "missing_field" and CARD.encode() not in dead.body and b"1111" not in dead.body
    assert json.loads(dead.body)["order_sn"] == ORDER["order_sn"] and "update_time" in dead.message
