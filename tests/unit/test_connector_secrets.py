"""Tokens and card numbers at rest and in flight: encrypted, never printed."""

from dataclasses import replace

import pytest

from connectors.base import ShopAuth
from connectors.card_vault import CardVault
from connectors.normalise import card, card_brand
from connectors.token_store import TokenStore, TokenStoreError, load_or_create_key


def auth(shop="100", token="acc-SECRET-1"):
    return ShopAuth("shopee", shop, token, "ref-SECRET-1", 1000.0, 2000.0, {"country": "vn"})


def test_when_tokens_are_stored_then_the_file_holds_no_token_and_they_come_back(tmp_path):
    store = TokenStore(tmp_path, load_or_create_key(tmp_path / "k"))
    store.put(auth())
    store.put(auth("200", "acc-SECRET-2"))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("tokens-*"))
    assert b"SECRET" not in raw
    assert store.get("shopee", "100") == replace(auth(), grant="shop:100")     # a shop without a grant is one
    assert store.shops("shopee") == ["100", "200"]
    store.remove("shopee", "100")
    assert store.get("shopee", "100") is None
    assert oct((tmp_path / "k").stat().st_mode & 0o777) == "0o600"


def test_when_the_key_is_wrong_then_the_error_says_so_without_tokens(tmp_path):
    TokenStore(tmp_path, load_or_create_key(tmp_path / "k1")).put(auth())
    with pytest.raises(TokenStoreError) as err:
        TokenStore(tmp_path, load_or_create_key(tmp_path / "k2")).get("shopee", "100")
    assert "SECRET" not in str(err.value)


def test_tokens_never_appear_in_repr():
    assert "SECRET" not in repr(auth())


def test_when_a_card_is_sealed_then_only_brand_and_last4_are_readable(tmp_path):
    vault = CardVault.from_file(tmp_path / "card.key")
    sealed = card("4111 1111 1111 1111", vault.seal)
    assert sealed["brand"] == "VISA" and sealed["last4"] == "1111"
    assert b"4111111111111111" not in sealed["card_ciphertext"]
    assert vault.open(sealed["card_ciphertext"]) == "4111111111111111"
    tampered = bytearray(sealed["card_ciphertext"])
    tampered[-1] ^= 1
    with pytest.raises(Exception):
        vault.open(bytes(tampered))


@pytest.mark.parametrize("number, brand", [("4111111111111111", "VISA"), ("5555555555554444", "MASTERCARD"),
                                           ("2223000048400011", "MASTERCARD"), ("3530111333300000", "JCB"),
                                           ("378282246310005", "AMEX"), ("6011111111111117", None)])
def test_card_brand_comes_from_the_issuer_prefix(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize("body, expected", [
    (b'{"card_number": "4111111111111111"}', b'{"card_number": "[CARD]"}'),
    (b'card 5555 5555 5555 4444 ok', b'card [CARD] ok'),
    (b'card 3530-1113-3330-0000', b'card [CARD]'),
    (b'order 2611205123456789 phone 0912345678', b'order 2611205123456789 phone 0912345678'),  # not Luhn-valid
])
def test_when_a_body_is_dead_lettered_then_card_numbers_are_scrubbed(body, expected):
    from connectors.card_vault import scrub_card_numbers
    assert scrub_card_numbers(body) == expected


# ---------------------------------------------------------------- the simulators' secret never meets a real host
from connectors import MARKETPLACES  # noqa: E402
from connectors.config import is_simulator_url, marketplace_config  # noqa: E402
from pipeline_core.errors import ConfigError  # noqa: E402

REAL_HOSTS = {"shopee": "https://partner.shopeemobile.com", "lazada": "https://api.lazada.vn/rest",
              "tiktok_shop": "https://open-api.tiktokglobalshop.com"}


@pytest.mark.parametrize("url, simulated", [("http://127.0.0.1:8701", True), ("http://localhost:8702", True),
                                            ("http://[::1]:8703", True), ("http://simulator-shopee:8701", True),
                                            ("https://partner.shopeemobile.com", False),
                                            ("http://10.0.0.5:8701", False), ("http://simulator.evil.com", False)])
def test_only_loopback_and_compose_simulator_hosts_count_as_simulators(url, simulated):
    assert is_simulator_url(url) is simulated


@pytest.mark.parametrize("name", sorted(REAL_HOSTS))
def test_when_a_real_base_url_has_no_credentials_of_its_own_then_the_connector_refuses_to_start(name):
    prefix = f"POWERSELL_{name.upper()}_"
    for env in ({prefix + "BASE_URL": REAL_HOSTS[name]},
                {prefix + "BASE_URL": REAL_HOSTS[name], prefix + "APP_KEY": "my-key"},
                {prefix + "BASE_URL": REAL_HOSTS[name], prefix + "APP_SECRET": "my-secret-XYZ"}):
        with pytest.raises(ConfigError) as err:
            marketplace_config(name, env)
        message = str(err.value)
        assert "\n" not in message and prefix + "APP_SECRET" in message
        assert MARKETPLACES[name].simulator_credentials[1] not in message and "my-secret-XYZ" not in message
    explicit = {prefix + "BASE_URL": REAL_HOSTS[name], prefix + "APP_KEY": "k",
                prefix + "APP_SECRET": MARKETPLACES[name].simulator_credentials[1]}
    with pytest.raises(ConfigError) as err:                          # the public test secret, set by hand
        marketplace_config(name, explicit)
    assert MARKETPLACES[name].simulator_credentials[1] not in str(err.value)
    own = marketplace_config(name, {**explicit, prefix + "APP_SECRET": "own-secret"})
    assert (own.app_key, own.app_secret, own.base_url) == ("k", "own-secret", REAL_HOSTS[name])


def test_a_real_tiktok_auth_host_needs_credentials_even_with_a_simulated_api_host():
    env = {"POWERSELL_TIKTOK_SHOP_BASE_URL": "http://127.0.0.1:8703",
           "POWERSELL_TIKTOK_SHOP_AUTH_URL": "https://auth.tiktok-shops.com"}
    with pytest.raises(ConfigError):
        marketplace_config("tiktok_shop", env)


def test_simulator_urls_keep_the_simulators_test_credentials():
    for name in REAL_HOSTS:
        market = marketplace_config(name, {})
        assert (market.app_key, market.app_secret) == MARKETPLACES[name].simulator_credentials
    compose = marketplace_config("tiktok_shop", {"POWERSELL_TIKTOK_SHOP_BASE_URL": "http://simulator-tiktok-shop:8703"})
    assert compose.auth_url == "http://simulator-tiktok-shop:8704"     # the simulator's auth host: API port + 1
    assert marketplace_config("tiktok_shop", {}).auth_url == "http://127.0.0.1:8704"


def test_when_a_receiver_would_verify_a_real_marketplaces_pushes_with_the_simulator_secret_then_it_refuses():
    from types import SimpleNamespace

    from connectors.base import AppCredentials
    from connectors.webhook import WebhookReceiver

    def syncer(base_url):
        api = SimpleNamespace(name="shopee", base_url=base_url, app=AppCredentials(*MARKETPLACES["shopee"].simulator_credentials))
        return SimpleNamespace(api=api)
    with pytest.raises(ConfigError):
        WebhookReceiver({"shopee": syncer(REAL_HOSTS["shopee"])}, "https://hooks.example")
    WebhookReceiver({"shopee": syncer("http://127.0.0.1:8701")}, "http://127.0.0.1:8710")   # a simulator: fine
