"""The local key store: per-subject data keys wrapped by a rotating master key, erasure by
destroying a key, and files that never hold a data key in the clear."""

from __future__ import annotations

import base64
import json
import os
import stat
import struct

import pytest

from pipeline_core import keystore as keystore_module
from pipeline_core.keystore import (FORMAT_VERSION, CannotDecrypt, KeyDestroyed, KeyStoreError, LocalKeyStore,
                              MasterKeyring, SecretKey)

PLAIN = b"lan.nguyen.shop@gmail.com"


@pytest.fixture
def store(tmp_path) -> LocalKeyStore:
    return LocalKeyStore.in_dir(tmp_path)


def _spellings(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key)]


# ---------------------------------------------------------------- round trip and format
def test_when_sealed_then_it_opens_with_and_without_the_subject(store):
    sealed = store.seal("shopee:220145871", PLAIN)
    assert store.open("shopee:220145871", sealed) == store.open(None, sealed) == PLAIN
    assert PLAIN not in sealed


def test_when_sealed_then_the_ciphertext_carries_format_key_id_and_key_version(store):
    key_id, version, _ = store.data_key("shopee:1")
    sealed = store.seal("shopee:1", PLAIN)
    n = sealed[1]
    assert sealed[0] == FORMAT_VERSION
    assert sealed[2:2 + n].decode() == key_id and key_id.startswith("dk_") and "shopee" not in key_id
    assert struct.unpack(">I", sealed[2 + n:6 + n]) == (version,) == (1,)
    assert len(sealed) == 6 + n + 12 + len(PLAIN) + 16


def test_when_asked_twice_then_a_subject_keeps_its_key_and_subjects_differ(store):
    assert store.data_key("a") == store.data_key("a")
    assert store.data_key("a")[0] != store.data_key("b")[0]
    assert LocalKeyStore(store.folder, store.master).data_key("a") == store.data_key("a")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1:]


@pytest.mark.parametrize("tamper, problem", [
    (lambda c: b"", "not a key store ciphertext"),
    (lambda c: b"\x01" + c[1:], "not a key store ciphertext"),      # the card vault's format 1
    (lambda c: c[:30], "truncated"),
    (lambda c: _flip(c, len(c) - 1), "authentication"),             # tag
    (lambda c: _flip(c, len(c) - 20), "authentication"),            # body
    (lambda c: _flip(c, 2 + c[1] + 3), "unknown version"),          # key version is bound
    (lambda c: c[:3] + b"x" + c[4:], "unknown data key"),           # key id is bound
])
def test_when_a_ciphertext_is_damaged_then_it_cannot_be_decrypted_and_the_message_holds_no_plaintext(
        store, tamper, problem):
    sealed = store.seal("shopee:1", PLAIN)
    with pytest.raises(CannotDecrypt, match=problem) as caught:
        store.open(None, tamper(sealed))
    assert PLAIN.decode() not in str(caught.value) and "shopee" not in str(caught.value)


def test_when_opened_for_another_subject_then_it_is_refused(store):
    sealed = store.seal("shopee:1", PLAIN)
    store.data_key("shopee:2")
    with pytest.raises(CannotDecrypt, match="another subject"):
        store.open("shopee:2", sealed)


# ---------------------------------------------------------------- master rotation
def _wrapped_under(store: LocalKeyStore) -> set[int]:
    entries = [json.loads(p.read_text()) for p in store.path.glob("*.json")]
    return {v["master_version"] for entry in entries for v in entry["versions"].values()}


def _files(store: LocalKeyStore) -> dict[str, bytes]:
    """Every file of the store's folder (keys, markers, journal, master keys), by relative path."""
    return {str(p.relative_to(store.folder)): p.read_bytes() for p in sorted(store.folder.rglob("*")) if p.is_file()
            and not p.name.endswith(".lock")}


def test_when_the_master_key_rotates_then_old_ciphertexts_still_open_and_keys_move_to_the_new_version(store):
    old = store.seal("shopee:1", PLAIN)
    other_process = LocalKeyStore(store.folder, MasterKeyring(store.master.path))
    other_process.open(None, old)  # has the data key cached and the old master loaded
    assert store.rotate_master() == 2
    assert _wrapped_under(store) == {2} and store.master.versions() == [2]  # old version retired after re-wrap
    new = store.seal("lazada:2", PLAIN)
    assert _wrapped_under(store) == {2}
    for reader in (store, other_process, LocalKeyStore.in_dir(store.folder)):
        assert reader.open(None, old) == reader.open(None, new) == PLAIN


def test_when_a_reader_raced_a_rotation_then_it_reloads_instead_of_failing(store):
    sealed = store.seal("shopee:1", PLAIN)
    reader = LocalKeyStore(store.folder, MasterKeyring(store.master.path))
    stale = {k: dict(v) for k, v in reader._entries.items()}
    store.rotate_master()
    reader._reload()
    reader._entries, reader._cache = stale, {}  # still holds keys wrapped under the retired version 1
    assert reader.open(None, sealed) == PLAIN


def test_when_rotated_twice_then_everything_still_opens(store):
    sealed = [store.seal(f"shop:{i}", PLAIN) for i in range(5)]
    store.rotate_master()
    store.rotate_master()
    assert [store.open(None, s) for s in sealed] == [PLAIN] * 5 and _wrapped_under(store) == {3}


# ---------------------------------------------------------------- erasure
def test_when_a_subject_is_destroyed_then_its_ciphertexts_never_open_again_and_others_still_do(store):
    erased, kept = store.seal("buyer:ps_a", PLAIN), store.seal("buyer:ps_b", PLAIN)
    other_process = LocalKeyStore(store.folder, MasterKeyring(store.master.path))
    assert other_process.open(None, erased) == PLAIN  # its key is cached there
    assert store.destroy("buyer:ps_a") is True
    for reader in (store, other_process, LocalKeyStore.in_dir(store.folder)):
        for subject in ("buyer:ps_a", None):
            with pytest.raises(KeyDestroyed):
                reader.open(subject, erased)
        assert reader.open("buyer:ps_b", kept) == PLAIN
    assert not any(b"buyer:ps_a" in content for content in _files(store).values())  # only the random key id stays
    assert store.destroy("buyer:ps_a") is False


def test_when_a_destroyed_subject_comes_back_then_it_gets_a_new_key_that_cannot_open_the_old_data(store):
    old_id = store.data_key("shopee:1")[0]
    erased = store.seal("shopee:1", PLAIN)
    store.destroy("shopee:1")
    assert store.data_key("shopee:1")[0] != old_id
    with pytest.raises(KeyDestroyed):
        store.open("shopee:1", erased)


def test_when_destroyed_after_rotation_then_old_master_versions_cannot_bring_the_key_back(store):
    erased = store.seal("shopee:1", PLAIN)
    store.rotate_master()
    store.destroy("shopee:1")
    with pytest.raises(KeyDestroyed):
        LocalKeyStore.in_dir(store.folder).open(None, erased)


# ---------------------------------------------------------------- files
def test_when_keys_are_stored_then_no_data_or_master_key_is_in_the_store_file_in_the_clear(store):
    data_keys = [store.data_key(f"shop:{i}")[2] for i in range(3)]
    store.rotate_master()
    master = json.loads(store.master.path.read_text())
    master_keys = [base64.b64decode(k) for k in master["versions"].values()]
    content = b"".join(content for name, content in _files(store).items() if name != "master-keys.json")
    for key in data_keys + master_keys:
        for spelling in _spellings(key):
            assert spelling not in content


def test_when_files_are_written_then_only_the_owner_can_read_them(store):
    store.data_key("shop:1")
    store.data_key("shop:2")
    store.destroy("shop:2")
    files = _files(store)
    assert {name.split("/")[0] for name in files} == {"keys", "destroyed", "journal", "master-keys.json"}
    for name in files:
        assert stat.S_IMODE(os.stat(store.folder / name).st_mode) == 0o600, name
    for folder in (store.path, store.destroyed_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_when_a_write_fails_midway_then_the_old_file_is_intact_and_no_temporary_file_remains(store, monkeypatch):
    sealed = store.seal("shopee:1", PLAIN)
    before = _files(store)

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(keystore_module.os, "replace", crash)
    with pytest.raises(OSError):
        store.destroy("shopee:1")
    with pytest.raises(OSError):
        store.data_key("lazada:2")
    monkeypatch.undo()
    assert _files(store) == before
    assert [p.name for p in store.folder.rglob("*.tmp")] == []
    assert LocalKeyStore.in_dir(store.folder).open("shopee:1", sealed) == PLAIN


def test_when_the_store_is_opened_with_another_master_key_then_unwrapping_fails_with_a_clear_error(store):
    sealed = store.seal("shopee:1", PLAIN)
    reader = LocalKeyStore(store.folder, MasterKeyring(store.folder / "other-master.json", create=True))
    with pytest.raises(KeyStoreError, match=f"master key {store.master.master_id} version 1 is not in") as caught:
        reader.open(None, sealed)
    assert not isinstance(caught.value, CannotDecrypt)


def test_when_the_master_key_file_of_an_existing_store_is_missing_then_no_new_master_is_made(store):
    store.data_key("shopee:1")
    store.master.path.unlink()
    with pytest.raises(KeyStoreError, match="master-keys.json is missing"):
        LocalKeyStore.in_dir(store.folder)
    assert not store.master.path.exists()


def test_when_a_secret_key_is_printed_compared_or_pickled_then_it_gives_nothing_away():
    import pickle
    key = SecretKey(bytes(range(32)))
    assert repr(key) == str(key) == "SecretKey(***)"
    assert key == SecretKey(bytes(range(32))) and key != SecretKey(bytes(32))
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(ValueError):
        SecretKey(b"short")
