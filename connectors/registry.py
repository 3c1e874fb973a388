"""The connectors' registry: one `ConnectorSpec` per marketplace of pipeline_core/marketplaces.py,
read from the package the entry names. Nothing here lists a marketplace: a fourth one appears
when its entry is registered and its package declares `CONNECTOR`."""

from __future__ import annotations

import importlib
from dataclasses import replace

from pipeline_core.errors import ConfigError
from pipeline_core.marketplaces import MARKETPLACES as ENTRIES
from pipeline_core.marketplaces import Marketplace

from .spec import ConnectorSpec


def load_spec(entry: Marketplace) -> ConnectorSpec:
    spec = getattr(importlib.import_module(entry.connector), "CONNECTOR", None)
    if not isinstance(spec, ConnectorSpec):
        raise ConfigError(f"{entry.connector} (marketplace {entry.name}) declares no CONNECTOR = ConnectorSpec(...)")
    return replace(spec, name=entry.name, package=entry.connector)


MARKETPLACES: dict[str, ConnectorSpec] = {name: load_spec(entry) for name, entry in ENTRIES.items()}


def api_class(name: str) -> type:
    """The marketplace's MarketplaceApi subclass."""
    return MARKETPLACES[name].api_class()
