"""FakeMart: a fourth marketplace that exists only to show what adding one takes.

This package (its `CONNECTOR` spec, a MarketplaceApi subclass, a simulator) plus one entry,
`register(Marketplace("fakemart", "FakeMart", "tests.support.fake_marketplace"))`, is all of it:
tests/unit/test_marketplace_registry.py registers that entry and finds FakeMart in the registry,
the settings, the metric label set, the consent scopes and the command line's choices.
A real marketplace's package has the same modules as connectors/shopee/ (signing, answers,
mapping, push, api); FakeMart's API answers nothing, so it needs only api.py.
"""

from __future__ import annotations

from connectors.spec import ConnectorSpec

CONNECTOR = ConnectorSpec(api="api:FakeMartApi", simulator="tests.support.fake_marketplace.simulator:FakeMartSimulator",
                          simulator_port=8799, simulator_credentials=("fake-app-1", "sim-fakemart-secret-0001"))
