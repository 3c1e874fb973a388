"""Pure helpers shared by the marketplace mappings: the event envelope, addresses, and
typed access to payload fields that turns a missing or mistyped field into a MappingError
(a dead letter with a reason) instead of a crash."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas import event_id
from pipeline_core.topics import shop_key

from .base import BadPayload, MappingError, RawEvent, Stream

_MISSING = object()
MONEY_DIGITS = 18  # precision of every money field in the raw contracts


def get(payload: Any, path: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
    """payload["a"]["b"] for path "a.b", checked against kind. Never echoes the value."""
    node = payload
    for part in path.split("."):
        node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING or node is None:
            if required:
                raise MappingError("missing_field", path)
            return default
    if kind is int and isinstance(node, bool) or not isinstance(node, kind):
        raise MappingError("wrong_type", path)
    return node


def int32(value: int | None, path: str) -> int | None:
    """A count the contracts hold as an Avro int: beyond it the record could not be published."""
    if value is not None and not -2**31 <= value < 2**31:
        raise MappingError("wrong_type", path)
    return value


def money(value: Any, path: str) -> Decimal:
    """A price as the platforms send it (number or numeric string), to 2 decimal places."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MappingError("wrong_type", path)
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise MappingError("wrong_type", path) from None
    if not amount.is_finite() or amount.adjusted() >= MONEY_DIGITS - 2:  # must fit the contracts' decimal(18,2)
        raise MappingError("wrong_type", path)
    return amount


def utc(epoch_seconds: int | float, path: str = "timestamp") -> datetime:
    try:
        return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):  # outside years 1-9999: a mistyped time, not a crash
        raise MappingError("wrong_type", path) from None


def envelope(marketplace_symbol: str, shop_id: str, entity: str, entity_id: str, update_time: datetime,
             ingest_source: str, ingest_time: datetime | None = None) -> dict:
    """The fields every raw event starts with; event_id is deterministic per entity version."""
    return {
        "event_id": event_id(marketplace_symbol, entity, entity_id, int(update_time.timestamp() * 1000)),
        "marketplace": marketplace_symbol,
        "shop_id": shop_id,
        "event_time": update_time,
        "ingest_time": ingest_time or datetime.now(timezone.utc),
        "ingest_source": ingest_source,
    }


def raw_event(stream: Stream, marketplace_symbol: str, shop_id: str, record: dict) -> RawEvent:
    return RawEvent(stream, shop_key(marketplace_symbol, shop_id), record)


def address(*, full_address: str | None, lines: list[str], ward: str | None, district: str | None,
            city: str | None, province: str | None, postal_code: str | None, country: str) -> dict:
    return {"full_address": full_address, "address_lines": [l for l in lines if l], "ward": ward,
            "district": district, "city": city, "province": province, "postal_code": postal_code,
            "country": country}


def card_brand(number: str) -> str | None:
    """The brand from the card's issuer prefix (enough for VISA, Mastercard, JCB, Amex)."""
    if number.startswith("4"):
        return "VISA"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "MASTERCARD"
    if 3528 <= int(number[:4] or 0) <= 3589:
        return "JCB"
    if number[:2] in {"34", "37"}:
        return "AMEX"
    return None


def card(number: str | None, seal_card) -> dict | None:
    """The raw event's card: ciphertext, brand and last four; never the number (R10)."""
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    if not 13 <= len(digits) <= 19:
        raise MappingError("wrong_type", "card_number")
    return {"card_ciphertext": seal_card(digits), "brand": card_brand(digits), "last4": digits[-4:]}


MAX_JSON_DEPTH = 32  # pushes nest a few levels; deeper ones would only reach recursion limits further on


def json_object(body: bytes, what: str) -> dict:
    """A push or response body that must be a UTF-8 JSON object; BadPayload (no values quoted) otherwise."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadPayload("invalid_utf8", f"{what} is not UTF-8", body) from None
    except json.JSONDecodeError:
        raise BadPayload("invalid_json", f"{what} is not JSON ({len(body)} bytes)", body) from None
    except RecursionError:
        raise BadPayload("too_deep", f"{what} is nested too deeply", body) from None
    if not isinstance(parsed, dict):
        raise BadPayload("wrong_type", f"{what} is not a JSON object", body)
    if _deeper_than(parsed, MAX_JSON_DEPTH):
        raise BadPayload("too_deep", f"{what} is nested deeper than {MAX_JSON_DEPTH}", body)
    return parsed


def _deeper_than(value: Any, limit: int) -> bool:
    """Iterative, so it cannot hit the recursion limit it guards against."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
