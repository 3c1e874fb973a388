"""TikTok Shop payloads (202309 shapes) -> raw events: valid under the Avro contract, every
field present, missing or mistyped fields as MappingError with a reason and no values, the
card number never in a record, event ids deterministic per entity version; and the
platform's envelope read into an Outcome."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.base import Action, BadPayload, MappingError, PushKind, Stream
from connectors.tiktok_shop.answers import classify, classify_token
from connectors.tiktok_shop.mapping import dead_payload, map_order, map_product, map_shop, scrub_body, scrub_card
from connectors.tiktok_shop.push import parse_push
from pipeline_core.avro_codec import default_registry

CARD = "4111111111111111"
INGEST = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
SHOP = "7494049642642441621"


def seal(number: str) -> bytes:
    return b"\x01\x06key-01" + bytes(reversed(number.encode()))   # stand-in ciphertext: not the number


def order_payload(**overrides) -> dict:
    payload = {
        "id": "576461413038785752", "status": "AWAITING_SHIPMENT",
        "create_time": 1714500000, "update_time": 1714550000, "paid_time": 1714500100,
        "user_id": "7021436810468230477", "buyer_email": "v1fdsa2@scs2.tiktokw.us",
        "buyer_message": "Giao giờ hành chính, gọi 0912 345 678",
        "payment_method_name": "Credit/debit card",
        "payment": {"currency": "VND", "sub_total": "300000", "shipping_fee": "16500", "total_amount": "316500",
                    "card_number": CARD},
        "recipient_address": {
            "name": "Nguyễn Thị Lan", "phone_number": "(+84)912345678", "full_address": "12 Lê Lợi, Bến Nghé, Quận 1",
            "address_line1": "12 Lê Lợi", "address_line2": "", "address_line3": "", "address_line4": "",
            "district_info": [{"address_level_name": "Country", "address_name": "Vietnam", "address_level": "L0"},
                              {"address_level_name": "Province", "address_name": "Hồ Chí Minh", "address_level": "L1"},
                              {"address_level_name": "District", "address_name": "Quận 1", "address_level": "L2"},
                              {"address_level_name": "Ward", "address_name": "Bến Nghé", "address_level": "L3"}],
            "postal_code": "700000", "region_code": "VN"},
        "line_items": [
            {"id": "1", "product_id": "1729592969712207008", "sku_id": "1729592969712272544", "product_name": "Áo thun",
             "seller_sku": "AT-M", "sale_price": "100000", "original_price": "120000", "currency": "VND",
             "tracking_number": "80123456789"},
            {"id": "2", "product_id": "1729592969712207008", "sku_id": "1729592969712272544", "product_name": "Áo thun",
             "seller_sku": "AT-M", "sale_price": "100000", "original_price": "120000", "currency": "VND",
             "tracking_number": "80123456789"},
            {"id": "3", "product_id": "1729592969712207555", "sku_id": "1729592969712279999", "product_name": "Quần",
             "seller_sku": "Q-L", "sale_price": "100000", "original_price": "100000", "currency": "VND"}],
    }
    payload.update(overrides)
    return payload


def product_payload() -> dict:
    return {
        "id": "1729592969712207008", "status": "ACTIVATE", "title": "Áo thun cotton", "description": "<p>Mềm</p>",
        "category_chains": [{"id": "600001", "parent_id": "0", "local_name": "Thời trang", "is_leaf": False},
                            {"id": "601226", "parent_id": "600001", "local_name": "Áo thun", "is_leaf": True}],
        "brand": {"id": "7082427311584347905", "name": "Coolmate"},
        "skus": [{"id": "1729592969712272544", "seller_sku": "AT-M",
                  "price": {"currency": "VND", "sale_price": "100000", "tax_exclusive_price": "92593"},
                  "inventory": [{"warehouse_id": "1", "quantity": 7}, {"warehouse_id": "2", "quantity": 3}]},
                 {"id": "1729592969712272545", "seller_sku": "",
                  "price": {"currency": "VND", "sale_price": "110000"}}],
        "create_time": 1714000000, "update_time": 1714550000,
    }


def encodes(full_name: str, record: dict) -> bytes:
    registry = default_registry()
    fields = {f["name"] for f in registry.definition(full_name)["fields"]}
    assert set(record) == fields           # every field of the contract, nothing else
    return registry.encode(full_name, record)


def test_when_an_order_is_mapped_then_it_is_a_valid_raw_order_event():
    record = map_order(order_payload(), SHOP, "FULL_SYNC", seal, INGEST)
    encodes("com.powersell.pipeline.raw.RawOrderEvent", record)
    assert record["marketplace"] == "TIKTOK_SHOP" and record["shop_id"] == SHOP
    assert record["event_time"] == datetime.fromtimestamp(1714550000, tz=timezone.utc) == record["update_time"]
    assert record["total_amount"] == Decimal("316500.00") and record["shipping_fee"] == Decimal("16500.00")
    assert record["buyer"] == {"buyer_user_id": "7021436810468230477", "buyer_username": None,
                               "buyer_email": "v1fdsa2@scs2.tiktokw.us"}
    address = record["recipient"]["address"]
    assert (address["province"], address["district"], address["ward"], address["city"]) == \
        ("Hồ Chí Minh", "Quận 1", "Bến Nghé", None)
    assert address["address_lines"] == ["12 Lê Lợi"] and address["country"] == "VN"
    assert record["recipient"]["phone"] == "(+84)912345678"
    assert record["items"] == [
        {"item_id": "1729592969712207008", "sku_id": "1729592969712272544", "product_title": "Áo thun", "quantity": 2,
         "unit_price": Decimal("100000.00")},
        {"item_id": "1729592969712207555", "sku_id": "1729592969712279999", "product_title": "Quần", "quantity": 1,
         "unit_price": Decimal("100000.00")}]
    assert record["tracking_number"] == "80123456789"
    assert record["payment"]["method"] == "CARD"


def test_when_an_order_carries_a_card_then_only_ciphertext_brand_and_last4_leave():
    record = map_order(order_payload(), SHOP, "FULL_SYNC", seal, INGEST)
    assert record["payment"]["card"] == {"card_ciphertext": seal(CARD), "brand": "VISA", "last4": "1111"}
    encoded = encodes("com.powersell.pipeline.raw.RawOrderEvent", record)
    assert CARD.encode() not in encoded and CARD not in repr(record)


@pytest.mark.parametrize("status", ["UNPAID", "ON_HOLD"])
def test_when_an_order_is_unpaid_or_on_hold_then_it_has_no_recipient(status):
    payload = order_payload(status=status)
    del payload["recipient_address"]
    record = map_order(payload, SHOP, "INCREMENTAL_SYNC", seal, INGEST)
    assert record["recipient"] is None
    encodes("com.powersell.pipeline.raw.RawOrderEvent", record)


def test_when_an_order_is_cash_on_delivery_then_there_is_no_card():
    payload = order_payload(payment_method_name="Cash on delivery")
    del payload["payment"]["card_number"]
    record = map_order(payload, SHOP, "WEBHOOK", seal, INGEST)
    assert record["payment"] == {"method": "COD", "card": None, "billing_tax_code": None, "billing_company": None}


@pytest.mark.parametrize("mutate, reason, path", [
    (lambda p: p.pop("update_time"), "missing_field", "update_time"),
    (lambda p: p.update(create_time="1714500000"), "wrong_type", "create_time"),
    (lambda p: p["payment"].pop("currency"), "missing_field", "payment.currency"),
    (lambda p: p["payment"].update(total_amount="abc"), "wrong_type", "payment.total_amount"),
    (lambda p: p["payment"].update(card_number="12"), "wrong_type", "payment.card_number"),
    (lambda p: p["line_items"][1].pop("product_id"), "missing_field", "line_items.1.product_id"),
    (lambda p: p["line_items"][0].update(sale_price=None), "missing_field", "line_items.0.sale_price"),
    (lambda p: p["recipient_address"].pop("region_code"), "missing_field", "recipient_address.region_code"),
    (lambda p: p["recipient_address"]["district_info"][1].update(address_level_name=3), "wrong_type",
     "recipient_address.district_info.1.address_level_name"),
    (lambda p: p.update(line_items={}), "wrong_type", "line_items"),
])
def test_when_an_order_field_is_missing_or_mistyped_then_mapping_error_names_it_without_values(mutate, reason, path):
    payload = order_payload()
    mutate(payload)
    with pytest.raises(MappingError) as caught:
        map_order(payload, SHOP, "FULL_SYNC", seal, INGEST)
    assert (caught.value.reason, caught.value.path) == (reason, path)
    assert CARD not in str(caught.value) and "316500" not in str(caught.value)


def test_when_an_order_is_dead_lettered_then_its_card_number_is_sealed_in_the_body():
    payload = order_payload()
    payload.pop("update_time")
    original = copy.deepcopy(payload)
    with pytest.raises(MappingError) as caught:
        map_order(payload, SHOP, "FULL_SYNC", seal, INGEST)
    item = dead_payload(Stream.ORDERS, caught.value, scrub_card(payload, seal))
    assert item.reason == "missing_field" and item.stream is Stream.ORDERS
    assert CARD.encode() not in item.body
    assert json.loads(item.body)["id"] == payload["id"]
    assert payload == original                              # the caller's payload is left as it was


@pytest.mark.parametrize("cut_inside_number", [None, 1, 6, 15])
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_when_an_unreadable_answer_is_dead_lettered_then_no_card_digits_survive_even_cut_short(cut_inside_number,
                                                                                               separators):
    body = json.dumps({"code": 0, "data": {"orders": [order_payload()]}}, separators=separators).encode()
    if cut_inside_number is not None:                   # malformed_json: the answer ends inside the number
        body = body[:body.index(CARD.encode()) + cut_inside_number]
    scrubbed = scrub_body(body + b"\xff")              # invalid_utf8 as well
    assert b"<redacted>" in scrubbed and b"411111" not in scrubbed.replace(b"<redacted>", b"")
    assert scrubbed.split(b"<redacted>")[0].rstrip(b'"').endswith(b'"card_number"' + separators[1].encode())
    assert b'"id"' + separators[1].encode() + b'"576461413038785752"' in scrubbed   # the rest is kept


def test_when_the_same_version_is_read_twice_then_the_event_id_is_the_same():
    first = map_order(order_payload(), SHOP, "FULL_SYNC", seal, INGEST)
    again = map_order(order_payload(), SHOP, "WEBHOOK", seal, datetime(2024, 6, 1, tzinfo=timezone.utc))
    newer = map_order(order_payload(update_time=1714550001), SHOP, "FULL_SYNC", seal, INGEST)
    other = map_order(order_payload(id="576461413038785753"), SHOP, "FULL_SYNC", seal, INGEST)
    assert first["event_id"] == again["event_id"]
    assert len({first["event_id"], newer["event_id"], other["event_id"]}) == 3
    assert map_product(product_payload(), SHOP, "FULL_SYNC", INGEST)["event_id"] == \
        map_product(product_payload(), SHOP, "INCREMENTAL_SYNC")["event_id"]


def test_when_a_product_is_mapped_then_it_is_a_valid_raw_product_event():
    record = map_product(product_payload(), SHOP, "FULL_SYNC", INGEST)
    encodes("com.powersell.pipeline.raw.RawProductEvent", record)
    assert (record["category_id"], record["category_name"], record["brand"], record["currency"]) == \
        ("601226", "Áo thun", "Coolmate", "VND")
    assert record["skus"] == [
        {"sku_id": "1729592969712272544", "seller_sku": "AT-M", "price": Decimal("100000.00"), "stock": 10},
        {"sku_id": "1729592969712272545", "seller_sku": None, "price": Decimal("110000.00"), "stock": None}]
    assert record["updated_time"] == record["event_time"]


@pytest.mark.parametrize("mutate, reason, path", [
    (lambda p: p.pop("title"), "missing_field", "title"),
    (lambda p: p.update(skus=[]), "missing_field", "skus"),
    (lambda p: p["skus"][1]["price"].pop("sale_price"), "missing_field", "skus.1.price.sale_price"),
    (lambda p: p["skus"][0]["inventory"][1].update(quantity="3"), "wrong_type", "skus.0.inventory.1.quantity"),
    (lambda p: p.update(category_chains=[]), "missing_field", "category_chains"),
    (lambda p: p.update(update_time=1.5), "wrong_type", "update_time"),
])
def test_when_a_product_field_is_missing_or_mistyped_then_mapping_error_names_it(mutate, reason, path):
    payload = product_payload()
    mutate(payload)
    with pytest.raises(MappingError) as caught:
        map_product(payload, SHOP, "FULL_SYNC", INGEST)
    assert (caught.value.reason, caught.value.path) == (reason, path)


def test_when_an_authorised_shop_is_mapped_then_absent_seller_details_are_none():
    until = datetime(2025, 1, 1, tzinfo=timezone.utc)
    shop = {"id": SHOP, "name": "Tiệm Lan", "region": "VN", "seller_type": "LOCAL", "cipher": "ROW_x", "code": "VNLC"}
    record = map_shop(shop, "FULL_SYNC", authorised_until=until, ingest_time=INGEST)
    encodes("com.powersell.pipeline.raw.RawShopEvent", record)
    assert (record["country"], record["seller"], record["tax_code"], record["authorised_until"]) == ("VN", None, None, until)
    reread = map_shop(shop, "INCREMENTAL_SYNC", authorised_until=until, ingest_time=datetime.now(timezone.utc))
    assert reread["event_id"] == record["event_id"]                     # unchanged shop: the same id
    renamed = map_shop({**shop, "name": "Tiệm Lan 2"}, "FULL_SYNC", authorised_until=until, ingest_time=INGEST)
    assert renamed["event_id"] != record["event_id"]
    with pytest.raises(MappingError):
        map_shop({"id": SHOP, "name": "x"}, "FULL_SYNC", ingest_time=INGEST)


@pytest.mark.parametrize("kind_code, kind", [(1, PushKind.ORDER_STATUS), (6, PushKind.AUTHORISATION_CANCELLED),
                                             (7, PushKind.AUTHORISATION_EXPIRING), (10001, PushKind.SHOP_AUTHORISED),
                                             (4, PushKind.OTHER)])
def test_when_a_push_is_parsed_then_its_kind_comes_from_the_type(kind_code, kind):
    body = {"type": kind_code, "tts_notification_id": "7327112393057371910", "shop_id": SHOP, "timestamp": 1644412885,
            "data": {"order_id": "576461413038785752", "order_status": "IN_TRANSIT", "update_time": 1644412885}}
    notice = parse_push(json.dumps(body).encode())
    assert (notice.kind, notice.shop_id, notice.notification_id) == (kind, SHOP, "7327112393057371910")
    assert notice.order_id == ("576461413038785752" if kind is PushKind.ORDER_STATUS else None)


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe", "invalid_utf8"), (b"{not json", "invalid_json"),
    (json.dumps({"type": "1", "tts_notification_id": "n", "shop_id": SHOP, "timestamp": 1}).encode(), "wrong_type"),
    (json.dumps({"type": 1, "tts_notification_id": "n", "shop_id": SHOP, "timestamp": 1, "data": {}}).encode(),
     "missing_field"),
])
def test_when_a_push_is_malformed_then_bad_payload_says_why(body, reason):
    with pytest.raises(BadPayload) as caught:
        parse_push(body)
    assert caught.value.reason == reason


# ------------------------------------------------------------------ the envelope
def _envelope(code=0, data=None, **extra):
    body = {"code": code, "message": "Success" if code == 0 else "error", "request_id": "2024"}
    if data is not None:
        body["data"] = data
    return {**body, **extra}


@pytest.mark.parametrize("status, body, action, detail", [
    (200, _envelope(data={"orders": [], "total_count": 0, "next_page_token": ""}), Action.OK, ""),
    (200, _envelope(data={"total_count": 0, "next_page_token": ""}), Action.OK, ""),
    (200, _envelope(data={"total_count": 3, "next_page_token": ""}), Action.BAD_PAYLOAD, "missing_field"),
    (200, _envelope(data={"orders": {}, "total_count": 1}), Action.BAD_PAYLOAD, "wrong_type"),
    (200, _envelope(), Action.BAD_PAYLOAD, "missing_field"),
    (200, {"message": "Success", "data": {}}, Action.BAD_PAYLOAD, "missing_field"),
    (200, _envelope(code="0", data={}), Action.BAD_PAYLOAD, "wrong_type"),
    (200, [1, 2], Action.BAD_PAYLOAD, "wrong_type"),
    (429, _envelope(36009002), Action.RATE_LIMITED, "36009002"),
    (401, _envelope(105002), Action.REFRESH_TOKEN, "105002"),
    (401, _envelope(106001), Action.FAIL, "106001"),
    (401, _envelope(36009004), Action.FAIL, "36009004"),
    (403, _envelope(105005), Action.FAIL, "105005"),
    (400, _envelope(12052180), Action.FAIL, "12052180"),
    (500, _envelope(36009003), Action.RETRY, "36009003"),
    (502, None, Action.RETRY, "http_502"),
])
def test_when_an_answer_is_classified_then_the_envelope_decides(status, body, action, detail):
    outcome = classify(status, {}, body, records="orders")
    assert outcome.action is action
    if action is Action.BAD_PAYLOAD:
        assert outcome.payload.reason == detail
    elif action is not Action.OK:
        assert outcome.code == detail


def test_when_a_token_answer_lacks_a_promised_field_then_it_is_a_bad_payload():
    grant = {"access_token": "a", "refresh_token": "r", "access_token_expire_in": 1, "refresh_token_expire_in": 2}
    assert classify_token(200, {}, _envelope(data=grant)).action is Action.OK
    for key in grant:
        broken = {k: v for k, v in grant.items() if k != key}
        assert classify_token(200, {}, _envelope(data=broken)).payload.reason == "missing_field"
    assert classify_token(200, {}, _envelope(data={**grant, "access_token_expire_in": "1"})).payload.reason == "wrong_type"


@pytest.mark.parametrize("field, value", [("shop_id", ""), ("tts_notification_id", ""), ("order_id", "")])
def test_when_a_push_names_an_empty_id_then_it_is_refused_as_missing(field, value):
    message = {"type": 1, "tts_notification_id": "7327112393057371910", "shop_id": "7494",
               "timestamp": 1717200000, "data": {"order_id": "576461413038785752", "order_status": "UNPAID"}}
    (message["data"] if field == "order_id" else message)[field] = value
    with pytest.raises(BadPayload) as refused:
        parse_push(json.dumps(message).encode())
    assert refused.value.reason == "missing_field"
