"""Per-subject data keys for reversible protection and crypto-shredding (R5, R10, R12).

Envelope encryption: every subject (a shop `marketplace:shop_id`, a buyer's keyed
pseudonym) has its own AES-256 data key; data keys are stored only wrapped
(AES-256-GCM) by a master key that has an id and a version. Erasing a subject
destroys its data key, so every ciphertext sealed for it becomes undecryptable.

    KeyStore                 the interface a cloud KMS or Vault could implement: four methods
     └── LocalKeyStore       a JSON file of wrapped data keys, beside a MasterKeyring file

Ciphertext format (version 2; the connector's card vault writes version 1, which has no
key version): version (1 byte) | key id length (1) | key id (ASCII) | key version (4, big
endian) | nonce (12) | ciphertext+tag. Everything before the nonce is the associated
data, so the key id and version cannot be swapped. Key ids are random: a ciphertext
tells which key opens it, not whose data it is.

KeyStoreError
 ├── CannotDecrypt    not our format, unknown key, another subject's ciphertext, or tampered
 │    └── KeyDestroyed   the key was destroyed: the subject was erased
 └── (the local files are missing a master key version, unreadable, ...)
No message carries plaintext or key material; only key ids, versions and sizes.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import struct
import tempfile
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pipeline_core.errors import PipelineError

__all__ = ["FORMAT_VERSION", "KEYSTORE_ENV", "CannotDecrypt", "KeyDestroyed", "KeyStore", "KeyStoreError",
           "LocalKeyStore", "MasterKeyring", "SecretKey", "keystore_dir", "open_keystore", "parse_header"]

FORMAT_VERSION = 2
KEYSTORE_ENV = "POWERSELL_KEYSTORE_DIR"
NONCE_SIZE = 12
KEY_SIZE = 32


class KeyStoreError(PipelineError):
    """Root of the key store's errors."""


class CannotDecrypt(KeyStoreError):
    """The ciphertext cannot be opened; the message says why without showing any of it."""


class KeyDestroyed(CannotDecrypt):
    """The ciphertext's data key was destroyed: its subject was erased."""


class SecretKey:
    """Key bytes that never print, compare in constant time and refuse to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, bytes) or len(value) < KEY_SIZE:
            raise ValueError(f"a secret key must be at least {KEY_SIZE} bytes")
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "SecretKey(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and secrets.compare_digest(self._value, other._value)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        raise TypeError("a SecretKey cannot be pickled")


# ---------------------------------------------------------------- the interface
class KeyStore(ABC):
    """Data keys by subject. An implementation provides four methods; seal and open are built on them."""

    @abstractmethod
    def data_key(self, subject: str) -> tuple[str, int, bytes]:
        """(key id, key version, key) of the subject's current data key, created on first use."""

    @abstractmethod
    def key_for(self, key_id: str, version: int) -> tuple[str, bytes]:
        """(subject, key) of one data key version; KeyDestroyed or CannotDecrypt when there is none."""

    @abstractmethod
    def destroy(self, subject: str) -> bool:
        """Destroy every data key of the subject (crypto-shredding); False if it had none."""

    @abstractmethod
    def rotate_master(self) -> int:
        """Wrap every data key under a new master key version; returns that version."""

    def seal(self, subject: str, plaintext: bytes) -> bytes:
        return self.sealer(subject)(plaintext)

    def sealer(self, subject: str) -> Callable[[bytes], bytes]:
        """A function sealing values for subject under its current data key, looked up once: the
        connector seals a dozen fields per record with one lookup."""
        key_id, version, key = self.data_key(subject)
        kid = key_id.encode("ascii")
        header = bytes([FORMAT_VERSION, len(kid)]) + kid + struct.pack(">I", version)
        aead = AESGCM(key)

        def seal(plaintext: bytes) -> bytes:
            nonce = os.urandom(NONCE_SIZE)
            return header + nonce + aead.encrypt(nonce, plaintext, header)
        return seal

    def open(self, subject: str | None, ciphertext: bytes) -> bytes:
        """The plaintext; with a subject, also checks that the ciphertext is that subject's."""
        key_id, version, header_size = parse_header(ciphertext)
        owner, key = self.key_for(key_id, version)
        if subject is not None and not secrets.compare_digest(owner.encode(), subject.encode()):
            raise CannotDecrypt(f"ciphertext under key {key_id} belongs to another subject")
        header, nonce = ciphertext[:header_size], ciphertext[header_size:header_size + NONCE_SIZE]
        try:
            return AESGCM(key).decrypt(nonce, ciphertext[header_size + NONCE_SIZE:], header)
        except InvalidTag:
            raise CannotDecrypt(f"ciphertext under key {key_id} version {version} failed authentication") from None


def parse_header(ciphertext: bytes) -> tuple[str, int, int]:
    """(key id, key version, header size) of a ciphertext in FORMAT_VERSION."""
    if len(ciphertext) < 2 or ciphertext[0] != FORMAT_VERSION:
        raise CannotDecrypt(f"not a key store ciphertext ({len(ciphertext)} bytes, format byte unknown)")
    end = 2 + ciphertext[1]
    if len(ciphertext) < end + 4 + NONCE_SIZE + 16:
        raise CannotDecrypt(f"key store ciphertext truncated ({len(ciphertext)} bytes)")
    try:
        key_id = ciphertext[2:end].decode("ascii")
    except UnicodeDecodeError:
        raise CannotDecrypt("key store ciphertext has a malformed key id") from None
    (version,) = struct.unpack(">I", ciphertext[end:end + 4])
    return key_id, version, end + 4


# ---------------------------------------------------------------- local files
def _atomic_write(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside path, fsync, rename over path, fsync the folder:
    a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # mkstemp made it 0600
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"key file {path} cannot be read: {type(exc).__name__}") from None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes for a read-modify-write of path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class MasterKeyring:
    """Versions of one master key in a 0600 JSON file: the local stand-in for a KMS key."""

    def __init__(self, path: Path, create: bool = False) -> None:
        """create: make a new master key (with a random id) if the file does not exist; otherwise a
        missing file is an error, never silently a new key that opens nothing."""
        self.path = Path(path)
        self._lock = threading.RLock()
        with _locked(self.path):
            if _read_json(self.path) is None:
                if not create:
                    raise KeyStoreError(f"master key file {self.path} is missing")
                _atomic_write(self.path, {"id": "mk_" + secrets.token_hex(4), "current": 1,
                                          "versions": {"1": _b64(AESGCM.generate_key(bit_length=256))}})
        self._stamp: tuple[int, int, int] | None = None
        self._data: dict[str, Any] = {}
        self._reload()

    def _reload(self, force: bool = False) -> None:
        with self._lock:
            stamp = _stamp(self.path)
            if force or stamp != self._stamp:
                data = _read_json(self.path)
                if data is None:
                    raise KeyStoreError(f"master key file {self.path} is missing")
                self._data, self._stamp = data, stamp

    @property
    def master_id(self) -> str:
        return self._data["id"]

    def current(self) -> tuple[str, int, bytes]:
        self._reload()
        version = int(self._data["current"])
        return self.master_id, version, base64.b64decode(self._data["versions"][str(version)])

    def get(self, master_id: str, version: int) -> bytes:
        self._reload()
        key = self._data["versions"].get(str(version)) if master_id == self.master_id else None
        if key is None:
            raise KeyStoreError(f"master key {master_id} version {version} is not in {self.path.name}")
        return base64.b64decode(key)

    def versions(self) -> list[int]:
        self._reload()
        return sorted(int(v) for v in self._data["versions"])

    def add_version(self) -> int:
        with self._lock, _locked(self.path):
            self._reload(force=True)
            version = max(int(v) for v in self._data["versions"]) + 1
            data = {**self._data, "current": version,
                    "versions": {**self._data["versions"], str(version): _b64(AESGCM.generate_key(bit_length=256))}}
            _atomic_write(self.path, data)
            self._reload(force=True)
            return version

    def retire(self, keep: set[int]) -> None:
        """Forget every version not in keep (never the current one)."""
        with self._lock, _locked(self.path):
            self._reload(force=True)
            keep = keep | {int(self._data["current"])}
            versions = {v: k for v, k in self._data["versions"].items() if int(v) in keep}
            _atomic_write(self.path, {**self._data, "versions": versions})
            self._reload(force=True)


class LocalKeyStore(KeyStore):
    """Data keys in a JSON file, each wrapped (AES-256-GCM) by the MasterKeyring's current version.

    Several processes may share the files: every change is a locked read-modify-write with an
    atomic rename, and every read first checks whether the file changed (so a destroy or a
    master rotation by another process is seen at its next call, with no restart).
    """

    def __init__(self, path: Path, master: MasterKeyring) -> None:
        self.path = Path(path)
        self.master = master
        self._lock = threading.RLock()
        self._stamp: tuple[int, int, int] | None = None
        self._data: dict[str, Any] = {}
        self._by_subject: dict[str, str] = {}
        self._cache: dict[tuple[str, int], tuple[str, bytes]] = {}
        self._reload(force=True)

    @classmethod
    def in_dir(cls, folder: Path) -> LocalKeyStore:
        """keystore.json and master-keys.json in folder; a master key is made only with a new store."""
        folder = Path(folder)
        store = folder / "keystore.json"
        return cls(store, MasterKeyring(folder / "master-keys.json", create=not store.exists()))

    # -------------------------------------------------------------- reading
    def _reload(self, force: bool = False) -> None:
        with self._lock:
            stamp = _stamp(self.path)
            if not force and stamp == self._stamp:
                return
            data = _read_json(self.path) or {"format": 1, "keys": {}, "destroyed": {}}
            self._data, self._stamp, self._cache = data, stamp, {}
            self._by_subject = {entry["subject"]: kid for kid, entry in data["keys"].items()}

    @staticmethod
    def _aad(key_id: str, version: int, subject: str, master_id: str, master_version: int) -> bytes:
        return json.dumps(["powersell-data-key", key_id, version, subject, master_id, master_version]).encode()

    def _wrap(self, key_id: str, version: int, subject: str, key: bytes) -> dict[str, Any]:
        master_id, master_version, master_key = self.master.current()
        nonce = os.urandom(NONCE_SIZE)
        wrapped = AESGCM(master_key).encrypt(nonce, key, self._aad(key_id, version, subject, master_id, master_version))
        return {"master": master_id, "master_version": master_version, "wrapped": _b64(nonce + wrapped)}

    def _unwrap(self, key_id: str, version: int, subject: str, entry: dict[str, Any]) -> bytes:
        master_key = self.master.get(entry["master"], entry["master_version"])
        blob = base64.b64decode(entry["wrapped"])
        aad = self._aad(key_id, version, subject, entry["master"], entry["master_version"])
        try:
            return AESGCM(master_key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
        except InvalidTag:
            raise KeyStoreError(f"wrapped data key {key_id} version {version} failed authentication") from None

    def _key(self, key_id: str, version: int, retry: bool = True) -> tuple[str, bytes]:
        with self._lock:
            cached = self._cache.get((key_id, version))
            if cached is not None:
                return cached
            entry = self._data["keys"].get(key_id)
            if entry is None:
                if key_id in self._data["destroyed"]:
                    raise KeyDestroyed(f"data key {key_id} was destroyed (its subject was erased)")
                raise CannotDecrypt(f"unknown data key {key_id}")
            wrapped = entry["versions"].get(str(version))
            if wrapped is None:
                raise CannotDecrypt(f"unknown version {version} of data key {key_id}")
            try:
                key = self._unwrap(key_id, version, entry["subject"], wrapped)
            except KeyStoreError:
                if not retry:
                    raise
                self._reload(force=True)  # re-wrapped and its old master retired by another process
                return self._key(key_id, version, retry=False)
            self._cache[(key_id, version)] = (entry["subject"], key)
            return entry["subject"], key

    def data_key(self, subject: str) -> tuple[str, int, bytes]:
        if not subject:
            raise KeyStoreError("a data key needs a subject")
        with self._lock:
            self._reload()
            key_id = self._by_subject.get(subject) or self._create(subject)
            version = max(int(v) for v in self._data["keys"][key_id]["versions"])
            return key_id, version, self._key(key_id, version)[1]

    def key_for(self, key_id: str, version: int) -> tuple[str, bytes]:
        with self._lock:
            self._reload()
            return self._key(key_id, version)

    # -------------------------------------------------------------- changing
    def _write(self, data: dict[str, Any]) -> None:
        _atomic_write(self.path, data)
        self._reload(force=True)

    def _create(self, subject: str) -> str:
        with self._lock, _locked(self.path):
            self._reload(force=True)
            if subject in self._by_subject:  # another process was first
                return self._by_subject[subject]
            key_id = "dk_" + secrets.token_hex(8)
            entry = {"subject": subject, "versions": {"1": self._wrap(key_id, 1, subject, AESGCM.generate_key(256))}}
            self._write({**self._data, "keys": {**self._data["keys"], key_id: entry}})
            return key_id

    def destroy(self, subject: str) -> bool:
        with self._lock, _locked(self.path):
            self._reload(force=True)
            key_id = self._by_subject.get(subject)
            if key_id is None:
                return False
            keys = {kid: entry for kid, entry in self._data["keys"].items() if kid != key_id}
            destroyed = {**self._data["destroyed"], key_id: datetime.now(timezone.utc).isoformat(timespec="seconds")}
            self._write({**self._data, "keys": keys, "destroyed": destroyed})
            return True

    def rotate_master(self) -> int:
        """Add a master version, re-wrap every data key under it, then retire the old versions.
        Readers keep working throughout: until the store file is replaced they unwrap with the
        old version, which is retired only after."""
        with self._lock, _locked(self.path):
            new = self.master.add_version()
            self._reload(force=True)
            keys = {}
            for key_id, entry in self._data["keys"].items():
                versions = {}
                for v, wrapped in entry["versions"].items():
                    key = self._unwrap(key_id, int(v), entry["subject"], wrapped)
                    versions[v] = self._wrap(key_id, int(v), entry["subject"], key)
                keys[key_id] = {**entry, "versions": versions}
            self._write({**self._data, "keys": keys})
            self.master.retire({new})
            return new


# ---------------------------------------------------------------- where the keys live
def keystore_dir(settings: Any, env: dict[str, str] | None = None) -> Path:
    """$POWERSELL_KEYSTORE_DIR, else DATA_DIR/keys/keystore."""
    env = os.environ if env is None else env
    raw = (env.get(KEYSTORE_ENV) or "").strip()
    return Path(raw).expanduser().resolve() if raw else settings.data_dir / "keys" / "keystore"


def open_keystore(settings: Any, *, create: bool = True) -> LocalKeyStore:
    """The pipeline's key store: the one place that says where it lives, so the connectors (which seal),
    the privacy worker (which opens), erasure and decryption all see the same data keys. create=False:
    an error instead of a new, empty store (and a new master key that opens nothing) when there is none."""
    folder = keystore_dir(settings)
    if not (folder / "master-keys.json").exists():
        if not create:
            raise KeyStoreError(f"no key store in {folder}: it is made by the first process that encrypts "
                                f"(a connector or the privacy worker); set {KEYSTORE_ENV} if it lives elsewhere")
        if not folder.exists():  # a folder we make is for the pipeline's own user only (umask aside)
            folder.mkdir(parents=True, mode=0o700)
            folder.chmod(0o700)
    return LocalKeyStore.in_dir(folder)
