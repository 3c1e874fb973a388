"""An authorisation that ran out becomes an EXPIRED connection consent (R1), so the stream
workers stop the shop's events as well as the connector stopping its polls."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connectors.base import ShopAuth
from connectors.runner import ShopSyncer, authorisation_lapsed

NOW = 1_800_000_000.0


def auth(refresh_expires_at):
    return ShopAuth("shopee", "42", "at", "rt", access_expires_at=NOW - 10, refresh_expires_at=refresh_expires_at)


@pytest.mark.parametrize("refresh_expires_at, lapsed", [(NOW - 1, True), (NOW, True), (NOW + 1, False), (0.0, False)])
def test_when_the_refresh_token_has_expired_then_the_authorisation_has_lapsed(refresh_expires_at, lapsed):
    assert authorisation_lapsed(auth(refresh_expires_at), NOW) is lapsed


class FakeTokens:
    def __init__(self, stored):
        self.stored, self.removed = stored, []

    def get(self, marketplace, shop_id):
        return self.stored

    def remove(self, marketplace, shop_id):
        self.removed.append((marketplace, shop_id))


class FakePublisher:
    def __init__(self):
        self.sent = []

    def send(self, topic, key, record):
        self.sent.append((topic, key, record))
        return SimpleNamespace(get=lambda timeout: None)


def syncer(stored):
    s = object.__new__(ShopSyncer)
    s.api = SimpleNamespace(name="shopee", marketplace_symbol="SHOPEE")
    s.tokens, s.publisher, s.clock = FakeTokens(stored), FakePublisher(), lambda: NOW
    return s


def test_when_an_authorisation_lapsed_then_an_expired_consent_is_published_at_its_lapse_time():
    s = syncer(auth(NOW - 3600))
    s._expire_if_lapsed("42")
    [(topic, key, record)] = s.publisher.sent
    assert (topic, key, record["status"], record["source"]) == ("consent.events", "shopee:42|SHOP_DATA_CONNECTION|shopee",
                                                                "EXPIRED", "CONNECTOR")
    assert record["effective_time"].timestamp() == NOW - 3600
    assert s.tokens.removed == [("shopee", "42")]


def test_when_only_the_access_token_expired_then_nothing_is_published():
    s = syncer(auth(NOW + 3600))
    s._expire_if_lapsed("42")
    assert s.publisher.sent == [] and s.tokens.removed == []
