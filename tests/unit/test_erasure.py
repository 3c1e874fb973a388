"""Erasure without Kafka: the key is destroyed first, exactly the subject's live keys are
tombstoned, the receipt names no one, and erasing twice is harmless."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.errors import PipelineError
from pipeline_core.settings import Settings
from pipeline_core.topics import CATALOG, topic
from streams import erasure_commands
from streams.erasure import (RECEIPT_SCHEMA, REQUEST_SCHEMA, TOPICS_BY_SUBJECT_TYPE, CompactedLog, Eraser,
                             ErasureIncomplete, InvalidErasureRequest, KeyMatch, SubjectKeys, already_handled,
                             guess_subject_type)
from pipeline_core.keystore import KeyDestroyed, LocalKeyStore

SHOP = "shopee:220145871"
OTHER_SHOP = "shopee:2201458710"  # SHOP is a prefix of its id
BUYER = "ps_" + "a1" * 16
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


class MemoryLog(CompactedLog):
    """A compacted log as a list of (topic, key, value); value None is a tombstone."""

    def __init__(self, journal: list, fail_at: str | None = None) -> None:
        self.records: list[tuple[str, str, object]] = []
        self.pending: list[tuple[str, str, object]] = []
        self.journal = journal
        self.fail_at = fail_at

    def _maybe_fail(self, step: str) -> None:
        if self.fail_at == step:
            raise TimeoutError("broker went away")

    def live_keys(self, topic_name, match):
        self._maybe_fail("live_keys")
        latest = {}
        for name, key, value in self.records:
            if name == topic_name:
                latest[key] = value
        return {key for key, value in latest.items() if value is not None and match(key)}

    def tombstone(self, topic_name, key):
        self._maybe_fail("tombstone")
        self.journal.append(("tombstone", topic_name, key))
        self.pending.append((topic_name, key, None))

    def flush(self):
        self._maybe_fail("flush")
        self.journal.append(("flush",))
        self.records += self.pending
        self.pending = []


class JournalKeyStore(LocalKeyStore):
    journal: list

    def destroy(self, subject):
        self.journal.append(("destroy",))
        return super().destroy(subject)


@pytest.fixture
def journal() -> list:
    return []


@pytest.fixture
def store(tmp_path, journal) -> JournalKeyStore:
    s = JournalKeyStore.in_dir(tmp_path / "keys")
    s.journal = journal
    return s


def seeded(journal, fail_at=None) -> MemoryLog:
    log = MemoryLog(journal, fail_at)
    for subject in (SHOP, OTHER_SHOP, "shopee:22014587", "lazada:220145871"):
        log.records += [
            ("consent.events", f"{subject}|SHOP_DATA_CONNECTION|shopee", b"granted"),
            ("consent.events", f"{subject}|MARKETING_CONTACT|", b"granted"),
            ("audience.marketing", subject, b"member"),
            ("audience.service", subject, b"member"),
            ("redacted.shops", subject, b"shop"),
            ("connector.checkpoints", f"{subject}:orders", b"cursor"),
            ("connector.checkpoints", f"{subject}:products", b"cursor"),
        ]
    log.records += [
        ("audience.marketing", SHOP, None),  # SHOP opted out: already tombstoned, nothing to do there
        ("consent.events", f"{BUYER}|ANALYTICS|", b"granted"),
        ("consent.events", f"{BUYER}b|ANALYTICS|", b"granted"),
        ("raw.orders", SHOP, b"order"),  # not compacted: only the key destruction reaches it
    ]
    return log


def make_eraser(store, log, receipts: list, journal: list) -> Eraser:
    def publish(receipt):
        journal.append(("receipt",))
        receipts.append(receipt)

    return Eraser(store, log, publish, lambda s: "ps_" + format(abs(hash(("salt", s))), "032x")[:32])


def request(subject_id: str = SHOP, subject_type: str = "SHOP") -> dict:
    return {"request_id": "req-1", "subject_type": subject_type, "subject_id": subject_id,
            "requested_by": "support.agent", "reference": "TICKET-42", "requested_time": T0}


# ---------------------------------------------------------------- crypto-shredding
def test_when_erased_then_every_ciphertext_of_the_subject_is_destroyed_and_others_still_open(store, journal):
    mine = [store.seal(SHOP, f"contact {i}".encode()) for i in range(3)]
    theirs = store.seal(OTHER_SHOP, b"other contact")
    receipt = make_eraser(store, seeded(journal), [], journal).erase(request())
    assert receipt["data_key_destroyed"] is True
    for ciphertext in mine:
        with pytest.raises(KeyDestroyed):
            store.open(None, ciphertext)
    assert store.open(OTHER_SHOP, theirs) == b"other contact"


# ---------------------------------------------------------------- tombstones
@pytest.mark.parametrize("subject_id, subject_type, expected", [
    (SHOP, "SHOP", {
        ("consent.events", f"{SHOP}|SHOP_DATA_CONNECTION|shopee"), ("consent.events", f"{SHOP}|MARKETING_CONTACT|"),
        ("audience.service", SHOP), ("redacted.shops", SHOP),
        ("connector.checkpoints", f"{SHOP}:orders"), ("connector.checkpoints", f"{SHOP}:products")}),
    ("shopee:22014587", "SHOP", {  # a prefix of SHOP's id: SHOP's keys stay
        ("consent.events", "shopee:22014587|SHOP_DATA_CONNECTION|shopee"),
        ("consent.events", "shopee:22014587|MARKETING_CONTACT|"), ("audience.marketing", "shopee:22014587"),
        ("audience.service", "shopee:22014587"), ("redacted.shops", "shopee:22014587"),
        ("connector.checkpoints", "shopee:22014587:orders"), ("connector.checkpoints", "shopee:22014587:products")}),
    (BUYER, "BUYER", {("consent.events", f"{BUYER}|ANALYTICS|")}),
    ("shopee:999", "SHOP", set()),  # unknown subject: nothing to tombstone, no error
])
def test_when_erased_then_exactly_the_subjects_live_keys_are_tombstoned(store, journal, subject_id, subject_type,
                                                                        expected):
    log = seeded(journal)
    receipt = make_eraser(store, log, [], journal).erase(request(subject_id, subject_type))
    tombstoned = {(name, key) for step, *rest in journal if step == "tombstone" for name, key in [rest]}
    assert tombstoned == expected
    counts = {t["topic"]: t["count"] for t in receipt["tombstones"]}
    assert counts == {name: sum(1 for t, _ in expected if t == name) for name, _ in TOPICS_BY_SUBJECT_TYPE[subject_type]}


def test_when_erased_then_no_live_key_of_the_subject_is_left_and_other_subjects_keep_theirs(store, journal):
    log = seeded(journal)
    before = {name: log.live_keys(name, lambda k: True) for name, _ in TOPICS_BY_SUBJECT_TYPE["SHOP"]}
    make_eraser(store, log, [], journal).erase(request())
    for match in SubjectKeys("SHOP", SHOP).matches:
        assert log.live_keys(match.topic, match) == set()
        assert log.live_keys(match.topic, lambda k: not match(k)) == {k for k in before[match.topic] if not match(k)}


@pytest.mark.parametrize("layout, key, subject_id, matches", [
    ("subject", "shopee:12", "shopee:12", True),
    ("subject", "shopee:123", "shopee:12", False),
    ("subject|purpose|scope", "shopee:12|MARKETING_CONTACT|", "shopee:12", True),
    ("subject|purpose|scope", "shopee:123|MARKETING_CONTACT|", "shopee:12", False),
    ("subject|purpose|scope", "shopee:12", "shopee:12", True),  # a bare subject key is still the subject's
    ("subject:stream", "shopee:12:orders", "shopee:12", True),
    ("subject:stream", "shopee:123:orders", "shopee:12", False),
    ("subject:stream", "shopee:12", "shopee:12", False),  # that is shop "shopee" stream "12", not ours
])
def test_when_a_key_is_matched_then_only_the_subjects_own_keys_match(layout, key, subject_id, matches):
    assert KeyMatch("t", subject_id, layout)(key) is matches


def test_when_the_catalog_has_a_compacted_subject_keyed_topic_then_shop_erasure_covers_it():
    covered = {name for name, _ in TOPICS_BY_SUBJECT_TYPE["SHOP"]}
    not_personal = {"analytics.aggregates"}  # anonymised statistics, keyed by cell
    assert covered == {t.name for t in CATALOG if t.cleanup == "compact"} - not_personal
    for kind, entries in TOPICS_BY_SUBJECT_TYPE.items():
        for name, layout in entries:
            assert topic(name).cleanup == "compact"
            assert topic(name).key.replace("marketplace:shop_id", "subject") == layout, name


# ---------------------------------------------------------------- the receipt
def test_when_erased_then_the_receipt_is_valid_avro_and_names_no_one(store, journal):
    receipts = []
    receipt = make_eraser(store, seeded(journal), receipts, journal).erase(request())
    assert receipts == [receipt]
    encoded = default_registry().encode(RECEIPT_SCHEMA, receipt)
    shop_id = SHOP.split(":")[1]
    for blob in (encoded, json.dumps(receipt, default=str).encode()):
        assert shop_id.encode() not in blob and b"TICKET-42" not in blob and b"support.agent" not in blob
    assert receipt["subject_pseudonym"].startswith("ps_") and receipt["request_id"] == "req-1"
    assert receipt["requested_time"] == T0 and receipt["completed_time"] >= T0


def test_when_erased_twice_then_the_second_receipt_says_nothing_was_left(store, journal):
    store.seal(SHOP, b"contact")
    eraser = make_eraser(store, seeded(journal), [], journal)
    first, second = eraser.erase(request()), eraser.erase(request())
    assert first["data_key_destroyed"] is True and sum(t["count"] for t in first["tombstones"]) == 6
    assert second["data_key_destroyed"] is False and all(t["count"] == 0 for t in second["tombstones"])
    assert second["subject_pseudonym"] == first["subject_pseudonym"] and second["receipt_id"] != first["receipt_id"]


# ---------------------------------------------------------------- order and failures
def test_when_erased_then_the_key_is_destroyed_before_any_tombstone_and_the_receipt_comes_last(store, journal):
    store.seal(SHOP, b"x")
    make_eraser(store, seeded(journal), [], journal).erase(request())
    steps = [entry[0] for entry in journal]
    assert steps[0] == "destroy" and steps[-2:] == ["flush", "receipt"]
    assert set(steps[1:-2]) == {"tombstone"} and len(steps) == 9


@pytest.mark.parametrize("fail_at", ["live_keys", "tombstone", "flush"])
def test_when_the_log_fails_then_the_key_is_still_destroyed_no_receipt_and_a_clear_error(store, journal, fail_at):
    sealed = store.seal(SHOP, b"contact")
    receipts = []
    with pytest.raises(ErasureIncomplete) as caught:
        make_eraser(store, seeded(journal, fail_at=fail_at), receipts, journal).erase(request())
    message = str(caught.value)
    assert "data key" in message and "destroyed" in message and "run the erasure again" in message
    assert "TimeoutError" in message and SHOP.split(":")[1] not in message
    assert receipts == []
    with pytest.raises(KeyDestroyed):
        store.open(None, sealed)


def test_when_the_receipt_cannot_be_published_then_the_error_says_to_run_again(store, journal):
    def refuse(receipt):
        raise ConnectionError("no broker")

    eraser = Eraser(store, seeded(journal), refuse, lambda s: "ps_" + "0" * 32)
    with pytest.raises(ErasureIncomplete, match="receipt was not published"):
        eraser.erase(request())


@pytest.mark.parametrize("subject_id, subject_type", [
    ("shopee:12|MARKETING_CONTACT", "SHOP"), ("shopee:12:orders", "SHOP"), ("amazon:12", "SHOP"),
    ("shopee:", "SHOP"), ("Shopee:12", "SHOP"), ("shopee:12 ", "SHOP"), ("lan.nguyen.shop@gmail.com", "SHOP"),
    ("ps_xyz", "BUYER"), ("shopee:12", "BUYER"), ("ps_" + "A1" * 16, "BUYER"),
    ("a|b", "SELLER_ACCOUNT"), ("", "SELLER_ACCOUNT"), (SHOP, "PERSON"), (None, "SHOP"),
])
def test_when_the_subject_is_malformed_then_nothing_is_destroyed_and_the_error_does_not_repeat_it(
        store, journal, subject_id, subject_type):
    sealed = store.seal(SHOP, b"contact")
    with pytest.raises(InvalidErasureRequest) as caught:
        make_eraser(store, seeded(journal), [], journal).erase(request(subject_id, subject_type))
    assert journal == [] and store.open(SHOP, sealed) == b"contact"
    assert not subject_id or subject_id not in str(caught.value)


@pytest.mark.parametrize("subject_id, expected", [
    (SHOP, "SHOP"), ("tiktok_shop:7494012345678901234", "SHOP"), ("amazon:1", "SHOP"), (BUYER, "BUYER"),
    ("ps_short", "BUYER"), ("acct-42", None),
])
def test_when_a_subject_type_is_guessed_then_colon_means_shop_and_ps_means_buyer(subject_id, expected):
    assert guess_subject_type(subject_id) == expected


# ---------------------------------------------------------------- the worker's entry point
def test_when_a_request_record_arrives_as_avro_then_it_is_carried_out(store, journal):
    sealed = store.seal(SHOP, b"contact")
    value = default_registry().encode(REQUEST_SCHEMA, request())
    receipt = make_eraser(store, seeded(journal), [], journal).handle_request(value)
    assert receipt["data_key_destroyed"] is True
    with pytest.raises(KeyDestroyed):
        store.open(None, sealed)


def test_when_a_record_of_another_schema_arrives_then_it_is_refused_before_anything(store, journal):
    value = default_registry().encode(RECEIPT_SCHEMA, make_eraser(store, seeded(journal), [], journal).erase(request()))
    journal.clear()
    with pytest.raises(InvalidErasureRequest):
        make_eraser(store, seeded(journal), [], journal).handle_request(value)
    assert journal == []


@pytest.mark.parametrize("headers, handled", [
    (None, False), ([], False), ([("other", b"x")], False), ([("erasure-handled-by", b"powersell-pipeline erase")], True),
    ({"erasure-handled-by": b"powersell-pipeline erase"}, True), ({"other": b"x"}, False),
])
def test_when_a_request_carries_the_handled_header_then_the_worker_knows_it_is_done(headers, handled):
    assert already_handled(headers) is handled


# ---------------------------------------------------------------- the command
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="powersell-pipeline")
    erasure_commands.add_commands(p.add_subparsers(dest="command"))
    return p


def test_when_help_is_asked_then_it_explains_crypto_shredding(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["erase", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Crypto-shredding" in text and "every copy of the subject's personal data becomes unreadable" in text
    for said in ("DESTROYED", "raw records, dead letters", "TOMBSTONED", "STILL EXISTS until each topic's retention"):
        assert said in text


def test_a_receipt_says_what_became_unreadable_and_what_remains_until_retention(store, journal):
    store.seal(SHOP, b"seller@example.com")
    receipt = make_eraser(store, seeded(journal), [], journal).erase(request())
    assert receipt["data_key_destroyed"]
    assert any("raw.shops" in line for line in receipt["unreadable"])
    assert any("ops.dead-letters" in line for line in receipt["unreadable"])
    assert any("until their retention ends" in line for line in receipt["remaining"])
    default_registry().encode("com.powersell.pipeline.privacy.ErasureReceipt", receipt)


@pytest.mark.parametrize("argv", [
    ["erase", "acct-42", "--reference", "T-1", "--yes"],            # not a shop nor a buyer, no --subject-type
    ["erase", "amazon:12", "--reference", "T-1", "--yes"],
    ["erase", "ps_nothex", "--reference", "T-1", "--yes"],
    ["erase", "shopee:12", "--subject-type", "buyer", "--reference", "T-1", "--yes"],
])
def test_when_the_subject_is_malformed_then_the_command_fails_before_kafka_with_a_pipeline_error(argv, tmp_path):
    args = parser().parse_args(argv)
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    with pytest.raises(InvalidErasureRequest) as caught:
        args.func(args, settings)
    assert isinstance(caught.value, PipelineError)  # cli.main prints it on one line and exits 2
    assert argv[1] not in str(caught.value)


def test_when_not_on_a_terminal_and_without_yes_then_nothing_is_erased(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    args = parser().parse_args(["erase", SHOP, "--reference", "T-1"])
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    with pytest.raises(erasure_commands.NotConfirmed, match="--yes"):
        args.func(args, settings)


def test_when_a_receipt_is_summarised_then_it_counts_and_names_only_the_pseudonym():
    receipt = {"subject_type": "SHOP", "subject_pseudonym": "ps_" + "b" * 32, "data_key_destroyed": True,
               "tombstones": [{"topic": "consent.events", "count": 2}, {"topic": "audience.marketing", "count": 0}]}
    assert erasure_commands.summary(receipt) == (f"erased SHOP ps_{'b' * 32}: data key destroyed; "
                                                 "2 key(s) tombstoned (consent.events 2)")


def test_when_subjects_are_pseudonymised_then_the_pseudonym_is_keyed_stable_and_distinct(monkeypatch, tmp_path):
    monkeypatch.delenv("POWERSELL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("POWERSELL_PSEUDONYM_KEY_FILE", raising=False)
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)})
    of = erasure_commands.subject_pseudonym(settings)
    assert of(SHOP) == erasure_commands.subject_pseudonym(settings)(SHOP) != of(OTHER_SHOP)
    assert of(SHOP).startswith("ps_") and SHOP.split(":")[1] not in of(SHOP)
    other_dir = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path / "elsewhere")})
    assert erasure_commands.subject_pseudonym(other_dir)(SHOP) != of(SHOP)  # another key, another pseudonym


def test_when_there_is_no_key_store_then_the_command_stops_before_anything_is_sent(monkeypatch, tmp_path):
    monkeypatch.setenv("POWERSELL_KEYSTORE_DIR", str(tmp_path / "no-store-here"))
    args = parser().parse_args(["erase", SHOP, "--reference", "T-1", "--yes"])
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    with pytest.raises(PipelineError, match="no key store"):
        args.func(args, settings)
    assert not (tmp_path / "no-store-here" / "master-keys.json").exists()  # and no new, empty one was made
