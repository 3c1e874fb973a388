"""Keyed pseudonyms, shared by both sides: the connectors name a buyer's data key by the buyer's
pseudonym, the privacy worker writes the same pseudonym downstream and erasure is requested by it.

"ps_" + the first 32 hex digits of HMAC-SHA256 under a secret key over namespace | scope |
normalised value. Without the key a pseudonym cannot be recomputed from a guessed value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path
from typing import Mapping

from pipeline_core.errors import ConfigError
from pipeline_core.keystore import SecretKey

PREFIX = "ps_"
KEY_ENV = "POWERSELL_PSEUDONYM_KEY"
# The buyer's id as the redaction policy pseudonymises it (kind customer_id, per marketplace, stripped):
# that pseudonym is the buyer's consent subject, erasure subject and data-key subject.
BUYER_NAMESPACE = "customer_id"


def pseudonymise(key: bytes, namespace: str, scope: str, value: str, length: int = 32) -> str:
    """The pseudonym of value; scope is "" for global ids, else the marketplace (upper case)."""
    message = "\x1f".join((namespace, scope, value)).encode("utf-8")
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:length]


def buyer_subject(key: SecretKey, marketplace: str, buyer_user_id: str) -> str:
    """Whose data key seals a buyer's fields: the pseudonym of the marketplace's buyer id."""
    return pseudonymise(key.reveal(), BUYER_NAMESPACE, marketplace.upper(), buyer_user_id.strip())


def load_pseudonym_key(env: Mapping[str, str] | None = None) -> SecretKey | None:
    """The pseudonym key from $POWERSELL_PSEUDONYM_KEY (hex or base64) or from the file named by
    $POWERSELL_PSEUDONYM_KEY_FILE, at least 32 bytes; None if neither is set. Never printed."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        raw = env[KEY_ENV].strip()
        try:
            value = bytes.fromhex(raw) if re.fullmatch(r"(?:[0-9a-fA-F]{2}){32,}", raw) \
                else base64.b64decode(raw, validate=True)
        except ValueError:
            raise ConfigError(f"{KEY_ENV} must be hex or base64") from None
    elif env.get(f"{KEY_ENV}_FILE"):
        path = Path(env[f"{KEY_ENV}_FILE"]).expanduser()
        try:
            value = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{KEY_ENV}_FILE {path} cannot be read: {type(exc).__name__}") from None
    else:
        return None
    try:
        return SecretKey(value)
    except ValueError:
        raise ConfigError(f"{KEY_ENV} must hold at least 32 bytes of key, got {len(value)}") from None


def pipeline_pseudonym_key(data_dir: Path, env: Mapping[str, str] | None = None) -> SecretKey:
    """The key from the environment, else the local key file DATA_DIR/keys/pseudonym.key (0600), made
    on first use: the same file the privacy worker uses, so both sides compute the same pseudonyms."""
    env = os.environ if env is None else env
    key = load_pseudonym_key(env)
    if key is not None:
        return key
    path = Path(data_dir) / "keys" / "pseudonym.key"
    if not path.exists():  # written beside, then linked into place: a reader never sees half a key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pseudonym.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process was first: use its key
        finally:
            os.unlink(tmp)
    return load_pseudonym_key({f"{KEY_ENV}_FILE": str(path)})  # type: ignore[return-value]


def pseudonym_key_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment naming the pipeline's pseudonym key, for a process that reads it from there:
    the caller's own variables when they set one, else the local key file (made on first use)."""
    env = dict(os.environ if env is None else env)
    if env.get(KEY_ENV) or env.get(f"{KEY_ENV}_FILE"):
        return env
    pipeline_pseudonym_key(data_dir, env)
    return {**env, f"{KEY_ENV}_FILE": str(Path(data_dir) / "keys" / "pseudonym.key")}
