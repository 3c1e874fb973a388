"""Keyed pseudonym: "ps_" + the first 32 hex digits of HMAC-SHA256 under a secret key.

The same value of the same kind gives the same pseudonym in every event and topic, so
downstream can join and count distinct customers (R9) without a way back to the person:
without the key the pseudonym cannot be recomputed from a guessed value. The message is
namespace | scope | normalised value, so an e-mail and a buyer id never collide, and ids
that are only unique within one marketplace ("scope": "marketplace") do not merge people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline_core.pseudonyms import PREFIX, pseudonymise  # noqa: F401 (re-exported)

from .base import Action, ActionContext, ActionError

SCOPES = ("global", "marketplace")
NORMALISERS = {"none": lambda s: s, "strip": str.strip, "casefold": lambda s: s.strip().casefold()}


@dataclass(frozen=True)
class PseudonymAction(Action):
    name = "pseudonym"
    scope: str = "global"
    normalise: str = "strip"
    namespace: str = ""      # default: the kind
    length: int = 32         # hex digits kept: 128 bits

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        if self.normalise not in NORMALISERS:
            raise ValueError(f"normalise must be one of {', '.join(NORMALISERS)}")
        if not isinstance(self.length, int) or not 32 <= self.length <= 64:
            raise ValueError("length must be from 32 to 64 hex digits")

    def apply(self, value: Any, ctx: ActionContext) -> str:
        if ctx.pseudonym_key is None:
            raise ActionError(f"pseudonym ({self.kind}) needs the pseudonym key")
        if not isinstance(value, str):
            raise ActionError(f"pseudonym ({self.kind}) takes text, got {type(value).__name__}")
        scope = ""
        if self.scope == "marketplace":
            if not ctx.marketplace:
                raise ActionError(f"pseudonym ({self.kind}) is scoped by marketplace, and the record has none")
            scope = ctx.marketplace.upper()
        return pseudonymise(ctx.pseudonym_key.reveal(), self.namespace or self.kind, scope,
                            NORMALISERS[self.normalise](value), self.length)
