"""Shop tokens at rest: encrypted with Fernet (AES-128-CBC + HMAC, from `cryptography`),
one file per marketplace, replaced atomically (write a temporary file, fsync, rename),
under an exclusive lock so two processes (or threads) never interleave. Tokens never print:
ShopAuth hides them from repr, and nothing here logs.

Grants are records of their own. A grant is one authorisation at a platform (a TikTok seller's,
covering all its shops; a Lazada account's, covering its sellers in several countries; one
Shopee shop's) and owns the token pair; each shop points at its grant and keeps only what is
its own (TikTok's shop_cipher, Lazada's country). Refresh tokens are single use on every
platform that rotates them, so a refresh goes through `refresh()`: under the lock it re-reads
the grant, and if another shop (or process) refreshed it already, it hands back the stored pair
instead of spending a refresh token that is no longer valid; otherwise it refreshes once and
stores the new pair for every shop of the grant in one atomic write.

File layout (JSON inside the Fernet token): {"version": 2, "grants": {grant_id: {access_token,
refresh_token, access_expires_at, refresh_expires_at}}, "shops": {shop_id: {grant, extra}}}.
A version-1 file (one ShopAuth per shop) is read as one grant per shop."""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from cryptography.fernet import Fernet, InvalidToken

from .base import ConnectorError, ShopAuth

TOKEN_FIELDS = ("access_token", "refresh_token", "access_expires_at", "refresh_expires_at")


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


def grant_of(auth: ShopAuth) -> str:
    """The grant a ShopAuth belongs to; a shop without one is a grant of its own."""
    return auth.grant or f"shop:{auth.shop_id}"


class TokenStore:
    def __init__(self, folder: Path, key: bytes):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fernet = Fernet(key)

    def _path(self, marketplace: str) -> Path:
        return self.folder / f"tokens-{marketplace}.enc"

    @contextmanager
    def _locked(self, marketplace: str) -> Iterator[None]:
        # flock on a fresh open file: excludes other processes and other threads of this one
        with open(self.folder / f".tokens-{marketplace}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read(self, marketplace: str) -> dict:
        path = self._path(marketplace)
        if not path.exists():
            return {"version": 2, "grants": {}, "shops": {}}
        try:
            data = json.loads(self._fernet.decrypt(path.read_bytes()))
        except InvalidToken:
            raise TokenStoreError(f"{path.name} cannot be decrypted with the configured key") from None
        if data.get("version") == 2:
            return data
        upgraded: dict = {"version": 2, "grants": {}, "shops": {}}   # version 1: {shop_id: ShopAuth fields}
        for shop_id, entry in data.items():
            self._set(upgraded, [ShopAuth(**entry)])
        return upgraded

    def _write(self, marketplace: str, data: dict) -> None:
        path = self._path(marketplace)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self._fernet.encrypt(json.dumps(data, sort_keys=True).encode("utf-8")))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @staticmethod
    def _set(data: dict, auths: Iterable[ShopAuth]) -> None:
        for auth in auths:
            grant = grant_of(auth)
            data["grants"][grant] = {name: getattr(auth, name) for name in TOKEN_FIELDS}
            data["shops"][auth.shop_id] = {"grant": grant, "extra": dict(auth.extra)}
        used = {shop["grant"] for shop in data["shops"].values()}
        for grant in [g for g in data["grants"] if g not in used]:   # a re-authorised shop left its old grant
            del data["grants"][grant]

    @staticmethod
    def _auth(marketplace: str, data: dict, shop_id: str) -> ShopAuth | None:
        shop = data["shops"].get(shop_id)
        tokens = data["grants"].get(shop["grant"]) if shop else None
        if tokens is None:
            return None
        return ShopAuth(marketplace, shop_id, extra=shop["extra"], grant=shop["grant"], **tokens)

    # ---------------------------------------------------------------- the store's operations
    def put(self, auth: ShopAuth) -> None:
        self.put_grant([auth])

    def put_grant(self, auths: list[ShopAuth]) -> None:
        """Store shops and their grants in one atomic write (an authorisation covering several shops)."""
        if not auths:
            return
        marketplace = auths[0].marketplace
        with self._locked(marketplace):
            data = self._read(marketplace)
            self._set(data, auths)
            self._write(marketplace, data)

    def get(self, marketplace: str, shop_id: str) -> ShopAuth | None:
        with self._locked(marketplace):
            return self._auth(marketplace, self._read(marketplace), shop_id)

    def shops(self, marketplace: str) -> list[str]:
        with self._locked(marketplace):
            return sorted(self._read(marketplace)["shops"])

    def grant_shops(self, marketplace: str, shop_id: str) -> list[str]:
        """Every shop under the same grant as shop_id (itself included; empty when unknown)."""
        with self._locked(marketplace):
            shops = self._read(marketplace)["shops"]
        grant = shops.get(shop_id, {}).get("grant")
        return sorted(s for s, entry in shops.items() if grant is not None and entry["grant"] == grant)

    def remove(self, marketplace: str, shop_id: str) -> None:
        with self._locked(marketplace):
            data = self._read(marketplace)
            if data["shops"].pop(shop_id, None) is not None:
                self._set(data, [])
                self._write(marketplace, data)

    def refresh(self, marketplace: str, auth: ShopAuth, platform_refresh: Callable[[ShopAuth], ShopAuth]) -> ShopAuth:
        """The grant's current pair for this shop: refreshed at the platform only if nobody has since
        auth was read (the lock is held across the call, so a grant is refreshed once at a time), then
        stored for every shop of the grant in one write. platform_refresh must not use this store."""
        with self._locked(marketplace):
            data = self._read(marketplace)
            stored = self._auth(marketplace, data, auth.shop_id)
            if stored is None:                     # removed meanwhile (consent withdrawn): never re-added here
                return platform_refresh(auth)
            if (stored.refresh_token, stored.access_token) != (auth.refresh_token, auth.access_token):
                return stored                      # a sibling shop (or another process) refreshed the grant
                                                   # (the access token tells, if the refresh token did not rotate)
            renewed = platform_refresh(stored)
            grant = grant_of(stored)
            data["grants"][grant] = {name: getattr(renewed, name) for name in TOKEN_FIELDS}
            data["shops"][auth.shop_id] = {"grant": grant, "extra": dict(renewed.extra)}
            self._write(marketplace, data)
            return self._auth(marketplace, data, auth.shop_id)
