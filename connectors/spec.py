"""What a marketplace's connector package declares about itself, as `CONNECTOR = ConnectorSpec(...)`
in its `__init__.py`. The registry (registry.py) pairs it with the marketplace's entry in
pipeline_core/marketplaces.py, which gives the name; everything per marketplace in connectors/
(the API class, the simulator, default ports, settings names, test credentials) is read from here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConnectorSpec:
    api: str                                 # "module:Class" inside the package: "api:ShopeeApi"
    simulator: str                           # "dotted.module:Class" of the marketplace's local simulator
    simulator_port: int                      # the simulator's well-known local port: `connect`'s default base URL
    simulator_credentials: tuple[str, str] = field(repr=False)  # the simulator's public test app key and secret
    auth_simulator_port: int | None = None   # a separate authorisation host (TikTok's), simulated on its own port
    production_auth_url: str | None = None   # that authorisation host in production
    name: str = ""                           # filled in by the registry from the marketplace's entry
    package: str = ""                        # likewise: the package that declared this spec

    # ---- settings names (values never print: they hold the app secret)
    @property
    def env_prefix(self) -> str:
        return f"POWERSELL_{self.name.upper()}_"

    @property
    def base_url_env(self) -> str:
        return self.env_prefix + "BASE_URL"

    @property
    def auth_url_env(self) -> str:
        return self.env_prefix + "AUTH_URL"

    @property
    def app_key_env(self) -> str:
        return self.env_prefix + "APP_KEY"

    @property
    def app_secret_env(self) -> str:
        return self.env_prefix + "APP_SECRET"

    @property
    def has_auth_host(self) -> bool:
        return self.production_auth_url is not None

    # ---- the classes, imported only when asked for (the simulators are not loaded by a connector)
    def api_class(self) -> type:
        module, cls = self.api.split(":")
        return getattr(importlib.import_module(f"{self.package}.{module}"), cls)

    def simulator_class(self) -> type:
        module, cls = self.simulator.split(":")
        return getattr(importlib.import_module(module), cls)
