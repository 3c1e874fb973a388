"""Pure mappings from Lazada's payloads to our raw events (addresses and cards: see the package docstring)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from schemas import event_id

from ..base import DeadPayload, MappingError, Stream
from ..normalise import address, card, envelope, get, money, utc
from .answers import json_bytes

NAME = "lazada"
SYMBOL = "LAZADA"
CURRENCIES = {"VN": "VND", "TH": "THB"}
COUNTRY_NAMES = {"vietnam": "VN", "viet nam": "VN", "việt nam": "VN", "thailand": "TH", "ประเทศไทย": "TH"}


def parse_lazada_time(value: Any, path: str) -> datetime:
    """Order times as Lazada writes them: "2024-05-01 10:20:30 +0700" in the samples, ISO 8601
    ("2018-02-09T22:44:30+08:00") in the GetOrders documentation; both, always with an offset."""
    if not isinstance(value, str):
        raise MappingError("wrong_type", path)
    text = value.strip()
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(timezone.utc)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError("wrong_type", path) from None
    if moment.tzinfo is None:          # a local time of an unknown zone: refuse rather than guess
        raise MappingError("wrong_type", path)
    return moment.astimezone(timezone.utc)


def parse_epoch_ms(value: Any, path: str) -> datetime:
    """Product times: epoch milliseconds, as a string ("1611554600000") or a number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).isdigit():
        raise MappingError("wrong_type", path)
    return utc(int(value) / 1000)


def lazada_money(value: Any, path: str) -> Decimal:
    """Prices come as numbers or strings, the strings with thousands separators ("1,299,000.00")."""
    if isinstance(value, str):
        value = value.replace(",", "").strip()
    return money(value, path)


def country_code(value: Any, fallback: str | None, path: str) -> str:
    if isinstance(value, str) and value.strip():
        name = value.strip()
        if len(name) == 2 and name.isalpha():
            return name.upper()
        if name.lower() in COUNTRY_NAMES:
            return COUNTRY_NAMES[name.lower()]
    if fallback:
        return fallback.upper()
    raise MappingError("missing_field", path)


def optional_text(payload: Any, path: str) -> str | None:
    """An optional text field; numbers are accepted as text (Lazada mixes them)."""
    value = get(payload, path, (str, int), required=False)
    if value is None or isinstance(value, bool):
        return None
    value = str(value).strip()
    return value or None


class _within:
    """Prefix the path of a MappingError raised inside a nested record ("order_items[1].")."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if isinstance(exc, MappingError) and not exc.path.startswith(self.prefix):
            raise MappingError(exc.reason, f"{self.prefix}.{exc.path}") from None


def required_id(payload: Any, path: str) -> str:
    value = get(payload, path, (str, int))
    if isinstance(value, bool) or str(value).strip() == "":
        raise MappingError("wrong_type", path)
    return str(value)


def map_address_contact(payload: Any, path: str, fallback_country: str | None) -> dict | None:
    """Lazada address_shipping / address_billing -> AddressContact (see the module doc)."""
    node = get(payload, path, dict, required=False)
    if node is None:
        return None
    with _within(path):
        return _contact(node, path, fallback_country)


def _contact(node: dict, path: str, fallback_country: str | None) -> dict:
    name = " ".join(p for p in (optional_text(node, "first_name"), optional_text(node, "last_name")) if p) or None
    return {
        "name": name,
        "phone": optional_text(node, "phone"),
        "phone2": optional_text(node, "phone2"),
        "address": address(full_address=None,
                           lines=[optional_text(node, "address1") or "", optional_text(node, "address2") or ""],
                           ward=optional_text(node, "address5"), district=optional_text(node, "address4"),
                           city=optional_text(node, "city"), province=optional_text(node, "address3"),
                           postal_code=optional_text(node, "post_code"),
                           country=country_code(node.get("country"), fallback_country, "country")),
    }


def order_lines(rows: Any) -> list[dict]:
    """/order(s)/items/get rows are one per unit: group them into lines with a quantity."""
    if not isinstance(rows, list):
        raise MappingError("missing_field" if rows is None else "wrong_type", "order_items")
    lines: dict[tuple, dict] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MappingError("wrong_type", f"order_items[{i}]")
        with _within(f"order_items[{i}]"):
            item_id = required_id(row, "product_id")
            sku_id = optional_text(row, "sku_id")
            price = lazada_money(get(row, "item_price", (int, float, str)), "item_price")
        key = (item_id, sku_id, price)
        if key in lines:
            lines[key]["quantity"] += 1
        else:
            lines[key] = {"item_id": item_id, "sku_id": sku_id, "product_title": optional_text(row, "name"),
                          "quantity": 1, "unit_price": price}
    return list(lines.values())


PAYMENT_METHODS = {"COD": "COD", "MIXEDCARD": "CARD", "CREDITCARD": "CARD", "CREDIT_CARD": "CARD",
                   "LAZADA_WALLET": "WALLET", "PAYMENT_ACCOUNT": "WALLET", "BANK_TRANSFER": "BANK_TRANSFER"}


def map_order(payload: Any, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None, *, country: str | None = None) -> dict:
    """A Lazada order (from /orders/get or /order/get) with its item rows under "order_items"
    (as /orders/items/get returns them) -> RawOrderEvent."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "order")
    order_id = required_id(payload, "order_id")
    created = parse_lazada_time(get(payload, "created_at", str), "created_at")
    updated = parse_lazada_time(get(payload, "updated_at", str), "updated_at")
    statuses = get(payload, "statuses", list)
    if not statuses or not all(isinstance(s, str) for s in statuses):
        raise MappingError("wrong_type", "statuses")
    rows = payload.get("order_items")
    items = order_lines(rows)
    currencies = {r.get("currency") for r in rows if isinstance(r.get("currency"), str)}
    if len(currencies) > 1:
        raise MappingError("wrong_type", "order_items.currency")
    currency = currencies.pop() if currencies else CURRENCIES.get((country or "").upper())
    if currency is None:
        raise MappingError("missing_field", "order_items.currency")
    method_raw = optional_text(payload, "payment_method")
    payment = None
    if method_raw is not None:
        details = get(payload, "payment_details", dict, required=False) or {}
        with _within("payment_details"):
            sealed = card(get(details, "card_number", str, required=False), seal_card)
        payment = {"method": PAYMENT_METHODS.get(method_raw.upper(), method_raw.upper()),
                   "card": sealed,
                   "billing_tax_code": optional_text(payload, "tax_code"), "billing_company": None}
    shipping_fee = get(payload, "shipping_fee", (int, float, str), required=False)
    tracking = next((optional_text(r, "tracking_code") for r in rows if optional_text(r, "tracking_code")), None)
    buyer_id = next((optional_text(r, "buyer_id") for r in rows if optional_text(r, "buyer_id")), None)
    billing_email = get(payload, "address_billing.customer_email", str, required=False)
    username = " ".join(p for p in (optional_text(payload, "customer_first_name"), optional_text(payload, "customer_last_name")) if p)
    record = envelope(SYMBOL, shop_id, "order", order_id, updated, ingest_source, ingest_time)
    record.update({
        "order_id": order_id,
        "status": ",".join(dict.fromkeys(statuses)),
        "create_time": created,
        "update_time": updated,
        "currency": currency,
        "total_amount": lazada_money(get(payload, "price", (int, float, str)), "price"),
        "shipping_fee": None if shipping_fee is None else lazada_money(shipping_fee, "shipping_fee"),
        "buyer": {"buyer_user_id": buyer_id, "buyer_username": username or None,
                  "buyer_email": billing_email or None},
        "recipient": map_address_contact(payload, "address_shipping", country),
        "billing": map_address_contact(payload, "address_billing", country),
        "buyer_note": optional_text(payload, "remarks"),
        "payment": payment,
        "items": items,
        "buyer_ip": None,                     # Lazada does not share it
        "tracking_number": tracking,
    })
    return record


def map_product(payload: Any, shop_id: str, ingest_source: str, ingest_time: datetime | None = None, *,
                country: str) -> dict:
    """A /products/get product -> RawProductEvent (currency from the shop's country: Lazada
    prices carry none; the category name needs the category tree, so it is left empty)."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "product")
    item_id = required_id(payload, "item_id")
    created = parse_epoch_ms(get(payload, "created_time", (str, int)), "created_time")
    updated = parse_epoch_ms(get(payload, "updated_time", (str, int)), "updated_time")
    skus = []
    for i, sku in enumerate(get(payload, "skus", list)):
        if not isinstance(sku, dict):
            raise MappingError("wrong_type", f"skus[{i}]")
        with _within(f"skus[{i}]"):
            stock = get(sku, "quantity", int, required=False)
            skus.append({"sku_id": required_id(sku, "SkuId"), "seller_sku": optional_text(sku, "SellerSku"),
                         "price": lazada_money(get(sku, "price", (int, float, str)), "price"),
                         "stock": stock if stock is None or -2**31 <= stock < 2**31 else None})
    currency = CURRENCIES.get(country.upper())
    if currency is None:
        raise MappingError("missing_field", "country")
    record = envelope(SYMBOL, shop_id, "product", item_id, updated, ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(payload, "status", str),
        "title": get(payload, "attributes.name", str),
        "description": get(payload, "attributes.description", str, required=False),
        "category_id": required_id(payload, "primary_category"),
        "category_name": None,
        "brand": optional_text(payload, "attributes.brand"),
        "currency": currency,
        "skus": skus,
        "created_time": created,
        "updated_time": updated,
    })
    return record


def map_shop(payload: Any, shop_id: str, ingest_source: str, ingest_time: datetime | None = None, *,
             country: str, authorised_until: datetime | None = None) -> dict:
    """/seller/get data -> RawShopEvent. No update time exists: see the module doc."""
    if not isinstance(payload, dict):
        raise MappingError("wrong_type", "seller")
    seller_id = required_id(payload, "seller_id")
    if seller_id != str(shop_id):
        raise MappingError("wrong_type", "seller_id")
    read_at = (ingest_time or datetime.now(timezone.utc)).astimezone(timezone.utc)
    country = country.upper()
    record = envelope(SYMBOL, shop_id, "shop", seller_id, read_at, ingest_source, read_at)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    record["event_id"] = event_id(SYMBOL, "shop", seller_id, int(digest[:12], 16))
    location = optional_text(payload, "location")
    record.update({
        "shop_name": optional_text(payload, "name"),
        "country": country,
        "status": get(payload, "status", str),
        "authorised_until": authorised_until,
        "seller": {"seller_name": optional_text(payload, "name_company"), "email": optional_text(payload, "email"),
                   "phone": None, "fax": None, "website_url": None,
                   "address": None if location is None else address(
                       full_address=None, lines=[], ward=None, district=None, city=location, province=None,
                       postal_code=None, country=country)},
        "tax_code": None,
    })
    return record


def dead_payload(stream: Stream, err: MappingError, record: Any) -> DeadPayload:
    """A record that could not be mapped, for the dead-letter topic: the reason and the record as received
    (Lazada publishes no card numbers; the runner scrubs a simulator's and seals the body under the shop's key)."""
    return DeadPayload(stream, err.reason, str(err), json_bytes(record))
