"""Lazada payloads -> raw events: pure functions, no HTTP. Records must be exactly the Avro
schemas' fields and encode under them; bad records raise MappingError with a reason and a
path, never a value; a card number never reaches the record (R10)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.base import BadPayload, MappingError, PushKind
from connectors.lazada.mapping import map_order, map_product, map_shop, order_lines, parse_lazada_time
from connectors.lazada.push import parse_push
from pipeline_core.avro_codec import default_registry

CARD = "4111111111111111"
INGEST = datetime(2024, 5, 2, 0, 0, tzinfo=timezone.utc)
ORDER_SCHEMA = "com.powersell.pipeline.raw.RawOrderEvent"
PRODUCT_SCHEMA = "com.powersell.pipeline.raw.RawProductEvent"
SHOP_SCHEMA = "com.powersell.pipeline.raw.RawShopEvent"


def seal(number: str) -> bytes:
    return b"\x01\x04kid1" + bytes(reversed(number.encode()))  # a stand-in: never the number in the clear


def _row(unit: int, product="2001234567", sku="31234567890", price=149000.0) -> dict:
    return {"order_item_id": 900 + unit, "order_id": 412345678901234, "product_id": product, "sku_id": sku,
            "sku": "NCKD-5L-BLK", "shop_sku": f"{product}_VNAMZ-{sku}", "name": "Nồi chiên không dầu 5L",
            "item_price": price, "paid_price": price, "currency": "VND", "status": "pending",
            "tracking_code": "LZDVN123456789" if unit == 0 else "", "buyer_id": 300123456,
            "created_at": "2024-05-01 10:20:30 +0700", "updated_at": "2024-05-01 11:00:00 +0700"}


def _address(first="Nguyễn Thị", last="Lan") -> dict:
    return {"first_name": first, "last_name": last, "phone": "0912 345 678", "phone2": "",
            "address1": "12 Kim Mã", "address2": "", "address3": "Hà Nội", "address4": "Quận Ba Đình",
            "address5": "Phường Kim Mã", "city": "Hà Nội", "post_code": "100000", "country": "Vietnam"}


def order_payload(**changes) -> dict:
    order = {"order_id": 412345678901234, "order_number": 412345678901234,
             "created_at": "2024-05-01 10:20:30 +0700", "updated_at": "2024-05-01 11:00:00 +0700",
             "price": "313,000.00", "shipping_fee": 15000.0, "payment_method": "MIXEDCARD",
             "payment_details": {"card_number": CARD, "card_brand": "VISA"},
             "customer_first_name": "Nguyễn Thị", "customer_last_name": "Lan", "statuses": ["pending"],
             "items_count": 2, "remarks": "Gọi trước khi giao nhé", "tax_code": "0101234567",
             "address_shipping": _address(), "address_billing": {**_address(), "customer_email": "lan.nguyen@gmail.com"},
             "order_items": [_row(0), _row(1), _row(2, sku="31234567891", price=15000.0)]}
    order.update(changes)
    return order


def product_payload(**changes) -> dict:
    product = {"item_id": 2001234567, "primary_category": 100636, "status": "Active",
               "created_time": "1714500000000", "updated_time": "1714560000000",
               "attributes": {"name": "Nồi chiên không dầu 5L", "description": "<p>Hàng mới 100%</p>",
                              "brand": "Sunhouse"},
               "skus": [{"SkuId": 31234567890, "SellerSku": "NCKD-5L-BLK", "ShopSku": "2001234567_VNAMZ-31234567890",
                         "price": 149000.0, "quantity": 12, "Available": 12, "Status": "active"}]}
    product.update(changes)
    return product


def seller_payload(**changes) -> dict:
    seller = {"seller_id": 1000123456, "name": "Gia Dụng Lan", "name_company": "Nguyễn Thị Lan",
              "short_code": "VN1ABCD", "email": "lan.nguyen@gmail.com", "location": "Hà Nội",
              "status": "ACTIVE", "verified": True, "cb": False, "logo_url": ""}
    seller.update(changes)
    return seller


def _fields(schema: str) -> set[str]:
    return {f["name"] for f in default_registry().definition(schema)["fields"]}


def _encodes(schema: str, record: dict) -> None:
    assert set(record) == _fields(schema)
    default_registry().encode(schema, record)


# ---------------------------------------------------------------------------- orders
def test_when_an_order_is_mapped_then_it_is_a_valid_raw_order_event():
    record = map_order(order_payload(), "1000123456", "FULL_SYNC", seal, INGEST, country="VN")
    _encodes(ORDER_SCHEMA, record)
    assert record["order_id"] == "412345678901234"
    assert record["update_time"] == datetime(2024, 5, 1, 4, 0, tzinfo=timezone.utc)
    assert record["create_time"] == datetime(2024, 5, 1, 3, 20, 30, tzinfo=timezone.utc)
    assert record["event_time"] == record["update_time"] and record["ingest_time"] == INGEST
    assert record["currency"] == "VND" and record["total_amount"] == Decimal("313000.00")
    assert record["shipping_fee"] == Decimal("15000.00") and record["status"] == "pending"
    assert record["tracking_number"] == "LZDVN123456789" and record["buyer_ip"] is None
    assert record["buyer"] == {"buyer_user_id": "300123456", "buyer_username": "Nguyễn Thị Lan",
                               "buyer_email": "lan.nguyen@gmail.com"}
    assert record["buyer_note"] == "Gọi trước khi giao nhé"


def test_when_item_rows_are_one_per_unit_then_they_become_lines_with_quantities():
    lines = order_lines(order_payload()["order_items"])
    assert [(l["sku_id"], l["quantity"], l["unit_price"]) for l in lines] == [
        ("31234567890", 2, Decimal("149000.00")), ("31234567891", 1, Decimal("15000.00"))]


def test_when_an_address_is_mapped_then_address3_to_5_become_province_district_ward():
    recipient = map_order(order_payload(), "1", "FULL_SYNC", seal, INGEST, country="VN")["recipient"]
    assert recipient == {"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "phone2": None, "address": {
        "full_address": None, "address_lines": ["12 Kim Mã"], "ward": "Phường Kim Mã", "district": "Quận Ba Đình",
        "city": "Hà Nội", "province": "Hà Nội", "postal_code": "100000", "country": "VN"}}


def test_when_an_order_is_paid_by_card_then_only_ciphertext_brand_and_last4_are_kept():
    record = map_order(order_payload(), "1", "FULL_SYNC", seal, INGEST, country="VN")
    assert record["payment"]["method"] == "CARD"
    assert record["payment"]["card"] == {"card_ciphertext": seal(CARD), "brand": "VISA", "last4": "1111"}
    encoded = default_registry().encode(ORDER_SCHEMA, record)
    assert CARD.encode() not in encoded and CARD not in repr(record)


def test_when_an_order_is_cash_on_delivery_then_it_has_no_card():
    payload = order_payload(payment_method="COD")
    del payload["payment_details"]
    payment = map_order(payload, "1", "FULL_SYNC", seal, INGEST, country="VN")["payment"]
    assert payment == {"method": "COD", "card": None, "billing_tax_code": "0101234567", "billing_company": None}


def test_when_the_same_order_version_is_read_twice_then_the_event_id_is_the_same():
    first = map_order(order_payload(), "1", "FULL_SYNC", seal, INGEST, country="VN")
    again = map_order(order_payload(), "1", "INCREMENTAL_SYNC", seal, datetime.now(timezone.utc), country="VN")
    later = map_order(order_payload(updated_at="2024-05-01 11:00:01 +0700"), "1", "FULL_SYNC", seal, INGEST, country="VN")
    other = map_order(order_payload(order_id=412345678901235), "1", "FULL_SYNC", seal, INGEST, country="VN")
    assert first["event_id"] == again["event_id"]
    assert len({first["event_id"], later["event_id"], other["event_id"]}) == 3


@pytest.mark.parametrize("change, reason, path", [
    (lambda o: o.pop("order_id"), "missing_field", "order_id"),
    (lambda o: o.pop("updated_at"), "missing_field", "updated_at"),
    (lambda o: o.update(updated_at=1714536000), "wrong_type", "updated_at"),
    (lambda o: o.update(created_at="01/05/2024"), "wrong_type", "created_at"),
    (lambda o: o.update(price={"amount": 1}), "wrong_type", "price"),
    (lambda o: o.update(price="abc"), "wrong_type", "price"),
    (lambda o: o.update(statuses="pending"), "wrong_type", "statuses"),
    (lambda o: o.pop("order_items"), "missing_field", "order_items"),
    (lambda o: o["order_items"][0].pop("product_id"), "missing_field", "order_items[0].product_id"),
    (lambda o: o["order_items"][1].update(item_price=[1]), "wrong_type", "order_items[1].item_price"),
    (lambda o: o["payment_details"].update(card_number="4111-xx"), "wrong_type", "payment_details.card_number"),
    (lambda o: o["address_shipping"].update(phone=["0912"]), "wrong_type", "address_shipping.phone"),
])
def test_when_an_order_field_is_missing_or_mistyped_then_a_mapping_error_names_reason_and_path(change, reason, path):
    payload = copy.deepcopy(order_payload())
    change(payload)
    with pytest.raises(MappingError) as caught:
        map_order(payload, "1", "FULL_SYNC", seal, INGEST, country="VN")
    assert (caught.value.reason, caught.value.path) == (reason, path)
    assert CARD not in str(caught.value) and "Kim Mã" not in str(caught.value)


# ---------------------------------------------------------------------------- products
def test_when_a_product_is_mapped_then_it_is_a_valid_raw_product_event():
    record = map_product(product_payload(), "1000123456", "INCREMENTAL_SYNC", INGEST, country="VN")
    _encodes(PRODUCT_SCHEMA, record)
    assert record["item_id"] == "2001234567" and record["category_id"] == "100636"
    assert record["updated_time"] == datetime.fromtimestamp(1714560000, timezone.utc) == record["event_time"]
    assert record["currency"] == "VND" and record["brand"] == "Sunhouse" and record["category_name"] is None
    assert record["skus"] == [{"sku_id": "31234567890", "seller_sku": "NCKD-5L-BLK",
                               "price": Decimal("149000.00"), "stock": 12}]


def test_when_a_thai_product_is_mapped_then_its_currency_is_baht():
    assert map_product(product_payload(), "1", "FULL_SYNC", INGEST, country="TH")["currency"] == "THB"


@pytest.mark.parametrize("change, reason, path", [
    (lambda p: p.pop("item_id"), "missing_field", "item_id"),
    (lambda p: p.update(updated_time="2024-05-01"), "wrong_type", "updated_time"),
    (lambda p: p["attributes"].pop("name"), "missing_field", "attributes.name"),
    (lambda p: p.update(skus={"SkuId": 1}), "wrong_type", "skus"),
    (lambda p: p["skus"][0].update(price=None), "missing_field", "skus[0].price"),
    (lambda p: p["skus"][0].update(quantity="12"), "wrong_type", "skus[0].quantity"),
])
def test_when_a_product_field_is_missing_or_mistyped_then_a_mapping_error_names_reason_and_path(change, reason, path):
    payload = copy.deepcopy(product_payload())
    change(payload)
    with pytest.raises(MappingError) as caught:
        map_product(payload, "1", "FULL_SYNC", INGEST, country="VN")
    assert (caught.value.reason, caught.value.path) == (reason, path)


def test_when_the_same_product_version_is_read_twice_then_the_event_id_is_the_same():
    a = map_product(product_payload(), "1", "FULL_SYNC", INGEST, country="VN")
    b = map_product(product_payload(), "1", "WEBHOOK", None, country="VN")
    c = map_product(product_payload(updated_time="1714560001000"), "1", "FULL_SYNC", INGEST, country="VN")
    assert a["event_id"] == b["event_id"] != c["event_id"]


# ---------------------------------------------------------------------------- shop
def test_when_a_seller_is_mapped_then_it_is_a_valid_raw_shop_event():
    until = datetime(2024, 11, 1, tzinfo=timezone.utc)
    record = map_shop(seller_payload(), "1000123456", "FULL_SYNC", INGEST, country="vn", authorised_until=until)
    _encodes(SHOP_SCHEMA, record)
    assert record["shop_name"] == "Gia Dụng Lan" and record["country"] == "VN" and record["status"] == "ACTIVE"
    assert record["authorised_until"] == until and record["event_time"] == INGEST
    assert record["seller"]["email"] == "lan.nguyen@gmail.com" and record["seller"]["seller_name"] == "Nguyễn Thị Lan"
    assert record["seller"]["address"]["city"] == "Hà Nội"


def test_when_an_unchanged_seller_is_read_again_then_the_event_id_is_the_same_and_a_change_makes_a_new_one():
    a = map_shop(seller_payload(), "1000123456", "FULL_SYNC", INGEST, country="VN")
    b = map_shop(seller_payload(), "1000123456", "FULL_SYNC", datetime(2024, 6, 1, tzinfo=timezone.utc), country="VN")
    c = map_shop(seller_payload(status="INACTIVE"), "1000123456", "FULL_SYNC", INGEST, country="VN")
    assert a["event_id"] == b["event_id"] != c["event_id"]


@pytest.mark.parametrize("payload, reason", [
    (seller_payload(seller_id=None), "missing_field"),
    (seller_payload(seller_id=999), "wrong_type"),          # another seller's record is never this shop's
    (seller_payload(status=1), "wrong_type"),
])
def test_when_a_seller_is_malformed_then_a_mapping_error_is_raised(payload, reason):
    with pytest.raises(MappingError) as caught:
        map_shop(payload, "1000123456", "FULL_SYNC", INGEST, country="VN")
    assert caught.value.reason == reason


# ---------------------------------------------------------------------------- pushes
def _push(message: dict) -> bytes:
    return json.dumps(message).encode()


@pytest.mark.parametrize("message, kind, shop, order_id", [
    ({"seller_id": "1234567", "message_type": 0, "timestamp": 1603766859530, "site": "lazada_vn",
      "data": {"order_status": "unpaid", "status_update_time": 1603698638, "trade_order_id": "260422900198363",
               "trade_order_line_id": "260422900298363"}}, PushKind.ORDER_STATUS, "1234567", "260422900198363"),
    ({"seller_id": "null", "message_type": 8, "timestamp": 1627416758, "site": "lazada_ph",
      "data": {"app_key": "115527", "auth_expiry_time": 1627542238, "seller_id": "1000165972"}},
     PushKind.AUTHORISATION_EXPIRING, "1000165972", None),
    ({"seller_id": "100053528", "message_type": 13, "timestamp": 1627038397, "site": "lazada_sg",
      "data": {"status": "normal"}}, PushKind.OTHER, "100053528", None),
    ({"seller_id": "1000123456", "message_type": 100, "timestamp": 1714560000, "site": "lazada_vn",
      "data": {"seller_id": "1000123456", "app_key": "120831"}}, PushKind.SHOP_AUTHORISED, "1000123456", None),
    ({"seller_id": "1000123456", "message_type": 101, "timestamp": 1714560000, "site": "lazada_vn",
      "data": {"seller_id": "1000123456", "app_key": "120831"}}, PushKind.AUTHORISATION_CANCELLED, "1000123456", None),
])
def test_when_a_documented_push_is_parsed_then_kind_shop_and_order_are_read(message, kind, shop, order_id):
    notice = parse_push(_push(message))
    assert (notice.kind, notice.shop_id, notice.order_id, notice.marketplace) == (kind, shop, order_id, "lazada")
    assert notice.timestamp.year in (2020, 2021, 2024)    # ms in order pushes, seconds in the others


def test_when_the_same_push_is_retried_then_its_notification_id_is_stable():
    message = {"seller_id": "1", "message_type": 0, "timestamp": 1603766859530,
               "data": {"order_status": "unpaid", "trade_order_id": "2"}}
    assert parse_push(_push(message)).notification_id == parse_push(json.dumps(message, indent=2).encode()).notification_id
    message["data"]["order_status"] = "pending"
    assert parse_push(_push(message)).notification_id != parse_push(
        _push({**message, "data": {"order_status": "unpaid", "trade_order_id": "2"}})).notification_id


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe", "invalid_utf8"), (b"{not json", "invalid_json"),
    (_push({"message_type": 0, "timestamp": 1, "data": {"order_status": "x"}, "seller_id": "1"}), "missing_field"),
    (_push({"message_type": "0", "timestamp": 1, "data": {}, "seller_id": "1"}), "wrong_type"),
])
def test_when_a_push_is_malformed_then_bad_payload_names_the_reason(body, reason):
    with pytest.raises(BadPayload) as caught:
        parse_push(body)
    assert caught.value.reason == reason


@pytest.mark.parametrize("text", ["2018-02-09 21:44:30 +0700", "2018-02-09T22:44:30+08:00", "2018-02-09T14:44:30Z",
                                  "2018-02-09T14:44:30.000+00:00"])
def test_both_documented_time_forms_are_read_to_the_same_instant(text):
    assert parse_lazada_time(text, "updated_at") == datetime(2018, 2, 9, 14, 44, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2018-02-09T22:44:30", "2018-02-09 21:44:30", "yesterday", ""])
def test_a_time_without_an_offset_or_not_a_time_is_a_mapping_error(text):
    with pytest.raises(MappingError):
        parse_lazada_time(text, "updated_at")
