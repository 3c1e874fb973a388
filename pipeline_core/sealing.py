"""Personal fields sealed at the connector and opened, in memory only, by the privacy worker
(R3, R10, R12).

The raw schemas say which fields: a field marked `"encrypted": "shop"` is sealed under the
shop's data key (subject marketplace:shop_id), `"encrypted": "buyer"` under the buyer's (the
keyed pseudonym of the field marked `"key_subject": "buyer"`, which is also the id an erasure
of the buyer names; an order without a buyer id seals them under the shop's key). So erasing
a shop or a buyer destroys one key and every raw record, dead letter and other copy of their
personal fields becomes unreadable at once, whatever the topic's retention.

A sealed value is the key store's ciphertext (format 2: key id and version inside,
authenticated). Text is sealed as UTF-8; a field that already holds bytes (the card number's
own ciphertext) is sealed as it is. Raw records written before schema v2 hold text in those
fields: `open` passes text through, so old records stay readable.

SealingError
 ├── SubjectErased    a field's key was destroyed: its subject was erased (owner: shop or buyer)
 └── (not a key store ciphertext, another subject's ciphertext, tampered, no key store)
Messages name fields and owners, never values.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from pipeline_core.errors import PipelineError
from pipeline_core.keystore import FORMAT_VERSION, KeyDestroyed, KeyStore, KeyStoreError, SecretKey
from pipeline_core.pseudonyms import buyer_subject

__all__ = ["OWNERS", "RecordSealer", "SealingError", "SubjectErased", "plaintext_definition", "sealed_fields",
           "sealed_states"]

OWNERS = ("shop", "buyer")
SEALED_UNION = ["string", "bytes"]


class SealingError(PipelineError):
    """A record cannot be sealed or opened; names fields, never values."""


class SubjectErased(SealingError):
    def __init__(self, owner: str, where: str) -> None:
        super().__init__(f"{where}: the {owner}'s data key was destroyed (the subject was erased)")
        self.owner = owner


# ---------------------------------------------------------------- the plan, from a raw schema
@dataclass(frozen=True)
class _Leaf:
    path: tuple[str, ...]       # through nested records; arrays of records are walked element-wise
    owner: str
    many: bool                  # an array of values


def _record_of(type_: Any, named: dict[str, dict]) -> tuple[dict | None, bool]:
    """(record definition, is an array of them) of a field type, or (None, False)."""
    if isinstance(type_, list):
        found = [_record_of(b, named) for b in type_ if b != "null"]
        return found[0] if len(found) == 1 else (None, False)
    if isinstance(type_, str):
        return named.get(type_.rpartition(".")[2], None), False
    if type_.get("type") == "record":
        return type_, False
    if type_.get("type") == "array":
        inner, _ = _record_of(type_["items"], named)
        return inner, inner is not None
    return None, False


def _walk(record: dict, prefix: tuple[str, ...], named: dict[str, dict]) -> Iterator[tuple[tuple[str, ...], dict]]:
    """(path, field definition) of every field, following nested records (each named type defined once
    in a file: register it where it is defined, look it up where it is reused)."""
    named.setdefault(record["name"], record)
    for field in record["fields"]:
        path = prefix + (field["name"],)
        yield path, field
        inner, _ = _record_of(field["type"], named)
        if inner is not None:
            yield from _walk(inner, path, named)


def sealed_fields(definition: Mapping[str, Any]) -> tuple[tuple[_Leaf, ...], tuple[str, ...] | None]:
    """The sealed leaves of a raw schema, and the path of the field naming the buyer (or None)."""
    leaves, buyer = [], None
    for path, field in _walk(dict(definition), (), {}):
        owner = field.get("encrypted")
        if owner is not None:
            if owner not in OWNERS:
                raise SealingError(f"{'.'.join(path)}: \"encrypted\" must be one of {', '.join(OWNERS)}")
            type_ = field["type"]
            many = isinstance(type_, dict) and type_.get("type") == "array"
            leaves.append(_Leaf(path, owner, many))
        if field.get("key_subject") == "buyer":
            buyer = path
    return tuple(leaves), buyer


def plaintext_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The schema as the connector's mapping fills it and the redactor reads it: sealed fields as text."""
    out = copy.deepcopy(dict(definition))

    def strip(type_: Any) -> Any:
        if isinstance(type_, list) and type_[-2:] == SEALED_UNION:
            return type_[:-1]
        if isinstance(type_, dict) and type_.get("type") == "array":
            return {**type_, "items": strip(type_["items"])}
        return type_

    for _, field in _walk(out, (), {}):
        if "encrypted" in field:
            field["type"] = strip(field["type"])
    return out


def sealed_states(keystore: KeyStore, record: Any) -> dict[str, int]:
    """How many key store ciphertexts a decoded record holds (any field, nested, dead letters' sealed bodies
    too), by the state of their keys: {"live": n, "destroyed": m}; destroyed means the subject was erased.
    For `topics tail`: no value is opened."""
    counts: dict[str, int] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
        elif isinstance(node, (bytes, bytearray)) and _is_sealed(bytes(node)):
            state = keystore.state_of(bytes(node))
            counts[state] = counts.get(state, 0) + 1
    visit(record)
    return counts


# ---------------------------------------------------------------- per record
def _get(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def _rewrite(node: Any, path: tuple[str, ...], fn: Callable[[Any], Any]) -> None:
    """Replace the value at path in place (node is a fresh copy), through nested records and arrays."""
    if isinstance(node, list):
        for item in node:
            _rewrite(item, path, fn)
    elif isinstance(node, dict) and path:
        if len(path) == 1:
            if node.get(path[0]) is not None:
                node[path[0]] = fn(node[path[0]])
        else:
            _rewrite(node.get(path[0]), path[1:], fn)


def _has_string(type_: Any) -> bool:
    if isinstance(type_, list):
        return "string" in type_
    if isinstance(type_, dict) and type_.get("type") == "array":
        return _has_string(type_["items"])
    return type_ == "string"


def _is_sealed(value: bytes) -> bool:
    return len(value) > 0 and value[0] == FORMAT_VERSION


class RecordSealer:
    """seal(schema, record) at the connector; open(schema, record) in the privacy worker.

    The input record is never changed: both return a copy."""

    def __init__(self, keystore: KeyStore, pseudonym_key: SecretKey | None, registry: Any) -> None:
        self.keystore, self.pseudonym_key = keystore, pseudonym_key
        self._plans: dict[str, tuple[tuple[_Leaf, ...], tuple[str, ...] | None]] = {}
        self._text: dict[str, dict[tuple[str, ...], bool]] = {}  # whether a sealed field held text (else bytes)
        for name in registry.names():
            definition = registry.definition(name)
            leaves, buyer = sealed_fields(definition)
            if leaves:
                self._plans[name] = (leaves, buyer)
                self._text[name] = {path: _has_string(f["type"]) for path, f in _walk(dict(definition), (), {})
                                    if "encrypted" in f}
        if any(buyer for _, buyer in self._plans.values()) and pseudonym_key is None:
            raise SealingError("buyers' fields are sealed under their pseudonym's key and no pseudonym key was given "
                               "(POWERSELL_PSEUDONYM_KEY or POWERSELL_PSEUDONYM_KEY_FILE)")

    def subjects(self, full_name: str, record: Mapping[str, Any], buyer_id: Any = None) -> dict[str, str]:
        """The data-key subject of each owner for this record."""
        shop = f"{str(record['marketplace']).lower()}:{record['shop_id']}"
        _, buyer_path = self._plans.get(full_name, ((), None))
        if buyer_id is None and buyer_path is not None:
            buyer_id = _get(record, buyer_path)
        if isinstance(buyer_id, str) and buyer_id.strip() and self.pseudonym_key is not None:
            return {"shop": shop, "buyer": buyer_subject(self.pseudonym_key, str(record["marketplace"]), buyer_id)}
        return {"shop": shop, "buyer": shop}

    # ---------------------------------------------------------------- connector side
    def seal(self, full_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of record with every sealed field's value replaced by its ciphertext."""
        plan = self._plans.get(full_name)
        out = copy.deepcopy(dict(record))
        if plan is None:
            return out
        leaves, _ = plan
        subjects = self.subjects(full_name, record)
        keys = {owner: self.keystore.sealer(subject) for owner, subject in subjects.items()}
        for leaf in leaves:
            seal = keys[leaf.owner]

            def one(value: Any, where: str = ".".join(leaf.path)) -> bytes:
                if isinstance(value, str):
                    return seal(value.encode("utf-8"))
                if isinstance(value, bytes):
                    return seal(value)
                raise SealingError(f"{where}: expected text or bytes to seal, got {type(value).__name__}")

            _rewrite(out, leaf.path, (lambda values, one=one: [one(v) for v in values]) if leaf.many else one)
        return out

    # ---------------------------------------------------------------- worker side
    def open(self, full_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of record with every sealed text field opened (the card's bytes stay sealed: nothing needs them).
        SubjectErased when a field's key was destroyed; SealingError for anything else that fails."""
        plan = self._plans.get(full_name)
        out = copy.deepcopy(dict(record))
        if plan is None:
            return out
        leaves, buyer_path = plan
        text = self._text[full_name]
        buyer_id = None
        if buyer_path is not None:  # first the buyer's id: its pseudonym says whose key the other fields need
            value = _get(record, buyer_path)
            buyer_id = self._open_value(value, self.keystore.opener(None), "buyer", ".".join(buyer_path), True)
        subjects = self.subjects(full_name, record, buyer_id=buyer_id)
        openers = {owner: self.keystore.opener(subject) for owner, subject in subjects.items()}  # one lookup per key
        for leaf in leaves:
            where = ".".join(leaf.path)

            def one(value: Any, owner: str = leaf.owner, where: str = where, as_text: bool = text[leaf.path]) -> Any:
                return self._open_value(value, openers[owner], owner, where, as_text)

            _rewrite(out, leaf.path, (lambda values, one=one: [one(v) for v in values]) if leaf.many else one)
        return out

    def _open_value(self, value: Any, open_: Callable[[bytes], bytes], owner: str, where: str, as_text: bool) -> Any:
        if value is None or isinstance(value, str):
            return value  # absent, or written before schema v2 (plaintext)
        if not isinstance(value, (bytes, bytearray)):
            raise SealingError(f"{where}: expected ciphertext, got {type(value).__name__}")
        if not as_text:
            return value  # the card's ciphertext: redaction drops it, so it stays sealed even in memory
        value = bytes(value)
        if not _is_sealed(value):
            raise SealingError(f"{where}: holds bytes that are not a key store ciphertext")
        try:
            plain = open_(value)
        except KeyDestroyed:
            raise SubjectErased(owner, where) from None
        except KeyStoreError as exc:
            raise SealingError(f"{where}: {exc}") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise SealingError(f"{where}: sealed value is not UTF-8 text") from None
