"""Erasure reaches every copy, on real Kafka with a real connector and the real privacy worker.

A simulated marketplace is synced by the connector (which seals every personal field), the
worker redacts, shares with a partner and builds audiences; then a shop and a buyer (of
another shop) are erased with `powersell-pipeline erase`. The test proves that
- no personal value of either is readable in clear in ANY topic this test wrote to (raw,
  dead letters, redacted, partner, audiences, Faust changelogs, ...), before or after;
- with the key store, every raw record, dead letter and audience ciphertext of either is
  unreadable after the erasure, while every other subject's records still open;
- the worker, given an erased buyer's order again, filters it (subject_erased) and goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

from connectors.base import DeadPayload, Stream
from connectors.runner import SyncReport
from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, admin_client, end_offsets, read_since
from pipeline_core.keystore import KeyDestroyed, LocalKeyStore
from pipeline_core.pseudonyms import pipeline_pseudonym_key
from pipeline_core.sealing import RecordSealer, SubjectErased
from pipeline_core.security import OPERATOR, principal_env
from pipeline_core.settings import Settings
from pipeline_core.topics import shop_key
from tests.consent_helpers import LONG_AGO, change
from tests.integration.connector_rig import Rig
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka
RAW = ("raw.shops", "raw.products", "raw.orders")


def all_topics(kafka) -> tuple[str, ...]:
    admin = admin_client(kafka)
    try:
        return tuple(sorted(t for t in admin.list_topics() if not t.startswith("__")))
    finally:
        admin.close()


def everything_since(kafka, start):
    """Every record of every topic since the offsets in start (0 for partitions created since)."""
    now = end_offsets(kafka, all_topics(kafka))
    return read_since(kafka, {tp: start.get(tp, 0) for tp in now})


def needles(values) -> set[str]:
    return {v for v in values if isinstance(v, str) and len(v) >= 6}


def contact_values(contact) -> list:
    if not contact:
        return []
    address = contact.get("address") or {}
    return [contact.get("name"), contact.get("seller_name"), contact.get("email"), contact.get("phone"),
            contact.get("phone2"), address.get("full_address"), *(address.get("address_lines") or [])]


@pytest.fixture
def rig(kafka, tmp_path, monkeypatch):
    for name in ("POWERSELL_KEYSTORE_DIR", "POWERSELL_PSEUDONYM_KEY", "POWERSELL_PSEUDONYM_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)  # the connector, the worker and `erase` share the rig's data dir
    the_rig = Rig(kafka, tmp_path, "lazada")  # Lazada gives the seller's contact details
    yield the_rig
    the_rig.close()


def start_privacy_worker(kafka, data_dir):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(data_dir), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, "privacy-worker")}
    return start_worker(env, "worker", "redaction", log_path=data_dir / "worker.log")


def erase(kafka, data_dir, subject):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(data_dir), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           **principal_env(kafka, OPERATOR)}
    done = subprocess.run([sys.executable, "-m", "powersell.cli", "erase", subject, "--reference", "TICKET-19",
                           "--yes"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_when_a_shop_and_a_buyer_are_erased_then_no_copy_of_their_personal_data_is_readable_anywhere(kafka, rig):
    registry = default_registry()
    data_dir = rig.settings.data_dir
    start = end_offsets(kafka, all_topics(kafka))
    shops = [shop_key("LAZADA", sid) for sid in rig.truth()["shops"]]
    publisher = AvroPublisher(kafka, client_id="sealed-erasure-test")
    worker = start_privacy_worker(kafka, data_dir)
    try:
        for shop in shops:  # sharing with swiftship and marketing contact, so partner and audience copies exist
            for purpose, scope in (("THIRD_PARTY_SHARING", "swiftship"), ("MARKETING_CONTACT", None)):
                publisher.send("consent.events", *change(shop, "GRANTED", LONG_AGO, purpose, scope)).get(timeout=30)
        rig.authorise()
        rig.service.run_once()
        erased_shop = shops[0]
        body = json.dumps({"shop_id": erased_shop, "seller": "payload the connector could not map"}).encode()
        rig.connector.syncer.dead_letter(DeadPayload(Stream.SHOP, "missing_field", "test", body),
                                         SyncReport(erased_shop.split(":")[1]))
        rig.publisher.flush()

        seen: dict[str, object] = {}

        def outputs():
            assert worker.poll() is None, f"the worker stopped: see {data_dir / 'worker.log'}"
            got = everything_since(kafka, start)
            seen["redacted"] = {k.decode() for t, k, v, _ in got if t == "redacted.orders" and k} & set(shops)
            seen["marketing"] = {k.decode() for t, k, v, _ in got if t == "audience.marketing" and k and v}
            seen["partner"] = sum(1 for t, *_ in got if t == "partner.swiftship")
            seen["raw"] = sorted({(t, k.decode()) for t, k, v, _ in got if t in RAW and k})
            seen["dead"] = sorted({(registry.decode(v)[1]["stage"], registry.decode(v)[1]["reason_code"])
                                   for t, k, v, _ in got if t == "ops.dead-letters" and v})
            return seen["redacted"] == set(shops) and seen["marketing"] >= set(shops) and seen["partner"]
        try:
            wait_for(outputs, 240)
        except AssertionError:
            raise AssertionError(f"the worker's outputs are incomplete: {seen}") from None

        # ---- what each subject's personal data is (opened with the keys, before the erasure)
        sealer = rig.connector.syncer.sealer
        raw = [(t, k.decode(), v, rec) for t, k, v, rec in everything_since(kafka, start) if t in RAW and v]
        opened = [(t, k, v, rec, *registry.decode(v)) for t, k, v, rec in raw]
        opened = [(t, k, v, rec, name, sealer.open(name, record)) for t, k, v, rec, name, record in opened]
        buyers = defaultdict(list)  # buyer subject -> raw orders
        for t, k, v, rec, name, record in opened:
            if t == "raw.orders" and (record["buyer"] or {}).get("buyer_user_id"):
                buyers[sealer.subjects(name, record)["buyer"]].append((k, v, record))
        erased_buyer = next(b for b, orders in buyers.items() if all(k != erased_shop for k, _, _ in orders))
        shop_secrets = needles(value for t, k, v, rec, name, record in opened if t == "raw.shops" and k == erased_shop
                               for value in contact_values(record["seller"]))
        buyer_secrets = needles(value for _, _, record in buyers[erased_buyer]
                                for value in [record["buyer"]["buyer_username"], record["buyer"]["buyer_email"],
                                              *contact_values(record["recipient"]), *contact_values(record["billing"])])
        assert shop_secrets and buyer_secrets

        # ---- erase both
        shop_receipt, buyer_receipt = erase(kafka, data_dir, erased_shop), erase(kafka, data_dir, erased_buyer)
        assert shop_receipt["data_key_destroyed"] and buyer_receipt["data_key_destroyed"]

        # ---- the worker, given an erased buyer's order again, filters it and carries on
        k, v, record = buyers[erased_buyer][0]
        other = next((o for b, orders in buyers.items() if b != erased_buyer for o in orders if o[0] == k), None)
        replay_from = end_offsets(kafka, ("redacted.orders",))
        publisher.producer.send("raw.orders", key=k.encode(), value=v).get(timeout=30)  # the same bytes again
        if other is not None:
            publisher.producer.send("raw.orders", key=other[0].encode(), value=other[1]).get(timeout=30)
            wait_for(lambda: any(registry.decode(val)[1]["event_id"] == other[2]["event_id"]
                                 for t, _, val, _ in read_since(kafka, replay_from) if val), 120)
            replayed = {registry.decode(val)[1]["event_id"] for t, _, val, _ in read_since(kafka, replay_from) if val}
            assert record["event_id"] not in replayed
        assert worker.poll() is None
    finally:
        publisher.close()
        stop_worker(worker)

    # ---- 1. no plaintext of either subject in any topic this test wrote to
    everything = everything_since(kafka, start)
    assert {t for t, *_ in everything} >= {*RAW, "ops.dead-letters", "redacted.orders", "partner.swiftship",
                                           "audience.marketing", "consent.events"}
    for topic_name, key, value, _ in everything:
        for blob in (key or b"", value or b""):
            for secret in shop_secrets | buyer_secrets:
                assert secret.encode("utf-8") not in blob, f"a personal value is readable in clear on {topic_name}"

    # ---- 2. with the keys: nothing of the erased subjects opens, everything of the others still does
    fresh = RecordSealer(LocalKeyStore.in_dir(data_dir / "keys" / "keystore"), pipeline_pseudonym_key(data_dir),
                         registry)
    erased_orders = {v for _, v, _ in buyers[erased_buyer]}
    opened_others = 0
    for t, k, v, rec, name, before in opened:
        if k == erased_shop or v in erased_orders:
            with pytest.raises(SubjectErased):
                fresh.open(name, registry.decode(v)[1])
        else:
            assert fresh.open(name, registry.decode(v)[1]) == before
            opened_others += 1
    assert opened_others > 0
    dead = [registry.decode(v)[1] for t, k, v, _ in everything if t == "ops.dead-letters" and v]
    sealed_bodies = [d["original_value"] for d in dead if d["stage"] == "connector.lazada" and d["original_value"]]
    assert sealed_bodies
    for body in sealed_bodies:
        with pytest.raises(KeyDestroyed):
            fresh.keystore.open(None, body)
    audience = [(k.decode(), registry.decode(v)[1]) for t, k, v, _ in everything
                if t.startswith("audience.") and k and v]
    assert {k for k, _ in audience} >= set(shops)
    for subject, member in audience:
        if subject == erased_shop:  # no contact details left, or ones nobody can open
            if member["email_ciphertext"] is not None:
                with pytest.raises(KeyDestroyed):
                    fresh.keystore.open(subject, member["email_ciphertext"])
        elif member.get("email_ciphertext"):
            assert b"@" in fresh.keystore.open(subject, member["email_ciphertext"])
