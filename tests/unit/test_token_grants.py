"""Grants as records of their own in the token store: shops share their grant's token pair,
a refresh renews the grant once for all of its shops (under the lock), and a stale copy never
spends a refresh token that was already replaced."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

from cryptography.fernet import Fernet

from connectors.base import ShopAuth
from connectors.token_store import TokenStore, load_or_create_key


def shop(shop_id, grant="seller:7", access="acc-1", refresh="ref-1", cipher=None):
    return ShopAuth("tiktok_shop", shop_id, access, refresh, 1000.0, 2000.0, {"shop_cipher": cipher or f"c{shop_id}"},
                    grant=grant)


def store(tmp_path):
    return TokenStore(tmp_path, load_or_create_key(tmp_path / "k"))


def renewed(n):
    def refresh(auth):
        return replace(auth, access_token=f"acc-{n}", refresh_token=f"ref-{n}", access_expires_at=5000.0)
    return refresh


def test_shops_of_one_grant_share_its_tokens_and_keep_their_own_details(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop("A"), shop("B"), shop("C", grant="seller:9", access="acc-x", refresh="ref-x")])
    assert tokens.grant_shops("tiktok_shop", "A") == ["A", "B"]
    assert tokens.grant_shops("tiktok_shop", "C") == ["C"] and tokens.grant_shops("tiktok_shop", "Z") == []
    assert tokens.get("tiktok_shop", "B").extra == {"shop_cipher": "cB"}
    tokens.refresh("tiktok_shop", tokens.get("tiktok_shop", "A"), renewed(2))
    b = tokens.get("tiktok_shop", "B")
    assert (b.access_token, b.refresh_token, b.access_expires_at, b.extra) == ("acc-2", "ref-2", 5000.0, {"shop_cipher": "cB"})
    assert tokens.get("tiktok_shop", "C").refresh_token == "ref-x"


def test_when_a_sibling_refreshes_with_a_stale_copy_then_it_gets_the_stored_pair_and_spends_nothing(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop("A"), shop("B")])
    stale_b = tokens.get("tiktok_shop", "B")
    tokens.refresh("tiktok_shop", tokens.get("tiktok_shop", "A"), renewed(2))
    calls = []
    got = tokens.refresh("tiktok_shop", stale_b, lambda auth: calls.append(auth) or renewed(3)(auth))
    assert calls == [] and got.refresh_token == "ref-2" and got.shop_id == "B"


def test_when_every_shop_refreshes_at_once_then_the_platform_is_asked_once(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop(s) for s in "ABCDEF"])
    stale = {s: tokens.get("tiktok_shop", s) for s in "ABCDEF"}
    calls, results = [], {}
    start = threading.Barrier(len(stale))

    def refresh_shop(s):
        start.wait()
        results[s] = tokens.refresh("tiktok_shop", stale[s], lambda auth: calls.append(auth.shop_id) or renewed(2)(auth))
    threads = [threading.Thread(target=refresh_shop, args=(s,)) for s in stale]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and {r.refresh_token for r in results.values()} == {"ref-2"}


def test_when_a_shop_is_removed_then_its_grant_stays_for_its_siblings_and_goes_with_the_last(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop("A"), shop("B")])
    tokens.remove("tiktok_shop", "A")
    assert tokens.shops("tiktok_shop") == ["B"] and tokens.get("tiktok_shop", "B").access_token == "acc-1"
    tokens.remove("tiktok_shop", "B")
    assert tokens.shops("tiktok_shop") == []
    assert tokens.refresh("tiktok_shop", shop("B"), renewed(2)).refresh_token == "ref-2"   # not stored again
    assert tokens.get("tiktok_shop", "B") is None


def test_when_a_shop_is_authorised_again_then_it_moves_to_the_new_grant_and_the_empty_old_one_goes(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop("A")])
    tokens.put_grant([shop("A", grant="seller:8", refresh="ref-new")])
    assert tokens.get("tiktok_shop", "A").grant == "seller:8"
    raw = json.loads(Fernet(load_or_create_key(tmp_path / "k")).decrypt((tmp_path / "tokens-tiktok_shop.enc").read_bytes()))
    assert list(raw["grants"]) == ["seller:8"]


def test_a_store_written_before_grants_existed_is_read_as_one_grant_per_shop(tmp_path):
    key = load_or_create_key(tmp_path / "k")
    legacy = {s: {"marketplace": "shopee", "shop_id": s, "access_token": f"acc-{s}", "refresh_token": f"ref-{s}",
                  "access_expires_at": 1.0, "refresh_expires_at": 2.0, "extra": {}} for s in ("1", "2")}
    (tmp_path / "tokens-shopee.enc").write_bytes(Fernet(key).encrypt(json.dumps(legacy).encode()))
    tokens = TokenStore(tmp_path, key)
    assert tokens.shops("shopee") == ["1", "2"]
    one = tokens.get("shopee", "1")
    assert (one.access_token, one.grant) == ("acc-1", "shop:1") and tokens.grant_shops("shopee", "1") == ["1"]


def test_when_the_platform_does_not_rotate_refresh_tokens_then_a_stale_sibling_still_refreshes_nothing(tmp_path):
    tokens = store(tmp_path)
    tokens.put_grant([shop("A"), shop("B")])
    stale_b = tokens.get("tiktok_shop", "B")

    def same_refresh_token(auth):   # TikTok does not document rotation: the same refresh token may come back
        return replace(auth, access_token="acc-2", access_expires_at=5000.0)
    tokens.refresh("tiktok_shop", tokens.get("tiktok_shop", "A"), same_refresh_token)
    calls = []
    got = tokens.refresh("tiktok_shop", stale_b, lambda auth: calls.append(auth) or same_refresh_token(auth))
    assert calls == [] and (got.access_token, got.refresh_token) == ("acc-2", "ref-1")
