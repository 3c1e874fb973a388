"""The redaction policy: a versioned data file (streams/policy.json) that maps each kind of
personal data (schemas.PII_KINDS) to an action (streams.actions.ACTIONS) and its
parameters. It is loaded once when a worker starts and checked there, failing closed:

- every kind in PII_KINDS has exactly one rule, and every rule names a known kind and action
  with parameters that action takes;
- every "pii" tag in a raw schema is a known kind (and so has a rule);
- every free-text field of a raw schema has its own entry in "free_text_fields", saying
  "scan" (detected values become typed placeholders) or "drop" (the redacted field is null;
  only a nullable redacted field can be dropped), keyed by record and path
  ("RawOrderEvent.buyer_note", "RawOrderEvent.items.product_title");
- every field a redacted schema keeps says, as its "transform", the action of its source
  field's kind (checked by streams.redaction.validate_schemas, which pairs the schemas field by field).

Any failure raises PolicyError with one message naming the kind and the field: the worker
must not start, and no value is ever passed through for want of a rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from pipeline_core.errors import ConfigError
from schemas import PII_KINDS, TRANSFORMS
from streams.actions import ACTIONS, Action, ActionConfigError

# The check against the redacted schemas (pairing them field by field) is streams.redaction.validate_schemas:
# it needs the redactor's plans, and the redactor imports this module, never the other way round.
__all__ = ["DEFAULT_POLICY", "FREE_TEXT_ACTIONS", "Policy", "PolicyError", "Rule", "load_policy", "tagged_fields"]

DEFAULT_POLICY = Path(__file__).resolve().with_name("policy.json")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NOT_PARAMS = {"action", "doc"}
FREE_TEXT_ACTIONS = ("scan", "drop")  # what a free-text field's own entry may say


class PolicyError(ConfigError):
    """The policy or the schemas it is checked against cannot be used: fail closed."""


@dataclass(frozen=True)
class Rule:
    kind: str
    action: Action

    @property
    def action_name(self) -> str:
        return self.action.name


@dataclass(frozen=True)
class Policy:
    version: str
    rules: Mapping[str, Rule]
    source: str = "policy"
    # free-text field ("RawOrderEvent.buyer_note") -> its action, scan or drop
    free_text_fields: Mapping[str, Action] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_dict(cls, data: Any, source: str = "policy") -> Policy:
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: the policy must be a JSON object")
        version = data.get("version")
        if not isinstance(version, str) or not _VERSION.match(version):
            raise PolicyError(f"{source}: \"version\" must be a short name of letters, digits, '.', '_' or '-'")
        rules_data = data.get("rules")
        if not isinstance(rules_data, dict):
            raise PolicyError(f"{source}: \"rules\" must be an object mapping each kind to its rule")
        rules = {kind: _rule(source, kind, rule) for kind, rule in rules_data.items()}
        missing = sorted(PII_KINDS - set(rules))
        if missing:
            raise PolicyError(f"{source}: no rule for kind {', '.join(map(repr, missing))}; every kind in "
                              f"schemas.PII_KINDS needs one (fail closed: nothing is passed through)")
        fields_data = data.get("free_text_fields")
        if not isinstance(fields_data, dict):
            raise PolicyError(f"{source}: \"free_text_fields\" must be an object mapping each free-text field "
                              f"(e.g. \"RawOrderEvent.buyer_note\") to {{\"action\": \"scan\" or \"drop\"}}")
        fields = {name: _free_text_action(source, name, entry) for name, entry in fields_data.items() if name != "doc"}
        return cls(version, MappingProxyType(rules), source, MappingProxyType(fields))

    def rule(self, kind: str, where: str) -> Rule:
        """The rule for the kind of the field at where; PolicyError if the kind is unknown or has no rule."""
        if kind not in PII_KINDS:
            raise PolicyError(f"{where} is tagged with unknown kind {kind!r}; known kinds are schemas.PII_KINDS")
        rule = self.rules.get(kind)
        if rule is None:
            raise PolicyError(f"{self.source}: no rule for kind {kind!r}, tagged on {where}")
        return rule

    def actions_used(self) -> frozenset[str]:
        return frozenset(rule.action_name for rule in self.rules.values())

    def check_raw_schema(self, definition: Mapping[str, Any]) -> None:
        """Every "pii" tag of a raw schema is a known kind with a rule; every free-text field has its entry."""
        for where, kind in tagged_fields(definition):
            self.rule(kind, where)
            if kind == "free_text":
                self.free_text_action(free_text_key(definition, where))

    def free_text_action(self, field: str) -> Action:
        """The action of one free-text field ("RawOrderEvent.buyer_note"); PolicyError if it has no entry."""
        action = self.free_text_fields.get(field)
        if action is None:
            raise PolicyError(f"{self.source}: free-text field {field} has no entry in \"free_text_fields\"; "
                              f"give it {{\"action\": \"scan\"}} or {{\"action\": \"drop\"}} (fail closed)")
        return action

    def check_transform(self, where: str, kind: str | None, transform: str | None) -> Rule | None:
        """The rule that fills the redacted field at where from a raw field of kind (None: untagged).

        The redacted field's "transform" must be the rule's action: none for untagged fields and
        kept ("none") ones; a kind whose rule drops it must not be in a redacted schema at all.
        """
        if transform is not None and transform not in TRANSFORMS:
            raise PolicyError(f"{where}: unknown transform {transform!r}; known ones are schemas.TRANSFORMS")
        if kind is None:
            if transform is not None:
                raise PolicyError(f"{where} says transform {transform!r}, but its source field has no \"pii\" tag")
            return None
        rule = self.rule(kind, where)
        expected = None if rule.action_name == "keep" else rule.action_name
        if rule.action_name == "drop":
            raise PolicyError(f"{where} holds kind {kind!r}, which the policy drops: the redacted schema must "
                              f"leave the field out")
        if transform != expected:
            said = f"transform {transform!r}" if transform else "no transform"
            raise PolicyError(f"{where} says {said}, but the policy's action for kind {kind!r} is "
                              f"{rule.action_name!r}")
        return rule


def _rule(source: str, kind: str, data: Any) -> Rule:
    if kind not in PII_KINDS:
        raise PolicyError(f"{source}: rule for unknown kind {kind!r}; known kinds are schemas.PII_KINDS")
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise PolicyError(f"{source}: the rule for kind {kind!r} must be an object with an \"action\"")
    name = data["action"]
    action_type = ACTIONS.get(name)
    if action_type is None:
        raise PolicyError(f"{source}: the rule for kind {kind!r} names unknown action {name!r}; "
                          f"known actions: {', '.join(sorted(ACTIONS))}")
    try:
        action = action_type.from_rule(kind, {k: v for k, v in data.items() if k not in _NOT_PARAMS})
    except ActionConfigError as exc:
        raise PolicyError(f"{source}: the rule for kind {kind!r}: {exc}") from None
    return Rule(kind, action)


def _free_text_action(source: str, field: str, data: Any) -> Action:
    name = data.get("action") if isinstance(data, dict) else None
    if name not in FREE_TEXT_ACTIONS:
        said = f"unknown action {name!r}" if isinstance(name, str) else "no \"action\""
        raise PolicyError(f"{source}: free-text field {field} has {said}; a free-text field says \"scan\" or \"drop\"")
    try:
        return ACTIONS[name].from_rule("free_text", {k: v for k, v in data.items() if k not in _NOT_PARAMS})
    except ActionConfigError as exc:
        raise PolicyError(f"{source}: free-text field {field}: {exc}") from None


def free_text_key(definition: Mapping[str, Any], where: str) -> str:
    """com.powersell.pipeline.raw.RawOrderEvent.items.product_title -> RawOrderEvent.items.product_title"""
    name = definition["name"]
    namespace = name.rpartition(".")[0] if "." in name else definition.get("namespace", "")
    return where[len(namespace) + 1:] if namespace and where.startswith(namespace + ".") else where


def load_policy(path: Path | str = DEFAULT_POLICY) -> Policy:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"redaction policy {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise PolicyError(f"redaction policy {path} cannot be read: {type(exc).__name__}: {exc}") from None
    return Policy.from_dict(data, source=f"redaction policy {path.name}")


def tagged_fields(schema: Any, prefix: str = "", seen: set[str] | None = None) -> Iterator[tuple[str, str]]:
    """(dotted path, kind) of every field with a "pii" tag, in records, unions and arrays."""
    seen = set() if seen is None else seen
    if isinstance(schema, list):
        for branch in schema:
            yield from tagged_fields(branch, prefix, seen)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            full = schema["name"] if "." in schema["name"] else f"{schema.get('namespace', '')}.{schema['name']}"
            if full in seen:
                return
            seen.add(full)
            prefix = prefix or full
            for field in schema["fields"]:
                path = f"{prefix}.{field['name']}"
                if "pii" in field:
                    yield path, field["pii"]
                yield from tagged_fields(field["type"], path, seen)
        elif schema.get("type") == "array":
            yield from tagged_fields(schema["items"], prefix, seen)
        elif schema.get("type") == "map":
            yield from tagged_fields(schema["values"], prefix, seen)
