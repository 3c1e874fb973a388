"""Card numbers are sealed before an event leaves the connector (R10): AES-256-GCM,
with the key id and a format version inside the ciphertext so a reader knows which
key opens it. Format: version (1 byte) | key id length (1) | key id | nonce (12) | ciphertext+tag.
The key id is authenticated as associated data."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1


class CardVault:
    def __init__(self, key: bytes, key_id: str):
        if len(key) != 32:
            raise ValueError("card key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self.key_id = key_id
        self._kid = key_id.encode("ascii")

    @classmethod
    def from_file(cls, path: Path, key_id: str = "card-local-1") -> "CardVault":
        """A local key file, created (mode 0600) on first use; production passes a KMS-held key."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(AESGCM.generate_key(bit_length=256))
        return cls(path.read_bytes(), key_id)

    def seal(self, number: str) -> bytes:
        nonce = os.urandom(12)
        header = bytes([FORMAT_VERSION, len(self._kid)]) + self._kid
        return header + nonce + self._aead.encrypt(nonce, number.encode("ascii"), header)

    def open(self, sealed: bytes) -> str:
        """For the audited decrypt path only."""
        if not sealed or sealed[0] != FORMAT_VERSION:
            raise ValueError("unknown card ciphertext format")
        n = sealed[1]
        header, kid = sealed[: 2 + n], sealed[2 : 2 + n]
        if kid != self._kid:
            raise ValueError("card ciphertext was sealed under another key")
        nonce, body = sealed[2 + n : 14 + n], sealed[14 + n :]
        return self._aead.decrypt(nonce, body, header).decode("ascii")


# 13 to 19 digits, optionally grouped by single spaces or dashes.
_CARD_LIKE = re.compile(rb"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def _luhn_ok(digits: bytes) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ch - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def scrub_card_numbers(body: bytes) -> bytes:
    """Replace every Luhn-valid card-like number in a raw body (kept for a dead letter) by
    [CARD]: a malformed response can still carry card numbers, and none may leave the
    connector in the clear (R10)."""
    def replace(match: re.Match) -> bytes:
        digits = bytes(ch for ch in match.group(0) if 48 <= ch <= 57)
        return b"[CARD]" if _luhn_ok(digits) else match.group(0)
    return _CARD_LIKE.sub(replace, body)
