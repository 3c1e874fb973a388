"""The local key store's files: one per key, the single keystore.json of earlier versions
migrated on open, a journal other processes follow (and its compaction), and a destroy that
leaves nothing of the key in the folder or in this process's cache."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline_core import keystore as keystore_module
from pipeline_core.keystore import CannotDecrypt, KeyDestroyed, LocalKeyStore, MasterKeyring

PLAIN = b"Nguyen Thi Lan, 12 Ly Thuong Kiet"


@pytest.fixture
def store(tmp_path) -> LocalKeyStore:
    return LocalKeyStore.in_dir(tmp_path / "ks")


def other_process(store: LocalKeyStore) -> LocalKeyStore:
    return LocalKeyStore(store.folder, MasterKeyring(store.master.path))


def as_single_file(store: LocalKeyStore) -> None:
    """Rewrite the folder as the format-1 store wrote it: every key in keystore.json."""
    keys = {p.stem: json.loads(p.read_text()) for p in store.path.glob("*.json")}
    destroyed = {p.name: json.loads(p.read_text())["destroyed"] for p in store.destroyed_dir.iterdir()}
    shutil.rmtree(store.path)
    shutil.rmtree(store.destroyed_dir)
    store.journal_file.unlink()
    (store.folder / "keystore.json").write_text(json.dumps({"format": 1, "keys": keys, "destroyed": destroyed}))


def test_when_a_single_file_store_is_opened_then_it_is_migrated_and_everything_opens_as_before(store):
    kept = [store.seal(f"ps_{i}", PLAIN) for i in range(5)]
    erased = store.seal("ps_erased", PLAIN)
    store.destroy("ps_erased")
    ids = {s: store.data_key(s)[0] for s in ("ps_0", "ps_4")}
    as_single_file(store)

    migrated = LocalKeyStore.in_dir(store.folder)
    assert not (store.folder / "keystore.json").exists()
    assert len(list(migrated.path.glob("*.json"))) == 5 and len(list(migrated.destroyed_dir.iterdir())) == 1
    assert [migrated.open(f"ps_{i}", s) for i, s in enumerate(kept)] == [PLAIN] * 5
    assert {s: migrated.data_key(s)[0] for s in ids} == ids  # the same keys, not new ones
    with pytest.raises(KeyDestroyed):
        migrated.open(None, erased)
    assert migrated.status()["data_keys"] == 5 and migrated.status()["destroyed_keys"] == 1


def test_when_another_process_adds_or_destroys_a_key_then_this_one_sees_it_at_its_next_call(store):
    reader = other_process(store)
    sealed = store.seal("ps_new", PLAIN)            # made after the reader opened the folder
    assert reader.open("ps_new", sealed) == PLAIN
    assert reader.data_key("ps_new")[0] == store.data_key("ps_new")[0]  # not a second key for the subject
    store.destroy("ps_new")
    with pytest.raises(KeyDestroyed):
        reader.open(None, sealed)


def test_when_the_journal_is_compacted_then_readers_still_see_every_key_and_every_destroy(store, monkeypatch):
    monkeypatch.setattr(LocalKeyStore, "JOURNAL_COMPACT_BYTES", 64)
    reader = other_process(store)
    sealed = {f"ps_{i}": store.seal(f"ps_{i}", PLAIN) for i in range(12)}
    assert store.journal_file.stat().st_size < 64 + 20   # emptied on the way, not one line per key ever written
    store.destroy("ps_3")
    for subject, ciphertext in sealed.items():
        if subject == "ps_3":
            with pytest.raises(KeyDestroyed):
                reader.open(None, ciphertext)
        else:
            assert reader.open(subject, ciphertext) == PLAIN


def test_when_a_key_is_destroyed_then_its_file_is_gone_and_the_cached_copy_is_overwritten(store):
    sealed = store.seal("ps_a", PLAIN)
    key_id, _, key = store.data_key("ps_a")
    cached = store._cache[(key_id, 1)][1]
    assert bytes(cached) == key
    store.destroy("ps_a")
    assert cached == bytearray(len(key))              # zeros: the buffer this process used is overwritten
    assert not (store.path / f"{key_id}.json").exists() and (store.destroyed_dir / key_id).exists()
    assert not any(key_id.encode() in p.read_bytes() and b"wrapped" in p.read_bytes()
                   for p in store.folder.rglob("*") if p.is_file())
    with pytest.raises(KeyDestroyed):
        store.open(None, sealed)


def test_when_destroying_fails_after_its_marker_then_the_key_is_already_unusable(store, monkeypatch):
    sealed = store.seal("ps_a", PLAIN)
    running = other_process(store)
    assert running.open(None, sealed) == PLAIN       # its key cached there

    def crash(path):
        raise OSError("disk gone")

    monkeypatch.setattr(keystore_module, "_shred", crash)
    with pytest.raises(OSError):
        store.destroy("ps_a")
    monkeypatch.undo()
    for reader in (store, running, other_process(store), LocalKeyStore.in_dir(store.folder)):
        with pytest.raises(KeyDestroyed):
            reader.open(None, sealed)
    key_file = next(store.path.glob("*.json"))
    assert store.destroy("ps_a") is False and not key_file.exists()  # run again (as erasure says): the file goes


def test_when_a_ciphertext_names_a_path_instead_of_a_key_id_then_no_file_outside_the_store_is_read(store, tmp_path):
    (tmp_path / "outside.json").write_text(json.dumps({"subject": "x", "versions": {}}))
    kid = b"dk_../../outside"
    forged = bytes([2, len(kid)]) + kid + (1).to_bytes(4, "big") + bytes(12 + 16 + 4)
    with pytest.raises(CannotDecrypt, match="unknown data key"):
        store.open(None, forged)
