"""Drop: nothing of the value is kept. A dropped field is absent from the redacted schema,
so the redactor only counts it; apply exists for callers that need a value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Action, ActionContext


@dataclass(frozen=True)
class DropAction(Action):
    name = "drop"

    def apply(self, value: Any, ctx: ActionContext) -> None:
        return None
