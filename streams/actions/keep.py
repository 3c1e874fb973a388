"""Keep: for fields tagged "none", reviewed and found to hold no personal data. The value
is copied (a list as a new list), so the redacted record shares nothing mutable with the raw one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Action, ActionContext


@dataclass(frozen=True)
class KeepAction(Action):
    name = "keep"

    def apply(self, value: Any, ctx: ActionContext) -> Any:
        return list(value) if isinstance(value, list) else value
