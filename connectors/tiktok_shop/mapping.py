"""Pure mappings from TikTok Shop's 202309 payloads to our raw events; cards sealed, also in dead letters (R10)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable

from schemas import event_id

from ..base import DeadPayload, MappingError, Stream
from ..normalise import address, card, envelope, get, int32, money, utc

NAME = "tiktok_shop"
SYMBOL = "TIKTOK_SHOP"


# payment_method_name as TikTok displays it -> our Payment.method
PAYMENT_METHODS = {"cash on delivery": "COD", "cod": "COD", "credit/debit card": "CARD", "card": "CARD",
                   "e-wallet": "WALLET", "wallet": "WALLET", "bank transfer": "BANK_TRANSFER",
                   "paylater": "PAY_LATER"}


def _money_at(node: Any, path: str, *, required: bool = True):
    value = get(node, path, (str, int, float), required=required)
    if value is None or (not required and value == ""):
        return None
    return money(value, path)


def _nested(prefix: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except MappingError as exc:
        raise MappingError(exc.reason, f"{prefix}.{exc.path}") from None


def map_shop(payload: dict, ingest_source: str, *, authorised_until: datetime | None = None,
             ingest_time: datetime | None = None) -> dict:
    """One entry of Get Authorized Shops. TikTok exposes no shop update time and no seller contact:
    event_time is when we read it, seller is None, and the event id is derived from the content
    (a digest stands in for the update time), so re-reading an unchanged shop repeats its id."""
    shop_id = get(payload, "id", str)
    observed = ingest_time or datetime.now(timezone.utc)
    record = envelope(SYMBOL, shop_id, "shop", shop_id, observed, ingest_source, observed)
    version = json.dumps([payload, authorised_until.isoformat() if authorised_until else None], sort_keys=True,
                         ensure_ascii=False, default=str)
    record["event_id"] = event_id(SYMBOL, "shop", shop_id, int(hashlib.sha256(version.encode()).hexdigest()[:12], 16))
    record.update({
        "shop_name": get(payload, "name", str, required=False),
        "country": get(payload, "region", str),
        "status": "AUTHORIZED",          # listed by Get Authorized Shops: the only status TikTok gives
        "authorised_until": authorised_until,
        "seller": None,
        "tax_code": None,
    })
    return record


def _sku(sku: dict) -> dict:
    inventory = get(sku, "inventory", list, required=False)
    stock = None
    if inventory is not None:
        stock = sum(_nested(f"inventory.{i}", lambda w=w: get(w, "quantity", int)) for i, w in enumerate(inventory))
        stock = stock if -2**31 <= stock < 2**31 else None  # unusable, not fatal (as Lazada's)
    return {"sku_id": get(sku, "id", str), "seller_sku": get(sku, "seller_sku", str, required=False) or None,
            "price": _money_at(sku, "price.sale_price"), "stock": stock}


def map_product(payload: dict, shop_id: str, ingest_source: str, ingest_time: datetime | None = None) -> dict:
    """Get Product (202309) -> RawProductEvent."""
    item_id = get(payload, "id", str)
    updated = utc(get(payload, "update_time", int))
    chains = get(payload, "category_chains", list)
    if not chains:
        raise MappingError("missing_field", "category_chains")
    leaf = next((c for c in chains if isinstance(c, dict) and c.get("is_leaf") is True), chains[-1])
    if not isinstance(leaf, dict):
        raise MappingError("wrong_type", "category_chains")
    skus = get(payload, "skus", list)
    if not skus:
        raise MappingError("missing_field", "skus")
    record = envelope(SYMBOL, shop_id, "product", item_id, updated, ingest_source, ingest_time)
    record.update({
        "item_id": item_id,
        "status": get(payload, "status", str),
        "title": get(payload, "title", str),
        "description": get(payload, "description", str, required=False) or None,
        "category_id": _nested("category_chains", lambda: get(leaf, "id", str)),
        "category_name": _nested("category_chains", lambda: get(leaf, "local_name", str, required=False)),
        "brand": get(payload, "brand.name", str, required=False),
        "currency": _nested("skus.0", lambda: get(skus[0], "price.currency", str)),
        "skus": [_nested(f"skus.{i}", lambda s=s: _sku(s)) for i, s in enumerate(skus)],
        "created_time": utc(get(payload, "create_time", int)),
        "updated_time": updated,
    })
    return record


_LEVELS = {"ward": "ward", "sub-district": "ward", "subdistrict": "ward", "town": "ward", "district": "district",
           "city": "city", "province": "province", "state": "province"}


def _recipient(addr: dict) -> dict:
    levels: dict[str, str | None] = {"ward": None, "district": None, "city": None, "province": None}
    for i, entry in enumerate(get(addr, "district_info", list, required=False) or []):
        level = _nested(f"district_info.{i}", lambda e=entry: get(e, "address_level_name", str)).strip().lower()
        name = _nested(f"district_info.{i}", lambda e=entry: get(e, "address_name", str, required=False))
        if level in _LEVELS and name:
            levels[_LEVELS[level]] = name
    lines = [get(addr, f"address_line{n}", str, required=False) or "" for n in range(1, 5)]
    return {
        "name": get(addr, "name", str, required=False) or None,
        "phone": get(addr, "phone_number", str, required=False) or None,
        "phone2": None,
        "address": address(full_address=get(addr, "full_address", str, required=False) or None, lines=lines,
                           postal_code=get(addr, "postal_code", str, required=False) or None,
                           country=get(addr, "region_code", str), **levels),
    }


def _order_items(lines: list) -> list[dict]:
    """202309 line items are one per unit (a `quantity`, if present, is honoured): equal lines are merged."""
    merged: dict[tuple, dict] = {}
    for i, line in enumerate(lines):
        def read(line=line):
            item = {"item_id": get(line, "product_id", str), "sku_id": get(line, "sku_id", str, required=False),
                    "product_title": get(line, "product_name", str, required=False),
                    "quantity": get(line, "quantity", int, required=False, default=1),
                    "unit_price": _money_at(line, "sale_price")}
            return item
        item = _nested(f"line_items.{i}", read)
        key = (item["item_id"], item["sku_id"], item["product_title"], item["unit_price"])
        if key in merged:
            merged[key]["quantity"] += item["quantity"]
        else:
            merged[key] = item
    for item in merged.values():
        int32(item["quantity"], "line_items.quantity")
    return list(merged.values())


def _payment_method(name: str | None) -> str:
    if not name:
        return "UNKNOWN"
    return PAYMENT_METHODS.get(name.strip().lower(), name.strip().upper().replace(" ", "_"))


def map_order(payload: dict, shop_id: str, ingest_source: str, seal_card: Callable[[str], bytes],
              ingest_time: datetime | None = None) -> dict:
    """Order (202309, as in Get Order List / Get Order Detail) -> RawOrderEvent; the card number is sealed."""
    order_id = get(payload, "id", str)
    updated = utc(get(payload, "update_time", int))
    lines = get(payload, "line_items", list)
    recipient_raw = get(payload, "recipient_address", dict, required=False)  # absent for UNPAID / ON_HOLD
    card_number = get(payload, "payment.card_number", str, required=False)
    method_name = get(payload, "payment_method_name", str, required=False)
    tracking = get(payload, "tracking_number", str, required=False) or next(
        (line.get("tracking_number") for line in lines if isinstance(line, dict)
         and isinstance(line.get("tracking_number"), str) and line.get("tracking_number")), None)
    record = envelope(SYMBOL, shop_id, "order", order_id, updated, ingest_source, ingest_time)
    record.update({
        "order_id": order_id,
        "status": get(payload, "status", str),
        "create_time": utc(get(payload, "create_time", int)),
        "update_time": updated,
        "currency": get(payload, "payment.currency", str),
        "total_amount": _money_at(payload, "payment.total_amount"),
        "shipping_fee": _money_at(payload, "payment.shipping_fee", required=False),
        "buyer": {"buyer_user_id": get(payload, "user_id", str, required=False) or None,
                  "buyer_username": None,   # TikTok does not share the buyer's name or handle
                  "buyer_email": get(payload, "buyer_email", str, required=False) or None},
        "recipient": _nested("recipient_address", lambda: _recipient(recipient_raw)) if recipient_raw else None,
        "billing": None,
        "buyer_note": get(payload, "buyer_message", str, required=False) or None,
        "payment": None if not (method_name or card_number) else {
            "method": _payment_method(method_name),
            "card": _nested("payment", lambda: card(card_number, seal_card)),
            "billing_tax_code": None, "billing_company": None},
        "items": _order_items(lines),
        "buyer_ip": None,
        "tracking_number": tracking,
    })
    return record


def scrub_card(record: Any, seal_card: Callable[[str], bytes]) -> Any:
    """A copy of an order payload safe to dead-letter: the card number sealed (R10), never in the clear."""
    if not isinstance(record, dict) or not isinstance(record.get("payment"), dict) \
            or "card_number" not in record["payment"]:
        return record
    clean = copy.deepcopy(record)
    number = clean["payment"]["card_number"]
    digits = "".join(ch for ch in number if ch.isdigit()) if isinstance(number, str) else ""
    clean["payment"]["card_number"] = (
        {"sealed": base64.b64encode(seal_card(digits)).decode("ascii")} if digits else "<redacted>")
    return clean


_CARD_MEMBER = re.compile(rb'("card_number"\s*:\s*)"[^"]*(?:"|$)')


def scrub_body(body: bytes) -> bytes:
    """An undecodable answer (cut, not UTF-8, oversize) made safe to dead-letter: every card_number
    value blanked, even one cut short (R10)."""
    return _CARD_MEMBER.sub(rb'\1"<redacted>"', body)


def dead_payload(stream: Stream, exc: MappingError, record: Any) -> DeadPayload:
    """A record that could not be mapped, for the dead-letter topic (an order: pass it through scrub_card first)."""
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    return DeadPayload(stream, exc.reason, str(exc), body)
