"""Grants against the simulators (no Kafka: the syncer's broker-side parts are recorded in
memory): one authorisation covering several shops is refreshed once for all of them, a
refresh token the platform refuses ends in an EXPIRED connection consent for every shop of
the grant, and an authorisation that reaches its own end is marked EXPIRED when it lapsed."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest

from connectors import api_class
from connectors.api_client import ApiClient, Backoff
from connectors.card_vault import CardVault
from connectors.commands import simulator_for
from connectors.config import marketplace_config
from connectors.metrics import ConnectorMetrics
from connectors.onboarding import authorise
from connectors.runner import ShopSyncer
from connectors.simulators.base import start_in_thread
from connectors.token_store import TokenStore, load_or_create_key

VAULT = CardVault(bytes(range(32)), "test-key")


class Publisher:
    """Stands in for the broker: what was sent, acknowledged at once."""

    def __init__(self):
        self.sent = []

    def send(self, topic, key, record):
        self.sent.append((topic, key, record))
        return SimpleNamespace(get=lambda timeout=None: None)

    def flush(self):
        pass

    def consent(self, status):
        return sorted(r["subject_id"] for t, _, r in self.sent if t == "consent.events" and r["status"] == status)


class Consent:
    def is_active(self, marketplace, shop_id, at):
        return True

    def refresh(self):
        pass


class Checkpoints:
    def get(self, *key):
        return None

    def save(self, *args):
        pass


class Sealer:
    keystore = SimpleNamespace(seal=lambda key, body: body)

    def seal(self, schema, record):
        return record


class Grants:
    def __init__(self, tmp_path, marketplace, **sim):
        settings = {"seed": 11, "shops": 2, "products_per_shop": 3, "orders_per_shop": 4, "push_duplicate_rate": 0.0,
                    **sim}
        self.sim = simulator_for(marketplace, **settings)
        self.running = start_in_thread(self.sim)
        env = {f"POWERSELL_{marketplace.upper()}_BASE_URL": self.running.url}
        if self.running.hosts:
            env[f"POWERSELL_{marketplace.upper()}_AUTH_URL"] = self.running.host_url("auth")
        market = marketplace_config(marketplace, env)
        self.http = httpx.Client(timeout=10)
        client = ApiClient(marketplace, self.http, backoff=Backoff(0.01, 2.0, 0.05))
        self.api = api_class(marketplace)(market.base_url, market.credentials, client, seal_card=VAULT.seal,
                                          **market.api_options)
        self.refreshes = []
        platform_refresh = self.api.refresh
        self.api.refresh = lambda auth: self.refreshes.append(auth.shop_id) or platform_refresh(auth)
        self.tokens = TokenStore(tmp_path / "tokens", load_or_create_key(tmp_path / "tokens.key"))
        self.publisher = Publisher()
        self.syncer = ShopSyncer(self.api, self.tokens, Checkpoints(), Consent(), self.publisher, ConnectorMetrics(),
                                 sealer=Sealer(), full_sync_days=60)

    def authorise(self, shop_ids, shop_id=None):
        reply = httpx.post(self.running.url + "/_sim/authorize", json={"shop_ids": shop_ids}, timeout=10).json()
        ident = shop_id or reply.get("shop_id")
        return authorise(self.api, self.tokens, self.publisher, reply["code"], ident)

    def admin(self, path):
        httpx.post(self.running.url + path, json={}, timeout=10).raise_for_status()

    def close(self):
        self.http.close()
        self.running.stop()


@pytest.fixture
def grants(tmp_path):
    made = []

    def make(marketplace, **sim):
        made.append(Grants(tmp_path / str(len(made)), marketplace, **sim))
        return made[-1]
    yield make
    for g in made:
        g.close()


# TikTok: a seller's grant covers all its shops; Lazada cross-border: one token for VN and TH
@pytest.mark.parametrize("marketplace", ["tiktok_shop", "lazada"])
def test_when_one_shop_of_a_grant_refreshes_then_its_sibling_keeps_working_without_a_second_refresh(grants, marketplace):
    g = grants(marketplace)
    shops = sorted(g.sim.world.shops)
    auths = g.authorise(shops)
    assert sorted(a.shop_id for a in auths) == shops and len({a.grant for a in auths}) == 1
    assert g.tokens.grant_shops(marketplace, shops[0]) == shops
    first, second = shops
    g.admin(f"/_sim/shops/{first}/expire_token")     # the grant's shared access token has expired
    report = g.syncer.sync_shop(first)
    assert report.skipped is None and not report.failed and g.refreshes == [first]
    sibling = g.syncer.sync_shop(second)
    assert sibling.skipped is None and not sibling.failed, "the sibling uses the grant's new pair"
    assert sibling.published.get("orders") and g.refreshes == [first], "one refresh for the whole grant"
    a, b = g.tokens.get(marketplace, first), g.tokens.get(marketplace, second)
    assert a.refresh_token == b.refresh_token and a.access_token == b.access_token


@pytest.mark.parametrize("marketplace", ["tiktok_shop", "lazada"])
def test_when_the_grants_refresh_token_is_spent_elsewhere_then_every_shop_of_it_gets_an_expired_consent(grants, marketplace):
    g = grants(marketplace)
    shops = sorted(g.sim.world.shops)
    g.authorise(shops)
    stale = g.tokens.get(marketplace, shops[0])
    g.api.refresh(stale)                              # another installation spent it: the stored one is dead
    g.admin(f"/_sim/shops/{shops[0]}/expire_token")
    report = g.syncer.sync_shop(shops[0])
    assert report.skipped == "authorisation_expired"
    assert g.publisher.consent("EXPIRED") == sorted(f"{marketplace}:{s}" for s in shops)
    assert g.tokens.shops(marketplace) == [], "a dead grant is not retried on every poll"
    assert g.syncer.sync_shop(shops[1]).skipped == "not_authorised"


def test_when_a_shopee_authorisation_reaches_its_expire_time_then_the_shop_is_marked_expired_when_it_lapsed(grants):
    g = grants("shopee", shops=1)
    g.sim.authorisation_seconds = 4
    [shop] = sorted(g.sim.world.shops)
    [auth] = g.authorise([shop])
    assert g.syncer.sync_shop(shop).skipped is None
    lapses = auth.refresh_expires_at
    assert lapses <= time.time() + 4
    while time.time() < lapses:                       # wait for the authorisation's own end
        time.sleep(0.05)
    report = g.syncer.sync_shop(shop)
    assert report.skipped == "not_authorised"
    [(_, _, record)] = [s for s in g.publisher.sent if s[0] == "consent.events" and s[2]["status"] == "EXPIRED"]
    assert record["subject_id"] == f"shopee:{shop}" and record["effective_time"].timestamp() == int(lapses)
    assert g.tokens.shops("shopee") == []
