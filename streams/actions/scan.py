"""Scan: free text with every detected piece of personal data replaced by a typed
placeholder, by the scanner in the context (streams.detectors.redact_text). What it found
is added to ctx.found by kind. A scanner that does not return text stops the record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .base import Action, ActionContext, ActionError


@dataclass(frozen=True)
class ScanAction(Action):
    name = "scan"

    def apply(self, value: Any, ctx: ActionContext) -> str:
        if ctx.scanner is None:
            raise ActionError(f"scan ({self.kind}) needs a free-text scanner")
        if not isinstance(value, str):
            raise ActionError(f"scan ({self.kind}) takes text, got {type(value).__name__}")
        result = ctx.scanner(value)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str)
                and isinstance(result[1], Counter)):
            raise ActionError(f"the free-text scanner did not return (text, Counter) for {self.kind}")
        text, found = result
        ctx.found.update(found)
        return text
