"""Connectors: marketplace open APIs -> raw topics.

One package per marketplace (shopee/, lazada/, tiktok_shop/), each with the same modules:
signing, answers (errors as data), mapping (pure functions to raw events), push (webhook
verification and parsing) and api (the MarketplaceApi subclass), and a `CONNECTOR` spec in its
`__init__.py`. Everything else is shared (base, api_client, runner, checkpoints, consent_gate,
webhook). A fourth marketplace is one such package plus one entry in pipeline_core/marketplaces.py;
`registry.py` derives the rest. The simulators in `simulators/` stand in for the marketplaces; no
connector module imports them.
"""

from __future__ import annotations

from .registry import MARKETPLACES, api_class

__all__ = ["MARKETPLACES", "api_class"]
