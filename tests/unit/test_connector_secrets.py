"""Tokens and card numbers at rest and in flight: encrypted, never printed."""

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
    assert store.get("shopee", "100") == auth()
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
