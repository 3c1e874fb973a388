"""Pure mappings from Shopee's payloads to our raw events; card numbers leave only sealed (R10)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ..base import DeadPayload, MappingError, Stream
from ..normalise import address, card, envelope, get, int32, money, utc

NAME = "shopee"
SYMBOL = "SHOPEE"


PAYMENT_METHODS = {"cash on delivery": "COD", "cod": "COD", "credit card/debit card": "CARD", "credit card": "CARD",
                   "debit card": "CARD", "shopeepay": "WALLET", "shopeepay balance": "WALLET", "airpay": "WALLET",
                   "bank transfer": "BANK_TRANSFER", "online banking": "BANK_TRANSFER"}


def _without_cards(node: Any) -> Any:
    """The record as received but for card numbers, which never leave the connector in the clear (R10)."""
    if isinstance(node, dict):
        return {k: ("[card number withheld: R10]" if k == "card_number" and v else _without_cards(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_without_cards(v) for v in node]
    return node


def dead_payload(stream: Stream, err: MappingError, record: Any) -> DeadPayload:
    """A record that could not be mapped, for the dead-letter topic: the reason, and the record without card numbers."""
    body = json.dumps(_without_cards(record), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return DeadPayload(stream, err.reason, f"shopee {stream.value} record: {err}", body)


def _opt_str(payload: dict, path: str) -> str | None:
    value = get(payload, path, str, required=False)
    return value if value else None


def map_shop(info: dict, shop_id: str, ingest_source: str, ingest_time: datetime | None = None) -> dict:
    """v2.shop.get_shop_info (flat). Shopee exposes no seller name, e-mail, phone, address or tax
    code, so `seller` and `tax_code` are None; no update time either, so event_time is the read time."""
    read_at = (ingest_time or datetime.now(timezone.utc)).replace(microsecond=0)
    expire = get(info, "expire_time", int, required=False)
    record = envelope(SYMBOL, shop_id, "shop", shop_id, read_at, ingest_source, read_at)
    record.update({
        "shop_name": _opt_str(info, "shop_name"),
        "country": get(info, "region", str).upper(),
        "status": get(info, "status", str),
        "authorised_until": utc(expire) if expire else None,
        "seller": None,
        "tax_code": None,
    })
    return record


def _price(rows: Any, path: str) -> tuple[Any, str]:
    if not isinstance(rows, list):
        raise MappingError("missing_field" if rows is None else "wrong_type", path)
    if not rows or not isinstance(rows[0], dict):
        raise MappingError("missing_field", f"{path}[0]")
    row = rows[0]
    return money(get(row, "current_price", (int, float, str)), f"{path}[0].current_price"), get(row, "currency", str)


def _stock(payload: dict) -> int | None:
    stock = get(payload, "stock_info_v2.summary_info.total_available_stock", int, required=False)
    return stock if stock is None or -2**31 <= stock < 2**31 else None  # as Lazada's: unusable, not fatal


def map_product(item: dict, models: list | None, shop_id: str, ingest_source: str, *,
                category_names: Mapping[str, str] | None = None, ingest_time: datetime | None = None) -> dict:
    """One get_item_base_info item (plus get_model_list's models when has_model)."""
    if not isinstance(item, dict):
        raise MappingError("wrong_type", "item")
    item_id = str(get(item, "item_id", int))
    updated = get(item, "update_time", int)
    if models is None:
        price, currency = _price(item.get("price_info"), "price_info")
        skus = [{"sku_id": item_id, "seller_sku": _opt_str(item, "item_sku"), "price": price, "stock": _stock(item)}]
    else:
        skus, currency = [], None
        for i, model in enumerate(models):
            if not isinstance(model, dict):
                raise MappingError("wrong_type", f"model[{i}]")
            price, currency = _price(model.get("price_info"), f"model[{i}].price_info")
            skus.append({"sku_id": str(get(model, "model_id", int)), "seller_sku": _opt_str(model, "model_sku"),
                         "price": price, "stock": _stock(model)})
        if currency is None:
            raise MappingError("missing_field", "model")
    category_id = str(get(item, "category_id", int))
    brand = get(item, "brand.original_brand_name", str, required=False)
    description = get(item, "description", str, required=False)
    if description is None and isinstance(item.get("description_info"), dict):  # description_type "extended"
        fields = get(item, "description_info.extended_description.field_list", list, required=False) or []
        description = "\n".join(f["text"] for f in fields if isinstance(f, dict) and isinstance(f.get("text"), str)) or None
    record = envelope(SYMBOL, shop_id, "product", item_id, utc(updated), ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(item, "item_status", str),
        "title": get(item, "item_name", str),
        "description": description or None,
        "category_id": category_id,
        "category_name": (category_names or {}).get(category_id),
        "brand": None if not brand or brand.lower() in ("nobrand", "no brand") else brand,
        "currency": currency,
        "skus": skus,
        "created_time": utc(get(item, "create_time", int)),
        "updated_time": utc(updated),
    })
    return record


def payment_method(raw: str) -> str:
    """Shopee's display name of the channel to our closed-ish set; an unknown one passes as it is."""
    return PAYMENT_METHODS.get(raw.strip().lower(), raw.strip().upper().replace(" ", "_"))


def map_order(order: dict, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None) -> dict:
    """One get_order_detail order, fetched with ORDER_OPTIONAL_FIELDS. A card number (the simulator's
    payment_info.card_number) leaves this function only as ciphertext, brand and last four (R10)."""
    if not isinstance(order, dict):
        raise MappingError("wrong_type", "order")
    order_sn = get(order, "order_sn", str)
    updated = get(order, "update_time", int)
    region = get(order, "region", str).upper()
    recipient = None
    if order.get("recipient_address") is not None:
        get(order, "recipient_address", dict)
        recipient = {
            "name": _opt_str(order, "recipient_address.name"),
            "phone": _opt_str(order, "recipient_address.phone"),
            "phone2": None,
            "address": address(full_address=_opt_str(order, "recipient_address.full_address"), lines=[],
                               ward=_opt_str(order, "recipient_address.town"),
                               district=_opt_str(order, "recipient_address.district"),
                               city=_opt_str(order, "recipient_address.city"),
                               province=_opt_str(order, "recipient_address.state"),
                               postal_code=_opt_str(order, "recipient_address.zipcode"),
                               country=(_opt_str(order, "recipient_address.region") or region).upper()),
        }
    payment = None
    method = _opt_str(order, "payment_method")
    if method is not None:
        number = get(order, "payment_info.card_number", str, required=False)
        payment = {"method": payment_method(method), "card": card(number, seal_card),
                   "billing_tax_code": None, "billing_company": None}
    items = []
    for i, line in enumerate(get(order, "item_list", list)):
        if not isinstance(line, dict):
            raise MappingError("wrong_type", f"item_list[{i}]")
        item_id = str(get(line, "item_id", int))
        model_id = get(line, "model_id", int, required=False)
        items.append({"item_id": item_id, "sku_id": str(model_id) if model_id else item_id,
                      "product_title": _opt_str(line, "item_name"),
                      "quantity": int32(get(line, "model_quantity_purchased", int), f"item_list[{i}].model_quantity_purchased"),
                      "unit_price": money(get(line, "model_discounted_price", (int, float, str)),
                                          f"item_list[{i}].model_discounted_price")})
    fee = order.get("actual_shipping_fee")
    fee_path = "actual_shipping_fee"
    if not fee:
        fee, fee_path = order.get("estimated_shipping_fee"), "estimated_shipping_fee"
    buyer_id = get(order, "buyer_user_id", int, required=False)
    record = envelope(SYMBOL, shop_id, "order", order_sn, utc(updated), ingest_source, ingest_time)
    record.update({
        "order_id": order_sn,
        "status": get(order, "order_status", str),
        "create_time": utc(get(order, "create_time", int)),
        "update_time": utc(updated),
        "currency": get(order, "currency", str),
        "total_amount": money(get(order, "total_amount", (int, float, str)), "total_amount"),
        "shipping_fee": money(fee, fee_path) if fee is not None else None,
        "buyer": {"buyer_user_id": str(buyer_id) if buyer_id else None,
                  "buyer_username": _opt_str(order, "buyer_username"), "buyer_email": None},
        "recipient": recipient,
        "billing": None,
        "buyer_note": _opt_str(order, "message_to_seller"),
        "payment": payment,
        "items": items,
        "buyer_ip": None,
        "tracking_number": None,
    })
    return record
