"""One typed, frozen settings object, read from environment variables at start.

Every variable, its default and its meaning is in SETTINGS_DOC (printed by
`powersell-pipeline --help` and listed in the README).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import ConfigError

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
    "POWERSELL_BIND_HOST": ("127.0.0.1", "address servers listen on (metrics, simulators, webhook); 0.0.0.0 in containers"),
    "POWERSELL_KEYSTORE_DIR": ("<POWERSELL_DATA_DIR>/keys/keystore",
                               "per-subject data keys and the master key (0700); every process must see the same folder"),
    "POWERSELL_WEBHOOK_PUBLIC_URL": ("http://127.0.0.1:<webhook port>",
                                     "the webhook receiver's URL as marketplaces call it (signatures cover it)"),
}

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
        )


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
