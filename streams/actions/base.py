"""What every redaction action is: a small frozen dataclass whose fields are its policy
parameters, with one method, `apply(value, ctx) -> value`.

ActionError
 └── ActionConfigError   a policy rule gives an action parameters it does not take
Messages never carry the value being redacted.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from pipeline_core.errors import PipelineError

if TYPE_CHECKING:
    from pipeline_core.keystore import KeyStore, SecretKey

# A free-text scanner: the text with detected personal data replaced, and counts by kind.
Scanner = Callable[[str], "tuple[str, Counter[str]]"]


class ActionError(PipelineError):
    """An action cannot run: missing key, key store or scanner, or a bad result."""


class ActionConfigError(ActionError):
    pass


@dataclass
class ActionContext:
    """What actions may need besides the value; one per record (found is per record)."""

    pseudonym_key: SecretKey | None = None
    keystore: KeyStore | None = None
    subject: str | None = None        # whose data key encrypts (R12)
    scanner: Scanner | None = None
    marketplace: str | None = None    # the scope of marketplace-local ids
    found: Counter[str] = field(default_factory=Counter)  # scanner findings by kind


@dataclass(frozen=True)
class Action(ABC):
    """One way to transform a value of one kind. None stays None: callers never pass it."""

    name: ClassVar[str]
    kind: str  # the kind this rule is for (domain separation, messages)

    @classmethod
    def from_rule(cls, kind: str, params: Mapping[str, Any]) -> Action:
        """The action a policy rule describes; ActionConfigError names what is wrong, never a value."""
        allowed = {f.name for f in dataclasses.fields(cls) if f.name != "kind"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ActionConfigError(f"action {cls.name!r} takes no parameter {', '.join(unknown)}"
                                    f" (it takes: {', '.join(sorted(allowed)) or 'none'})")
        try:
            return cls(kind=kind, **params)
        except (TypeError, ValueError) as exc:
            raise ActionConfigError(f"action {cls.name!r}: {exc}") from None

    @abstractmethod
    def apply(self, value: Any, ctx: ActionContext) -> Any:
        """The transformed value; None when nothing of it may be kept."""
