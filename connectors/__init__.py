"""Connectors: marketplace open APIs -> raw topics.

One module per marketplace, registered here by name; everything else is shared
(base, api_client, runner, checkpoints, consent_gate, webhook). The simulators in
`simulators/` stand in for the marketplaces; no connector module imports them.
"""

from __future__ import annotations

import importlib

# name -> "module:class". A fourth marketplace is one module and one line here.
MARKETPLACES: dict[str, str] = {
    "shopee": "connectors.shopee.api:ShopeeApi",
    "lazada": "connectors.lazada.api:LazadaApi",
    "tiktok_shop": "connectors.tiktok_shop.api:TikTokShopApi",
}


def api_class(name: str):
    module, cls = MARKETPLACES[name].split(":")
    return getattr(importlib.import_module(module), cls)
