"""Card numbers are sealed before an event leaves the connector (R10): AES-256-GCM,
with the key id and a format version inside the ciphertext so a reader knows which
key opens it. Format: version (1 byte) | key id length (1) | key id | nonce (12) | ciphertext+tag.
The key id is authenticated as associated data."""

from __future__ import annotations

import os
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
