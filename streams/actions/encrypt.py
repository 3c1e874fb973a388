"""Encrypt: AES-256-GCM under the subject's data key from the key store (R5, R12). The key
id and version travel inside the ciphertext; destroying the subject's key (erasure) makes
every ciphertext of it undecryptable. Text is encrypted as UTF-8; the result is bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Action, ActionContext, ActionError


@dataclass(frozen=True)
class EncryptAction(Action):
    name = "encrypt"

    def apply(self, value: Any, ctx: ActionContext) -> bytes:
        if ctx.keystore is None:
            raise ActionError(f"encrypt ({self.kind}) needs a key store")
        if not ctx.subject:
            raise ActionError(f"encrypt ({self.kind}) needs the record's subject")
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes):
            raise ActionError(f"encrypt ({self.kind}) takes text or bytes, got {type(value).__name__}")
        return ctx.keystore.seal(ctx.subject, value)
