"""Shop tokens at rest: encrypted with Fernet (AES-128-CBC + HMAC, from `cryptography`),
one file per marketplace, replaced atomically (write a temporary file, fsync, rename),
under an exclusive lock so two processes never interleave. Tokens never print: ShopAuth
hides them from repr, and nothing here logs."""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from cryptography.fernet import Fernet, InvalidToken

from .base import ConnectorError, ShopAuth


class TokenStoreError(ConnectorError):
    pass


def load_or_create_key(path: Path) -> bytes:
    """A local key file (mode 0600), created on first use. Production passes a KMS-held key instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        key = Fernet.generate_key()
        fh.write(key)
    return key


class TokenStore:
    def __init__(self, folder: Path, key: bytes):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fernet = Fernet(key)

    def _path(self, marketplace: str) -> Path:
        return self.folder / f"tokens-{marketplace}.enc"

    @contextmanager
    def _locked(self, marketplace: str) -> Iterator[None]:
        with open(self.folder / f".tokens-{marketplace}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read(self, marketplace: str) -> dict[str, dict]:
        path = self._path(marketplace)
        if not path.exists():
            return {}
        try:
            return json.loads(self._fernet.decrypt(path.read_bytes()))
        except InvalidToken:
            raise TokenStoreError(f"{path.name} cannot be decrypted with the configured key") from None

    def _write(self, marketplace: str, data: dict[str, dict]) -> None:
        path = self._path(marketplace)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode("utf-8")))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def put(self, auth: ShopAuth) -> None:
        with self._locked(auth.marketplace):
            data = self._read(auth.marketplace)
            data[auth.shop_id] = {**asdict(auth), "extra": dict(auth.extra)}
            self._write(auth.marketplace, data)

    def get(self, marketplace: str, shop_id: str) -> ShopAuth | None:
        with self._locked(marketplace):
            entry = self._read(marketplace).get(shop_id)
        return ShopAuth(**entry) if entry else None

    def shops(self, marketplace: str) -> list[str]:
        with self._locked(marketplace):
            return sorted(self._read(marketplace))

    def remove(self, marketplace: str, shop_id: str) -> None:
        with self._locked(marketplace):
            data = self._read(marketplace)
            if data.pop(shop_id, None) is not None:
                self._write(marketplace, data)
