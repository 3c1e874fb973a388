"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from tests.integration.connector_rig import Rig


@pytest.fixture
def rig_factory(kafka, tmp_path):
    rigs = []

    def make(marketplace, **kw):
        rig = Rig(kafka, tmp_path / f"rig{len(rigs)}", marketplace, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


