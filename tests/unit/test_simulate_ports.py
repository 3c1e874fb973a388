"""`simulate` takes its ports from the connectors' settings or --port-base, not fixed numbers,
so two people on one machine do not collide, and `connect` finds what `simulate` serves."""

from __future__ import annotations

import pytest

from connectors import MARKETPLACES
from connectors.commands import simulator_ports
from connectors.config import marketplace_config


def test_when_nothing_is_set_then_the_well_known_ports_are_used():
    assert simulator_ports(MARKETPLACES, {}) == {"shopee": (8701, None), "lazada": (8702, None),
                                                 "tiktok_shop": (8703, 8704)}


def test_when_a_port_base_is_given_then_ports_are_consecutive_from_it():
    assert simulator_ports(MARKETPLACES, {}, 9801) == {"shopee": (9801, None), "lazada": (9802, None),
                                                       "tiktok_shop": (9803, 9804)}


def test_when_one_marketplace_is_chosen_then_it_keeps_its_place_in_the_plan():
    assert simulator_ports(["tiktok_shop"], {}, 9801) == {"tiktok_shop": (9803, 9804)}


def test_when_the_connector_settings_name_urls_then_simulate_serves_there():
    env = {"POWERSELL_SHOPEE_BASE_URL": "http://127.0.0.1:9911", "POWERSELL_TIKTOK_SHOP_BASE_URL": "http://127.0.0.1:9920"}
    ports = simulator_ports(MARKETPLACES, env)
    assert ports["shopee"] == (9911, None) and ports["lazada"] == (8702, None)
    assert ports["tiktok_shop"] == (9920, 9921)


@pytest.mark.parametrize("name", MARKETPLACES)
def test_the_ports_served_are_the_ones_connect_uses(name):
    env = {"POWERSELL_TIKTOK_SHOP_BASE_URL": "http://127.0.0.1:9920", "POWERSELL_LAZADA_BASE_URL": "http://127.0.0.1:9930"}
    api, auth = simulator_ports([name], env)[name]
    market = marketplace_config(name, env)
    assert market.base_url.rstrip("/").endswith(f":{api}")
    if auth is not None:
        assert market.auth_url.rstrip("/").endswith(f":{auth}")
