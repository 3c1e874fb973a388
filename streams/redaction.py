"""Raw event -> redacted event: the pure function a redaction worker calls per record.

The REDACTED schema is the contract: the redactor walks it field by field. Each field's
value comes from the raw record at the same path (or from SOURCES where the names
differ), transformed by the policy's action for the raw field's kind; untagged fields are
copied, nested records are redacted recursively and arrays of records element-wise.
A raw personal field that the redacted schema leaves out is dropped (and counted).

Everything is decided when the Redactor is built (at worker start): the schemas are paired,
every tag checked against the policy, every "transform" against the policy's action, and
the key, key store and scanner the actions need must be there. Any problem raises
PolicyError: fail closed. At run time the raw record is only read, never changed (R3).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from pipeline_core.errors import PipelineError
from pipeline_core.pseudonyms import load_pseudonym_key
from pipeline_core.topics import shop_key
from streams.actions import Action, ActionContext, ActionError, PseudonymAction, Scanner
from pipeline_core.keystore import KeyStore, LocalKeyStore, SecretKey
from streams.policy import DEFAULT_POLICY, Policy, PolicyError, free_text_key, load_policy

__all__ = ["GENERATED", "SOURCES", "RedactionError", "Redactor", "compile_plans", "default_scanner", "load_pseudonym_key",
           "redacted_name", "validate_schemas"]

_RED = "com.powersell.pipeline.redacted."
# Where a redacted field's value comes from when the raw field is elsewhere or named otherwise:
# (redacted record, field) -> alternative paths relative to the paired raw record; the first non-null wins.
SOURCES: Mapping[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    (_RED + "RedactedPayment", "card_brand"): (("card", "brand"),),
    (_RED + "RedactedPayment", "last4"): (("card", "last4"),),
    # Some marketplaces give a seller's region as the city only (Lazada's shop "location").
    (_RED + "GeneralisedAddress", "province"): (("province",), ("city",)),
}
# Top-level redacted fields the redactor fills itself.
GENERATED = frozenset({"policy_version"})


class RedactionError(PipelineError):
    """One record cannot be redacted (it goes to the dead letters); names fields, never values."""


def redacted_name(raw_full_name: str) -> str:
    """com.powersell.pipeline.raw.RawOrderEvent -> com.powersell.pipeline.redacted.RedactedOrderEvent"""
    namespace, _, name = raw_full_name.rpartition(".")
    return f"{namespace.rpartition('.')[0]}.redacted.Redacted{name.removeprefix('Raw')}"


# ---------------------------------------------------------------- schema pairing (at start)
@dataclass(frozen=True)
class _Field:
    name: str
    where: str                              # dotted redacted path, for messages
    sources: tuple[tuple[str, ...], ...]
    required: bool
    many: bool
    record: tuple[_Field, ...] | None       # the nested plan when the field holds records
    kind: str | None = None
    action: Action | None = None            # None: copied as it is
    generated: bool = False


@dataclass(frozen=True)
class _Plan:
    raw_name: str
    redacted_name: str
    fields: tuple[_Field, ...]
    dropped: tuple[tuple[tuple[str, ...], str], ...]   # (raw path, kind) of personal fields left out

    def actions(self) -> set[str]:
        def walk(fields: tuple[_Field, ...]) -> Iterator[str]:
            for f in fields:
                if f.action is not None:
                    yield f.action.name
                if f.record is not None:
                    yield from walk(f.record)
        return set(walk(self.fields))


class _Schema:
    """Named types of one schema definition, and the shape of a field's type."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.named: dict[str, dict] = {}
        self._names: dict[int, str] = {}
        self.definition = definition
        self._collect(definition, "")

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch, namespace)
        elif isinstance(schema, dict):
            if schema.get("type") in ("record", "enum", "fixed"):
                full = self.full_name(schema, namespace)
                self.named[full], self._names[id(schema)] = schema, full
                namespace = full.rpartition(".")[0]
            for field in schema.get("fields", ()):
                self._collect(field["type"], namespace)
            for key in ("items", "values"):
                if key in schema:
                    self._collect(schema[key], namespace)

    @staticmethod
    def full_name(schema: Mapping[str, Any], namespace: str) -> str:
        name = schema["name"]
        return name if "." in name else f"{schema.get('namespace', namespace)}.{name}".lstrip(".")

    def name_of(self, record: dict) -> str:
        return self._names[id(record)]

    def shape(self, type_: Any, where: str) -> tuple[bool, bool, dict | None]:
        """(nullable, array, record definition or None for a scalar) of a field type."""
        nullable = False
        if isinstance(type_, list):
            branches = [b for b in type_ if b != "null"]
            if branches == ["string", "bytes"]:  # a sealed field: the worker opens it to text before redaction
                branches = ["string"]
            if len(branches) != 1:
                raise PolicyError(f"{where}: unions of several types cannot be redacted field by field")
            nullable, type_ = len(branches) < len(type_), branches[0]
        if isinstance(type_, str):
            type_ = self.named.get(type_, type_)
        if isinstance(type_, dict) and type_.get("type") == "array":
            _, _, inner = self.shape(type_["items"], where)
            return nullable, True, inner
        return nullable, False, type_ if isinstance(type_, dict) and type_.get("type") == "record" else None

    def field(self, record: dict, path: tuple[str, ...], where: str) -> dict | None:
        """The field at path below record, through nested (nullable) records; None if there is none."""
        for i, step in enumerate(path):
            found = next((f for f in record["fields"] if f["name"] == step), None)
            if found is None or i == len(path) - 1:
                return found
            _, many, inner = self.shape(found["type"], where)
            if inner is None or many:
                return None
            record = inner
        return None

    def tagged_leaves(self, record: dict, prefix: tuple[str, ...] = (), stack: tuple[str, ...] = ()
                      ) -> Iterator[tuple[tuple[str, ...], str]]:
        """(path, kind) of every tagged non-record field, following named types."""
        full = self.name_of(record)
        for field in record["fields"]:
            path = prefix + (field["name"],)
            _, _, inner = self.shape(field["type"], ".".join(path))
            if inner is not None and self.name_of(inner) not in stack:
                yield from self.tagged_leaves(inner, path, stack + (full,))
            elif inner is None and "pii" in field:
                yield path, field["pii"]


def _compile_record(policy: Policy, red: _Schema, red_rec: dict, raw: _Schema, raw_rec: dict, where: str,
                    raw_prefix: tuple[str, ...], consumed: set[tuple[str, ...]], top: bool) -> tuple[_Field, ...]:
    red_full, fields = red.name_of(red_rec), []
    for red_field in red_rec["fields"]:
        name, here = red_field["name"], f"{where}.{red_field['name']}"
        if red_field.get("pii") not in (None, "none"):
            raise PolicyError(f"{here} is tagged {red_field['pii']!r}: a redacted schema holds no personal data (R4)")
        nullable, many, red_inner = red.shape(red_field["type"], here)
        sources = SOURCES.get((red_full, name), ((name,),))
        if top and name in GENERATED:
            fields.append(_Field(name, here, (), True, False, None, generated=True))
            continue
        raw_fields = [raw.field(raw_rec, path, here) for path in sources]
        if any(f is None for f in raw_fields):
            raise PolicyError(f"{here} has no source field in {raw.name_of(raw_rec)} "
                              f"(add it to streams.redaction.SOURCES if it is named otherwise)")
        shapes = [raw.shape(f["type"], here) for f in raw_fields]
        if any(s[1] != many or (s[2] is None) != (red_inner is None) for s in shapes):
            raise PolicyError(f"{here} and its source field differ in shape (record, array or value)")
        if red_inner is not None:
            if len(sources) != 1:
                raise PolicyError(f"{here}: a record field takes exactly one source")
            nested = _compile_record(policy, red, red_inner, raw, shapes[0][2], here, raw_prefix + sources[0],
                                     consumed, top=False)
            fields.append(_Field(name, here, sources, not nullable and not many, many, nested))
            continue
        kinds = {f.get("pii") for f in raw_fields}
        if len(kinds) != 1:
            raise PolicyError(f"{here}: its source fields carry different kinds")
        kind = kinds.pop()
        rule = policy.check_transform(here, kind, red_field.get("transform"))
        action = rule.action if rule is not None else None
        if kind == "free_text":  # each free-text field has its own entry: scan, or drop (null downstream)
            key = free_text_key(raw.definition, ".".join((raw.name_of(raw.definition),) + raw_prefix + sources[0]))
            action = policy.free_text_action(key)
            if action.name == "drop" and not nullable and not many:
                raise PolicyError(f"{here} is required in the redacted schema: free-text field {key} cannot be "
                                  f"dropped (make the field nullable, or scan it)")
        consumed.update(raw_prefix + path for path in sources)
        fields.append(_Field(name, here, sources, not nullable and not many, many, None, kind, action))
    return tuple(fields)


def compile_plans(policy: Policy, registry: Any) -> dict[str, _Plan]:
    """A redaction plan per raw schema of the registry; PolicyError at the first problem."""
    plans = {}
    for raw_name in registry.names():
        if ".raw." not in raw_name:
            continue
        raw_def = registry.definition(raw_name)
        policy.check_raw_schema(raw_def)
        red_name = redacted_name(raw_name)
        if red_name not in registry.names():
            raise PolicyError(f"raw schema {raw_name} has no redacted counterpart {red_name}")
        raw, red = _Schema(raw_def), _Schema(registry.definition(red_name))
        consumed: set[tuple[str, ...]] = set()
        fields = _compile_record(policy, red, registry.definition(red_name), raw, raw_def, red_name, (), consumed,
                                 top=True)
        dropped = tuple((path, kind) for path, kind in raw.tagged_leaves(raw_def)
                        if path not in consumed and kind != "none")
        plans[raw_name] = _Plan(raw_name, red_name, fields, dropped)
    return plans


def validate_schemas(policy: Policy, registry: Any) -> None:
    """Check the policy against every raw schema's tags and every redacted schema's transforms (PolicyError)."""
    compile_plans(policy, registry)


# ---------------------------------------------------------------- the redactor (per record)
def default_scanner() -> Scanner | None:
    """streams.detectors.redact_text, imported lazily; None until it exists."""
    try:
        from streams.detectors import redact_text  # type: ignore[attr-defined]
    except ImportError:
        return None
    return redact_text


def _source(record: Mapping[str, Any], sources: tuple[tuple[str, ...], ...]) -> Any:
    for path in sources:
        node: Any = record
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None  # decoded Avro records are dicts
        if node is not None:
            return node
    return None


def _values(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value at path, through nested records and arrays of records."""
    if not path:
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, path)
    elif isinstance(node, dict):
        yield from _values(node.get(path[0]), path[1:])


class Redactor:
    """redact(raw_full_name, record) -> (redacted_full_name, redacted_record, Counter by kind)."""

    def __init__(self, policy: Policy, registry: Any, *, pseudonym_key: SecretKey | None = None,
                 keystore: KeyStore | None = None, scanner: Scanner | None = None) -> None:
        self.policy = policy
        self._plans = compile_plans(policy, registry)
        used = set().union(*(plan.actions() for plan in self._plans.values()))
        if "pseudonym" in used and pseudonym_key is None:
            raise PolicyError("the policy pseudonymises fields and no pseudonym key was given "
                              "(POWERSELL_PSEUDONYM_KEY or POWERSELL_PSEUDONYM_KEY_FILE)")
        if "encrypt" in used and keystore is None:
            raise PolicyError("the policy encrypts fields and no key store was given (POWERSELL_KEYSTORE_DIR)")
        if "scan" in used:
            scanner = scanner or default_scanner()
            if scanner is None:
                raise PolicyError("the policy scans free text and no scanner is available "
                                  "(streams.detectors.redact_text cannot be imported)")
        self._encrypts = "encrypt" in used
        self._context = ActionContext(pseudonym_key=pseudonym_key, keystore=keystore, scanner=scanner)
        customer = policy.rules["customer_id"].action
        self._buyer_subject = customer if isinstance(customer, PseudonymAction) else \
            PseudonymAction(kind="customer_id", scope="marketplace")

    @classmethod
    def from_env(cls, registry: Any, env: Mapping[str, str] | None = None, scanner: Scanner | None = None) -> Redactor:
        """POWERSELL_REDACTION_POLICY (default streams/policy.json), POWERSELL_PSEUDONYM_KEY[_FILE],
        POWERSELL_KEYSTORE_DIR (only if the policy encrypts)."""
        env = os.environ if env is None else env
        policy = load_policy(env.get("POWERSELL_REDACTION_POLICY") or DEFAULT_POLICY)
        folder = env.get("POWERSELL_KEYSTORE_DIR")
        keystore = LocalKeyStore.in_dir(Path(folder).expanduser()) if folder else None
        return cls(policy, registry, pseudonym_key=load_pseudonym_key(env),
                   keystore=keystore, scanner=scanner)

    @property
    def raw_names(self) -> list[str]:
        return sorted(self._plans)

    def subject(self, record: Mapping[str, Any], ctx: ActionContext) -> str:
        """Whose data key encrypts: the buyer's pseudonym (also their consent subject id) when the
        record has a buyer, else the shop (marketplace:shop_id)."""
        buyer = _source(record, (("buyer", "buyer_user_id"),))
        if buyer:
            return self._buyer_subject.apply(buyer, ctx)
        return shop_key(str(record["marketplace"]), str(record["shop_id"]))

    def redact(self, raw_full_name: str, record: Mapping[str, Any]) -> tuple[str, dict[str, Any], Counter[str]]:
        plan = self._plans.get(raw_full_name)
        if plan is None:
            raise RedactionError(f"no redaction plan for schema {raw_full_name!r}")
        ctx = replace(self._context, marketplace=record.get("marketplace"), found=Counter())
        if self._encrypts:
            ctx.subject = self.subject(record, ctx)
        counts: Counter[str] = Counter()
        redacted = self._record(plan.fields, record, ctx, counts)
        for path, kind in plan.dropped:
            counts[kind] += sum(1 for value in _values(record, path) if value not in (None, "", b"", []))
        counts.update(ctx.found)
        return plan.redacted_name, redacted, +counts

    def _record(self, fields: tuple[_Field, ...], raw: Mapping[str, Any], ctx: ActionContext,
                counts: Counter[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            if f.generated:
                out[f.name] = self.policy.version
                continue
            value = _source(raw, f.sources)
            if value is None:
                out[f.name] = [] if f.many else None
            elif f.record is not None:
                out[f.name] = [self._record(f.record, item, ctx, counts) for item in value] if f.many \
                    else self._record(f.record, value, ctx, counts)
            else:
                out[f.name] = self._leaf(f, value, ctx, counts)
            if out[f.name] is None and f.required:
                raise RedactionError(f"{f.where} is required and has no value after redaction")
        return out

    @staticmethod
    def _leaf(f: _Field, value: Any, ctx: ActionContext, counts: Counter[str]) -> Any:
        if f.action is None:
            return list(value) if f.many else value
        try:
            if f.many:
                result = [r for r in (f.action.apply(v, ctx) for v in value if v is not None) if r is not None]
            else:
                result = f.action.apply(value, ctx)
        except ActionError as exc:
            raise RedactionError(f"{f.where}: {exc}") from None
        except Exception as exc:  # a scanner's or library's message may quote the value: name the type only
            raise RedactionError(f"{f.where}: {f.action.name} failed ({type(exc).__name__})") from None
        if f.action.name not in ("keep", "scan"):  # scan findings arrive by kind through ctx.found
            counts[f.kind or ""] += 1
        return result
