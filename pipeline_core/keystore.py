"""Per-subject data keys for reversible protection and crypto-shredding (R5, R10, R12).

Envelope encryption: every subject (a shop `marketplace:shop_id`, a buyer's keyed
pseudonym) has its own AES-256 data key; data keys are stored only wrapped
(AES-256-GCM) by a master key that has an id and a version. Erasing a subject
destroys its data key, so every ciphertext sealed for it becomes undecryptable.

    KeyStore                 the interface a cloud KMS or Vault could implement: four methods
     └── LocalKeyStore       a folder of wrapped data keys (a file each), beside a MasterKeyring file

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
    """Data keys by subject. An implementation provides four methods; seal and open (and sealer and opener,
    their one-lookup forms) are built on them."""

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
        return self.opener(subject)(ciphertext)

    def opener(self, subject: str | None) -> Callable[[bytes], bytes]:
        """A function opening ciphertexts (checked against subject, when given) that looks each data key up
        once: the privacy worker opens a dozen fields of one record with one lookup per key. Make one per
        record, so that a key destroyed meanwhile is seen at the next record."""
        aeads: dict[tuple[str, int], AESGCM] = {}

        def open_(ciphertext: bytes) -> bytes:
            key_id, version, header_size = parse_header(ciphertext)
            aead = aeads.get((key_id, version))
            if aead is None:
                owner, key = self.key_for(key_id, version)
                if subject is not None and not secrets.compare_digest(owner.encode(), subject.encode()):
                    raise CannotDecrypt(f"ciphertext under key {key_id} belongs to another subject")
                aead = aeads[(key_id, version)] = AESGCM(key)
            header, nonce = ciphertext[:header_size], ciphertext[header_size:header_size + NONCE_SIZE]
            try:
                return aead.decrypt(nonce, ciphertext[header_size + NONCE_SIZE:], header)
            except InvalidTag:
                raise CannotDecrypt(f"ciphertext under key {key_id} version {version} failed authentication") from None
        return open_


    def state_of(self, ciphertext: bytes) -> str:
        """Whose key a ciphertext needs, as a state: "live", "destroyed" (its subject was erased) or "unknown"
        (not a key store ciphertext, or a key this store never had). Opens nothing."""
        try:
            self.key_for(*parse_header(ciphertext)[:2])
        except KeyDestroyed:
            return "destroyed"
        except KeyStoreError:
            return "unknown"
        return "live"


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
    """Data keys in a folder, one small file per key, each key wrapped (AES-256-GCM) by the MasterKeyring.

        folder/keys/KEY_ID.json   the subject and its key versions, each wrapped        (0600, folder 0700)
        folder/destroyed/KEY_ID   when the key was destroyed: "erased", not "unknown"   (0600, folder 0700)
        folder/journal            one line per change (+KEY_ID, -KEY_ID, r for a re-wrap): no key material

    A new key writes one file (temporary file, fsync, rename, fsync the folder), so adding a buyer
    costs the same with ten keys or a million; the single keystore.json of earlier versions is
    migrated on open. Several processes may share the folder: changes are made under a lock and
    appended to the journal, which every reader checks (by size) before each use, reading only
    the lines added since; so a destroy or a master rotation by another process is seen at the
    next call, with no restart.

    Destroying a key writes its marker, overwrites its file with zeros, deletes it and zeroes this
    process's cached copy. What a filesystem may still hold (journal blocks, SSD remapping,
    snapshots, backups) is the key wrapped by the master key: retiring that master version
    (`rotate_master`) makes such leftovers useless; a KMS that never releases its master key is
    the production answer.
    """

    JOURNAL_COMPACT_BYTES = 4 * 1024 * 1024  # the journal is emptied (under the lock) past this size

    def __init__(self, folder: Path, master: MasterKeyring) -> None:
        folder = Path(folder)
        self.folder = folder.parent if folder.suffix == ".json" else folder  # an old keystore.json path names it too
        self.keys_dir, self.destroyed_dir = self.folder / "keys", self.folder / "destroyed"
        self.journal_file = self.folder / "journal"
        self.master = master
        self._lock = threading.RLock()
        self._entries: dict[str, dict[str, Any]] = {}       # key id -> {"subject", "versions"}
        self._by_subject: dict[str, str] = {}
        self._destroyed: set[str] = set()
        self._cache: dict[tuple[str, int], tuple[str, bytearray]] = {}
        self._journal_at: tuple[int, int] | None = None     # (inode, bytes read)
        self._leftovers: list[str] = []                     # files of destroyed keys, not yet shredded
        for sub in (self.keys_dir, self.destroyed_dir):
            sub.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._migrate_single_file()
        self._reload(force=True)

    @property
    def path(self) -> Path:
        """The folder of key files (its parent is the store's folder)."""
        return self.keys_dir

    @classmethod
    def in_dir(cls, folder: Path) -> LocalKeyStore:
        """The store and master-keys.json in folder; a master key is made only with a new store."""
        folder = Path(folder)
        new = not (folder / "keystore.json").exists() and not (folder / "keys").exists()
        return cls(folder, MasterKeyring(folder / "master-keys.json", create=new))

    # -------------------------------------------------------------- files
    def _key_file(self, key_id: str) -> Path:
        if not key_id.startswith("dk_") or not key_id[3:].isalnum():  # a key id from a ciphertext names no path
            raise CannotDecrypt("unknown data key (not an id this store makes)")
        return self.keys_dir / f"{key_id}.json"

    def _append(self, *lines: str) -> None:
        """Tell other processes (not fsynced: the key files and markers are; after a crash every process
        starts from a full listing of the folders, so a lost line costs nothing)."""
        fd = os.open(self.journal_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, "".join(f"{line}\n" for line in lines).encode("ascii"))
        finally:
            os.close(fd)

    def _migrate_single_file(self) -> None:
        """keystore.json (format 1: every key in one file) -> one file per key; the old file goes last."""
        legacy = self.folder / "keystore.json"
        if not legacy.exists():
            return
        with _locked(self.folder / "keystore"):
            data = _read_json(legacy)
            if data is None:
                return  # another process migrated it meanwhile
            for key_id, entry in data.get("keys", {}).items():
                _atomic_write(self._key_file(key_id), entry)
            for key_id, when in data.get("destroyed", {}).items():
                _atomic_write(self.destroyed_dir / key_id, {"destroyed": when})
            self._append(*(f"+{k}" for k in data.get("keys", {})), *(f"-{k}" for k in data.get("destroyed", {})))
            legacy.unlink()
            _fsync_dir(self.folder)

    # -------------------------------------------------------------- reading
    def _load_entry(self, key_id: str) -> None:
        entry = _read_json(self._key_file(key_id))
        if entry is not None and key_id not in self._destroyed:
            self._entries[key_id] = entry
            self._by_subject[entry["subject"]] = key_id

    def _forget(self, key_id: str) -> None:
        entry = self._entries.pop(key_id, None)
        if entry is not None and self._by_subject.get(entry["subject"]) == key_id:
            del self._by_subject[entry["subject"]]
        for cached in [c for c in self._cache if c[0] == key_id]:
            _, key = self._cache.pop(cached)
            key[:] = bytes(len(key))  # overwrite this process's copy of the key

    def _reload(self, force: bool = False) -> None:
        """Catch up with other processes: read the journal's new lines (or everything, when forced or
        when the journal was compacted)."""
        with self._lock:
            try:
                st = os.stat(self.journal_file)
                ino, size = st.st_ino, st.st_size
            except FileNotFoundError:
                ino, size = 0, 0
            seen = self._journal_at
            if not force and seen is not None and seen[0] == ino and seen[1] == size:
                return
            if force or seen is None or seen[0] != ino or size < seen[1]:
                self._destroyed = {p.name for p in self.destroyed_dir.iterdir() if not p.name.startswith(".")}
                for key_id in (set(self._entries) | {c[0] for c in self._cache}) & self._destroyed:
                    self._forget(key_id)
                self._entries, self._by_subject, self._leftovers = {}, {}, []
                for p in self.keys_dir.iterdir():
                    if p.suffix == ".json" and not p.name.startswith("."):
                        if p.stem in self._destroyed:  # a destroy stopped after its marker: finished by the next one
                            self._leftovers.append(p.stem)
                        else:
                            self._load_entry(p.stem)
                self._journal_at = (ino, size)
                return
            with open(self.journal_file, "rb") as fh:
                fh.seek(seen[1])
                tail = fh.read(size - seen[1])
            complete = tail[:tail.rfind(b"\n") + 1]  # a line being appended right now is read next time
            for line in complete.decode("ascii").splitlines():
                op, key_id = line[:1], line[1:]
                if op == "+":
                    self._load_entry(key_id)
                elif op == "-":
                    self._destroyed.add(key_id)
                    self._forget(key_id)
                elif op == "r":  # every key re-wrapped: read the wrapped entries again (the keys are the same)
                    for known in list(self._entries):
                        self._load_entry(known)
            self._journal_at = (ino, seen[1] + len(complete))

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
                return cached[0], bytes(cached[1])
            if key_id in self._destroyed:
                raise KeyDestroyed(f"data key {key_id} was destroyed (its subject was erased)")
            entry = self._entries.get(key_id)
            if entry is None and retry:  # made or destroyed by another process a moment ago? Look at its files only
                self._key_file(key_id)  # refuses a malformed key id before it names a path
                if (self.destroyed_dir / key_id).exists():
                    self._destroyed.add(key_id)
                    raise KeyDestroyed(f"data key {key_id} was destroyed (its subject was erased)")
                self._load_entry(key_id)
                return self._key(key_id, version, retry=False)
            if entry is None:
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
            self._cache[(key_id, version)] = (entry["subject"], bytearray(key))
            return entry["subject"], key

    def data_key(self, subject: str) -> tuple[str, int, bytes]:
        if not subject:
            raise KeyStoreError("a data key needs a subject")
        with self._lock:
            self._reload()
            key_id = self._by_subject.get(subject) or self._create(subject)
            version = max(int(v) for v in self._entries[key_id]["versions"])
            return key_id, version, self._key(key_id, version)[1]

    def key_for(self, key_id: str, version: int) -> tuple[str, bytes]:
        with self._lock:
            self._reload()
            return self._key(key_id, version)

    def state_of(self, ciphertext: bytes) -> str:
        """As KeyStore.state_of, from the folder's files alone: no key is unwrapped."""
        try:
            key_id = parse_header(ciphertext)[0]
            self._key_file(key_id)
        except CannotDecrypt:
            return "unknown"
        with self._lock:
            self._reload()
            if key_id in self._destroyed or (self.destroyed_dir / key_id).exists():
                return "destroyed"
            if key_id not in self._entries:
                self._load_entry(key_id)
            return "live" if key_id in self._entries else "unknown"

    def status(self) -> dict[str, Any]:
        """Counts only: no subject ids, no key ids, no key material."""
        with self._lock:
            self._reload()
            under: dict[str, int] = {}
            for entry in self._entries.values():
                for wrapped in entry["versions"].values():
                    under[str(wrapped["master_version"])] = under.get(str(wrapped["master_version"]), 0) + 1
            return {"data_keys": len(self._entries), "data_key_versions": sum(under.values()),
                    "data_keys_wrapped_under_master_version": under, "destroyed_keys": len(self._destroyed)}

    # -------------------------------------------------------------- changing
    def _create(self, subject: str) -> str:
        with self._lock, _locked(self.folder / "keystore"):
            self._reload()
            if subject in self._by_subject:  # another process was first
                return self._by_subject[subject]
            key_id = "dk_" + secrets.token_hex(8)
            entry = {"subject": subject, "versions": {"1": self._wrap(key_id, 1, subject, AESGCM.generate_key(256))}}
            _atomic_write(self._key_file(key_id), entry)
            self._append(f"+{key_id}")
            self._compact_journal()
            self._reload()
            return key_id

    def destroy(self, subject: str) -> bool:
        with self._lock, _locked(self.folder / "keystore"):
            self._reload(force=True)
            for leftover in self._leftovers:
                _shred(self._key_file(leftover))
            key_id = self._by_subject.get(subject)
            if key_id is None:
                return False
            # the marker first: from here on the key is "destroyed" for every reader, even if the rest fails
            _atomic_write(self.destroyed_dir / key_id, {"destroyed": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            self._append(f"-{key_id}")  # every process drops its cached copy at its next call
            self._destroyed.add(key_id)
            self._forget(key_id)
            _shred(self._key_file(key_id))
            self._compact_journal()
            self._reload()
            return True

    def rotate_master(self) -> int:
        """Add a master version, re-wrap every data key under it, then retire the old versions.
        Readers keep working throughout: until a key's file is replaced they unwrap it with the old
        version, which is retired only after."""
        with self._lock, _locked(self.folder / "keystore"):
            new = self.master.add_version()
            self._reload(force=True)
            for key_id, entry in self._entries.items():
                versions = {v: self._wrap(key_id, int(v), entry["subject"],
                                          self._unwrap(key_id, int(v), entry["subject"], wrapped))
                            for v, wrapped in entry["versions"].items()}
                _atomic_write(self._key_file(key_id), {**entry, "versions": versions})
            self._append("r")
            self.master.retire({new})
            self._compact_journal()
            self._reload(force=True)
            return new

    def _compact_journal(self) -> None:
        """Empty the journal once it is large (under the lock): readers see a new file and re-list the folders."""
        try:
            if self.journal_file.stat().st_size < self.JOURNAL_COMPACT_BYTES:
                return
        except FileNotFoundError:
            return
        fd, tmp = tempfile.mkstemp(prefix=".journal.", dir=self.folder)
        os.close(fd)
        os.replace(tmp, self.journal_file)
        _fsync_dir(self.folder)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _shred(path: Path) -> None:
    """Overwrite a key file with zeros, then delete it (best effort against a later read of its blocks)."""
    try:
        with open(path, "r+b") as fh:
            fh.write(bytes(os.fstat(fh.fileno()).st_size))
            fh.flush()
            os.fsync(fh.fileno())
    except FileNotFoundError:
        return
    path.unlink()
    _fsync_dir(path.parent)


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
