"""The marketplaces PowerSell reads: one entry each, the one list every other list derives from.

Each layer needs the names without importing the connectors (streams/ and the consent commands
may not): a name is the prefix of the `marketplace:shop_id` keys, the consent scope of a shop's
connection, a value of the `marketplace` metric label, a choice of `simulate`/`connect`, and the
settings prefix POWERSELL_<NAME>_. The package that implements an entry is named as a string
(`connector`), which only connectors/registry.py resolves, so this module imports nothing above it.

A fourth marketplace is one connector package (declaring its `CONNECTOR` spec, see
connectors/spec.py) plus one `register(...)` line below. The Avro schemas' `Marketplace` enum
is a contract of its own and gains the new symbol through a compatible schema change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")   # safe in keys, metric labels, env names and URLs


@dataclass(frozen=True)
class Marketplace:
    name: str        # "shopee": keys, consent scope, metric label, command-line choice, settings prefix
    title: str       # "Shopee": for people (help texts)
    connector: str   # the connector package, as a dotted name: "connectors.shopee"

    @property
    def env_prefix(self) -> str:
        """POWERSELL_SHOPEE_: the prefix of the marketplace's settings (base URL, app key and secret)."""
        return f"POWERSELL_{self.name.upper()}_"


MARKETPLACES: dict[str, Marketplace] = {}   # name -> entry, in registration order (the order of ports and help)


def register(marketplace: Marketplace) -> Marketplace:
    """Add an entry; refuses a name that could not be a key prefix, label or setting, or a second entry."""
    if not _NAME.fullmatch(marketplace.name):
        raise ConfigError(f"marketplace name {marketplace.name!r} must be lower-case letters, digits and _")
    if marketplace.name in MARKETPLACES:
        raise ConfigError(f"marketplace {marketplace.name!r} is registered twice")
    MARKETPLACES[marketplace.name] = marketplace
    return marketplace


register(Marketplace("shopee", "Shopee", "connectors.shopee"))
register(Marketplace("lazada", "Lazada", "connectors.lazada"))
register(Marketplace("tiktok_shop", "TikTok Shop", "connectors.tiktok_shop"))
