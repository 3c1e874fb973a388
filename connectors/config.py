"""Per-marketplace connector settings from the environment.

POWERSELL_<MARKETPLACE>_APP_KEY / _APP_SECRET / _BASE_URL (MARKETPLACE = the marketplace's name in
upper case: SHOPEE, LAZADA, TIKTOK_SHOP), and for a marketplace with a separate authorisation host
POWERSELL_<MARKETPLACE>_AUTH_URL (TikTok Shop: POWERSELL_TIKTOK_SHOP_AUTH_URL, the host that serves
/api/v2/token/get and /api/v2/token/refresh; production: https://auth.tiktok-shops.com, not the
open-API host). The defaults point at the local simulators with their well-known test credentials
(each package's `CONNECTOR` spec); a real deployment sets all of them from its secret store.

The simulators' test credentials are in this repository, so they are only ever used against a
simulator: a base (or auth) URL whose host is a loopback address, `localhost`, or a single-label
name starting with `simulator` (a docker-compose service such as `simulator-shopee`). Against any
other host the connector refuses to start unless the marketplace's own APP_KEY and APP_SECRET are
set, and refuses the simulators' secret even when it is set explicitly (a push signed with it would
otherwise be accepted). The error names the variables, never a value."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from pipeline_core.errors import ConfigError

from .base import AppCredentials
from .registry import MARKETPLACES


@dataclass(frozen=True)
class MarketplaceConfig:
    name: str
    app_key: str
    app_secret: str = field(repr=False)
    base_url: str
    auth_url: str | None = None        # a separate authorisation host (TikTok Shop), else None

    @property
    def credentials(self) -> AppCredentials:
        return AppCredentials(self.app_key, self.app_secret)

    @property
    def api_options(self) -> dict[str, Any]:
        """Keyword arguments of the marketplace's API class beyond the common ones."""
        return {"auth_base_url": self.auth_url} if self.auth_url else {}


@dataclass(frozen=True)
class SyncConfig:
    poll_interval: float = 30.0
    lookback: timedelta = timedelta(minutes=10)
    full_sync_days: int = 60
    request_timeout: float = 10.0


def is_simulator_url(url: str) -> bool:
    """True for a loopback host, localhost, or a single-label `simulator*` host (docker compose)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or ("." not in host and ":" not in host and host.startswith("simulator")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_credentials(name: str, urls: Iterable[str], app: AppCredentials, *, explicit: bool = True) -> None:
    """Refuse the simulators' test secret (or missing credentials) against a real marketplace host."""
    real = [u for u in urls if u and not is_simulator_url(u)]
    if not real:
        return
    spec = MARKETPLACES[name]
    if not explicit:
        raise ConfigError(f"{spec.app_key_env} and {spec.app_secret_env} must be set: {real[0]} is not a local "
                          "simulator and the simulators' test credentials are public")
    if app.app_secret == spec.simulator_credentials[1]:
        raise ConfigError(f"{spec.app_secret_env} is the simulators' public test secret; {real[0]} is not a local "
                          "simulator: set the marketplace's own secret")


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    url = env.get(name, default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    return url


def default_auth_url(name: str, base_url: str, base_set: bool) -> str | None:
    """Production: the platform's authorisation host. A simulator: the simulator's auth port
    (its API port + 1, as `simulate` serves it)."""
    spec = MARKETPLACES[name]
    if not spec.has_auth_host:
        return None
    if not base_set:
        return f"http://127.0.0.1:{spec.auth_simulator_port}"
    if is_simulator_url(base_url):
        parts = urlsplit(base_url)
        port = parts.port or spec.simulator_port
        return f"{parts.scheme}://{parts.hostname}:{port + 1}"
    return spec.production_auth_url


def app_credentials(name: str, env: Mapping[str, str] | None = None) -> AppCredentials:
    """The app's key and secret from the environment, else the simulators' (a simulator itself uses
    these; a connector gets them through marketplace_config, which checks them against its hosts)."""
    env = os.environ if env is None else env
    spec = MARKETPLACES[name]
    key, secret = spec.simulator_credentials
    return AppCredentials(env.get(spec.app_key_env) or key, env.get(spec.app_secret_env) or secret)


def marketplace_config(name: str, env: Mapping[str, str] | None = None) -> MarketplaceConfig:
    if name not in MARKETPLACES:
        raise ConfigError(f"unknown marketplace {name!r}; known: {', '.join(MARKETPLACES)}")
    env = os.environ if env is None else env
    spec = MARKETPLACES[name]
    base_url = _url(env, spec.base_url_env, f"http://127.0.0.1:{spec.simulator_port}")
    auth_url = default_auth_url(name, base_url, spec.base_url_env in env)
    if auth_url is not None:
        auth_url = _url(env, spec.auth_url_env, auth_url)
    explicit = bool(env.get(spec.app_key_env)) and bool(env.get(spec.app_secret_env))
    app = app_credentials(name, env)
    check_credentials(name, [base_url, auth_url or ""], app, explicit=explicit)
    return MarketplaceConfig(name, app.app_key, app.app_secret, base_url, auth_url)


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
