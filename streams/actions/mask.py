"""Mask: keep only the last digits (a phone's last 3, a card's last 4), every other digit
becomes the mask character and everything that is not a digit is left out (digits of
any script, such as Thai ๐-๙, are kept as ASCII):
"+84 912 345 678" with keep_last=3 gives "********678"."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from .base import Action, ActionContext, ActionError

MAX_KEEP = 4  # R10 allows a card's last four; nothing keeps more


@dataclass(frozen=True)
class MaskAction(Action):
    name = "mask"
    keep_last: int = 4
    mask_char: str = "*"

    def __post_init__(self) -> None:
        if not isinstance(self.keep_last, int) or isinstance(self.keep_last, bool) or not 0 <= self.keep_last <= MAX_KEEP:
            raise ValueError(f"keep_last must be a whole number from 0 to {MAX_KEEP}")
        if not isinstance(self.mask_char, str) or len(self.mask_char) != 1 or self.mask_char.isdigit():
            raise ValueError("mask_char must be one character that is not a digit")

    def apply(self, value: Any, ctx: ActionContext) -> str | None:
        if not isinstance(value, str):
            raise ActionError(f"mask ({self.kind}) takes text, got {type(value).__name__}")
        digits = [str(unicodedata.decimal(ch)) for ch in value if ch.isdecimal()]  # Thai digits count too
        if not digits:
            return None  # nothing safe to keep
        kept = "".join(digits[-self.keep_last:]) if self.keep_last else ""
        return self.mask_char * (len(digits) - len(kept)) + kept
