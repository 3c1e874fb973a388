"""One typed, frozen settings object, read from environment variables at start.

Every variable, its default and its meaning is in SETTINGS_DOC (printed by
`powersell-pipeline --help` and listed in the README).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import ConfigError

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class Secret:
    """A string that never prints: repr and str are masked; reveal() gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(Secret)

    def __reduce__(self):  # never pickled into a file or another process by accident
        raise TypeError("a Secret cannot be pickled")


SETTINGS_DOC = {
    "POWERSELL_KAFKA_PORT": ("9092", "port of the local broker's client listener (127.0.0.1)"),
    "POWERSELL_KAFKA_CONTROLLER_PORT": ("9093", "port of the local broker's KRaft controller listener"),
    "POWERSELL_BOOTSTRAP_SERVERS": ("127.0.0.1:<POWERSELL_KAFKA_PORT>", "Kafka bootstrap servers, host:port[,host:port]"),
    "POWERSELL_KAFKA_VERSION": ("4.1.1", "Apache Kafka 4.x version resolved from Maven Central"),
    "POWERSELL_KAFKA_HEAP": ("512m", "Java heap of the local broker (-Xmx)"),
    "POWERSELL_DATA_DIR": ("~/.local/share/powersell-pipeline", "broker logs, pid files and process state"),
    "POWERSELL_CACHE_DIR": ("~/.cache/powersell-pipeline", "Kafka jars resolved by Maven (reused offline)"),
    "POWERSELL_METRICS_PORT": ("9400", "port for /metrics and /healthz of pipeline processes (0: any free port)"),
    "POWERSELL_LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR"),
    "POWERSELL_PARTITIONS": ("4", "partitions of raw.*, consent.events and redacted.* (co-partitioned) and the workers' "
                             "own topics; chosen once per cluster: a cluster with another count is refused"),
    "POWERSELL_BIND_HOST": ("127.0.0.1", "address servers listen on (metrics, simulators, webhook); 0.0.0.0 in containers"),
    "POWERSELL_KEYSTORE_DIR": ("<POWERSELL_DATA_DIR>/keys/keystore",
                               "per-subject data keys and the master key (0700); every process must see the same folder"),
    "POWERSELL_WEBHOOK_PUBLIC_URL": ("http://127.0.0.1:<webhook port>",
                                     "the webhook receiver's URL as marketplaces call it (signatures cover it)"),
    "POWERSELL_KAFKA_SECURITY_PROTOCOL": ("auto", "PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL; auto: the local broker's "
                                          "operator over SASL_SSL when `kafka up` secured it, else PLAINTEXT"),
    "POWERSELL_KAFKA_SASL_MECHANISM": ("SCRAM-SHA-512", "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN"),
    "POWERSELL_KAFKA_USERNAME": ("operator (local broker)", "the SASL user (principal) this process is"),
    "POWERSELL_KAFKA_PASSWORD_FILE": ("<data dir>/kafka/security/users/<user>.password",
                                      "file holding the SASL password (preferred: never printed, never logged)"),
    "POWERSELL_KAFKA_PASSWORD": ("(none)", "the SASL password itself, when a file is not possible"),
    "POWERSELL_KAFKA_CA_FILE": ("the system's CAs; local broker: <data dir>/kafka/security/ca.pem",
                                "PEM file of the CA that signed the brokers' certificates"),
    "POWERSELL_KAFKA_CERT_FILE": ("(none)", "PEM client certificate, for clusters that want mutual TLS"),
    "POWERSELL_KAFKA_KEY_FILE": ("(none)", "PEM private key of the client certificate"),
}
# who a process is to Kafka: a child process gets its own set, never its parent's
SECURITY_VARIABLES = ("POWERSELL_KAFKA_SECURITY_PROTOCOL", "POWERSELL_KAFKA_SASL_MECHANISM", "POWERSELL_KAFKA_USERNAME",
                      "POWERSELL_KAFKA_PASSWORD_FILE", "POWERSELL_KAFKA_PASSWORD", "POWERSELL_KAFKA_CA_FILE",
                      "POWERSELL_KAFKA_CERT_FILE", "POWERSELL_KAFKA_KEY_FILE")

_HOSTPORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
_VERSION = re.compile(r"^4\.\d+\.\d+$")
_HEAP = re.compile(r"^\d+[mMgG]$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _port(env: Mapping[str, str], name: str, lowest: int = 1) -> int:
    raw = env.get(name, SETTINGS_DOC[name][0]).strip()
    if not raw.isdigit() or not lowest <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number from {lowest} to 65535, got {raw!r}")
    return int(raw)


def _dir(env: Mapping[str, str], name: str) -> Path:
    raw = env.get(name, SETTINGS_DOC[name][0]).strip()
    if not raw:
        raise ConfigError(f"{name} must be a folder path, got an empty value")
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class Settings:
    kafka_port: int
    kafka_controller_port: int
    bootstrap_servers: str
    kafka_version: str
    kafka_heap: str
    data_dir: Path
    cache_dir: Path
    metrics_port: int
    log_level: str
    bind_host: str = "127.0.0.1"
    webhook_public_url: str | None = None
    # Kafka client security (pipeline_core.security resolves them; None protocol = auto)
    kafka_security_protocol: str | None = None
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: Secret | None = None
    kafka_password_file: Path | None = None
    kafka_ca_file: Path | None = None
    kafka_cert_file: Path | None = None
    kafka_key_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        kafka_port = _port(env, "POWERSELL_KAFKA_PORT")
        controller_port = _port(env, "POWERSELL_KAFKA_CONTROLLER_PORT")
        if controller_port == kafka_port:
            raise ConfigError("POWERSELL_KAFKA_CONTROLLER_PORT must differ from POWERSELL_KAFKA_PORT")
        bootstrap = env.get("POWERSELL_BOOTSTRAP_SERVERS", f"127.0.0.1:{kafka_port}").strip()
        if not bootstrap or not all(_HOSTPORT.match(part.strip()) for part in bootstrap.split(",")):
            raise ConfigError(f"POWERSELL_BOOTSTRAP_SERVERS must be host:port[,host:port], got {bootstrap!r}")
        version = env.get("POWERSELL_KAFKA_VERSION", SETTINGS_DOC["POWERSELL_KAFKA_VERSION"][0]).strip()
        if not _VERSION.match(version):
            raise ConfigError(f"POWERSELL_KAFKA_VERSION must be an Apache Kafka 4.x version such as 4.1.1, got {version!r}")
        heap = env.get("POWERSELL_KAFKA_HEAP", SETTINGS_DOC["POWERSELL_KAFKA_HEAP"][0]).strip()
        if not _HEAP.match(heap):
            raise ConfigError(f"POWERSELL_KAFKA_HEAP must be a size such as 512m or 1g, got {heap!r}")
        level = env.get("POWERSELL_LOG_LEVEL", "INFO").strip().upper()
        if level not in _LOG_LEVELS:
            raise ConfigError(f"POWERSELL_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {level!r}")
        return cls(
            kafka_port=kafka_port,
            kafka_controller_port=controller_port,
            bootstrap_servers=bootstrap,
            kafka_version=version,
            kafka_heap=heap,
            data_dir=_dir(env, "POWERSELL_DATA_DIR"),
            cache_dir=_dir(env, "POWERSELL_CACHE_DIR"),
            metrics_port=_port(env, "POWERSELL_METRICS_PORT", lowest=0),  # 0: any free port
            log_level=level,
            bind_host=env.get("POWERSELL_BIND_HOST", "127.0.0.1").strip() or "127.0.0.1",
            webhook_public_url=(env.get("POWERSELL_WEBHOOK_PUBLIC_URL") or "").strip().rstrip("/") or None,
            **_security(env),
        )


def _optional_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = (env.get(name) or "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def _security(env: Mapping[str, str]) -> dict:
    protocol = (env.get("POWERSELL_KAFKA_SECURITY_PROTOCOL") or "auto").strip().upper()
    if protocol != "AUTO" and protocol not in PROTOCOLS:
        raise ConfigError(f"POWERSELL_KAFKA_SECURITY_PROTOCOL must be auto or one of {', '.join(PROTOCOLS)}, "
                          f"got {protocol!r}")
    mechanism = (env.get("POWERSELL_KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512").strip().upper()
    if mechanism not in MECHANISMS:
        raise ConfigError(f"POWERSELL_KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)}, got {mechanism!r}")
    password = env.get("POWERSELL_KAFKA_PASSWORD") or None
    password_file = _optional_file(env, "POWERSELL_KAFKA_PASSWORD_FILE")
    if password is not None and password_file is not None:
        raise ConfigError("set POWERSELL_KAFKA_PASSWORD_FILE or POWERSELL_KAFKA_PASSWORD, not both")
    cert, key = _optional_file(env, "POWERSELL_KAFKA_CERT_FILE"), _optional_file(env, "POWERSELL_KAFKA_KEY_FILE")
    if key is not None and cert is None:
        raise ConfigError("POWERSELL_KAFKA_KEY_FILE needs POWERSELL_KAFKA_CERT_FILE (the certificate of that key)")
    return {"kafka_security_protocol": None if protocol == "AUTO" else protocol,
            "kafka_sasl_mechanism": mechanism,
            "kafka_username": (env.get("POWERSELL_KAFKA_USERNAME") or "").strip() or None,
            "kafka_password": Secret(password) if password is not None else None,
            "kafka_password_file": password_file,
            "kafka_ca_file": _optional_file(env, "POWERSELL_KAFKA_CA_FILE"),
            "kafka_cert_file": cert, "kafka_key_file": key}


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free right now (all held open together, so none repeats)."""
    import socket
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
