"""Which sealed values belong to erased subjects, without opening any: the key store's state_of and
sealed_states over a decoded record (what `topics tail` prints)."""

from __future__ import annotations

import pytest

from pipeline_core.keystore import KeyStore, LocalKeyStore
from pipeline_core.sealing import sealed_states

PLAIN = b"Tran Van Minh"


@pytest.fixture
def store(tmp_path) -> LocalKeyStore:
    return LocalKeyStore.in_dir(tmp_path / "ks")


def test_when_a_key_is_live_destroyed_or_unknown_then_state_of_says_so_without_unwrapping(store, monkeypatch):
    live, erased = store.seal("ps_live", PLAIN), store.seal("ps_gone", PLAIN)
    store.destroy("ps_gone")
    monkeypatch.setattr(LocalKeyStore, "_unwrap", lambda *a: pytest.fail("state_of unwrapped a key"))
    other = LocalKeyStore.in_dir(store.folder)
    for reader in (store, other):
        assert [reader.state_of(c) for c in (live, erased, b"\x02\x05dk_zz", b"plain text")] == [
            "live", "destroyed", "unknown", "unknown"]


def test_when_only_the_interface_is_implemented_then_state_of_is_derived_from_key_for(store):
    class Minimal(KeyStore):  # what a KMS-backed store would write: the four methods
        data_key, key_for, destroy, rotate_master = store.data_key, store.key_for, store.destroy, store.rotate_master
    minimal = Minimal()
    sealed = store.seal("ps_a", PLAIN)
    assert minimal.state_of(sealed) == "live"
    store.destroy("ps_a")
    assert minimal.state_of(sealed) == "destroyed"


def test_when_a_record_holds_sealed_values_then_they_are_counted_by_key_state_wherever_they_are(store):
    buyer = [store.seal("ps_buyer", v) for v in (b"a", b"b", b"c")]
    shop = store.seal("shopee:1", b"shop name")
    store.destroy("ps_buyer")
    record = {"shop_name": shop, "buyer": {"buyer_username": buyer[0], "buyer_email": None},
              "recipient": {"address": {"address_lines": [buyer[1], buyer[2]]}}, "total": "12.50",
              "card": b"\x01not-a-key-store-ciphertext", "original_value": None}
    assert sealed_states(store, record) == {"destroyed": 3, "live": 1}
    assert sealed_states(store, {"status": "PAID"}) == {}
