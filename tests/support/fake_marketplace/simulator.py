"""FakeMart's simulator: the shared world of shops, serving no platform routes."""

from __future__ import annotations

from connectors.simulators.base import SimulatorBase


class FakeMartSimulator(SimulatorBase):
    name = "fakemart"

    def routes(self) -> list:
        return []

    def sign_push(self, body: bytes, url: str) -> dict[str, str]:
        return {}
