"""Per-marketplace connector settings from the environment.

POWERSELL_<MARKETPLACE>_APP_KEY / _APP_SECRET / _BASE_URL (MARKETPLACE = SHOPEE, LAZADA,
TIKTOK_SHOP). The defaults point at the local simulators with their well-known test
credentials; a real deployment sets all three from its secret store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Mapping

from pipeline_core.errors import ConfigError

from . import MARKETPLACES
from .base import AppCredentials

SIMULATOR_PORTS = {"shopee": 8701, "lazada": 8702, "tiktok_shop": 8703}
SIMULATOR_CREDENTIALS = {  # test credentials of the local simulators only
    "shopee": ("2001887", "sim-shopee-partner-key-0001"),
    "lazada": ("120831", "sim-lazada-app-secret-0001"),
    "tiktok_shop": ("6abc1def2ghi3", "sim-tiktok-app-secret-0001"),
}


@dataclass(frozen=True)
class MarketplaceConfig:
    name: str
    app_key: str
    app_secret: str = field(repr=False)
    base_url: str

    @property
    def credentials(self) -> AppCredentials:
        return AppCredentials(self.app_key, self.app_secret)


@dataclass(frozen=True)
class SyncConfig:
    poll_interval: float = 30.0
    lookback: timedelta = timedelta(minutes=10)
    full_sync_days: int = 60
    request_timeout: float = 10.0


def marketplace_config(name: str, env: Mapping[str, str] | None = None) -> MarketplaceConfig:
    if name not in MARKETPLACES:
        raise ConfigError(f"unknown marketplace {name!r}; known: {', '.join(MARKETPLACES)}")
    env = os.environ if env is None else env
    prefix = f"POWERSELL_{name.upper()}_"
    key, secret = SIMULATOR_CREDENTIALS[name]
    base_url = env.get(prefix + "BASE_URL", f"http://127.0.0.1:{SIMULATOR_PORTS[name]}").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{prefix}BASE_URL must be an http(s) URL, got {base_url!r}")
    return MarketplaceConfig(name, env.get(prefix + "APP_KEY", key), env.get(prefix + "APP_SECRET", secret), base_url)


def sync_config(env: Mapping[str, str] | None = None) -> SyncConfig:
    env = os.environ if env is None else env
    try:
        poll = float(env.get("POWERSELL_POLL_INTERVAL", "30"))
        lookback = float(env.get("POWERSELL_LOOKBACK_SECONDS", "600"))
        days = int(env.get("POWERSELL_FULL_SYNC_DAYS", "60"))
    except ValueError:
        raise ConfigError("POWERSELL_POLL_INTERVAL, POWERSELL_LOOKBACK_SECONDS and POWERSELL_FULL_SYNC_DAYS "
                          "must be numbers") from None
    if poll <= 0 or lookback < 0 or days <= 0:
        raise ConfigError("POWERSELL_POLL_INTERVAL and POWERSELL_FULL_SYNC_DAYS must be positive, "
                          "POWERSELL_LOOKBACK_SECONDS not negative")
    return SyncConfig(poll_interval=poll, lookback=timedelta(seconds=lookback), full_sync_days=days)
