"""Consent scenarios on real Kafka with the real privacy worker (faust-streaming, a subprocess):
each timeline checks exactly which events reach which topic. Shop ids are unique per run:
the broker is shared with other tests."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.kafka_io import AvroPublisher, partition_for
from pipeline_core.kafka_io import read_since as read_records
from pipeline_core.sample_events import sample_events
from pipeline_core.settings import Settings
from pipeline_core.topics import CATALOG, shop_key, topic
from schemas import event_id
from pipeline_core.keystore import KeyDestroyed
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from tests.consent_helpers import LONG_AGO, change
from tests.integration.connector_rig import end_offsets
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka
OUTPUTS = tuple(t.name for t in CATALOG if t.name.startswith(("redacted.", "partner.", "audience.", "privacy.")))
T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
WORKERS: list[subprocess.Popen] = []
TEMPLATES = {name: record for name, _, record in reversed(sample_events())}


@pytest.fixture(scope="module")
def worker_env(kafka, tmp_path_factory):
    data = tmp_path_factory.mktemp("privacy-worker")
    # the operator's identity for the commands (erase, keys); the worker gets its own below
    return {**os.environ, "POWERSELL_DATA_DIR": str(data), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, OPERATOR)}


@pytest.fixture(scope="module")
def worker(worker_env, kafka):
    proc = start_worker({**worker_env, **principal_env(kafka, "privacy-worker")}, "worker", "redaction",
                        log_path=os.path.join(worker_env["POWERSELL_DATA_DIR"], "worker.log"))
    WORKERS.append(proc)
    try:  # a failed warm-up must not leave the worker holding the redactor's group for later tests
        warm_up(kafka)
        yield proc
    finally:
        WORKERS.remove(proc)
        stop_worker(proc)


def warm_up(kafka) -> None:
    """Wait until the worker has decided a record (a fresh shop's grant and order) instead of racing its start.
    The product no longer skips consent written at start-up (test_worker_faults_kafka covers that window);
    the scenarios below measure consent semantics, not start-up time."""
    shop = new_shop()
    p = AvroPublisher(kafka, client_id="consent-warm-up")
    try:
        since = end_offsets(kafka, OUTPUTS)
        publish(p, grant(shop), event("raw.orders", shop, 1))
    finally:
        p.close()
    outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", shop))


@pytest.fixture
def publisher(kafka):
    p = AvroPublisher(kafka, client_id="consent-scenarios")
    yield p
    p.close()


def new_shop(marketplace: str = "shopee") -> str:
    return shop_key(marketplace, f"7{uuid.uuid4().int % 10**9:09d}")


def event(topic_name: str, subject: str, seconds: float) -> tuple[str, str, dict]:
    """A raw event of `subject` stamped T0 + seconds."""
    marketplace, shop_id = subject.split(":")
    stamp = T0 + timedelta(seconds=seconds)
    record = copy.deepcopy(dict(TEMPLATES[topic_name], marketplace=marketplace.upper(), shop_id=shop_id,
                                event_time=stamp))
    record["event_id"] = event_id(marketplace, topic_name, f"{shop_id}-{seconds}", int(stamp.timestamp() * 1000))
    return topic_name, subject, record


def sibling(subject: str) -> str:
    """Another new shop whose records land in the same partition: its event, published last, marks that every
    earlier record of `subject` was decided (a partition is processed in order)."""
    want = partition_for(topic("raw.orders"), subject)
    while partition_for(topic("raw.orders"), candidate := new_shop(subject.split(":")[0])) != want:
        pass
    return candidate


def publish(publisher, *items) -> None:
    for item in items:
        if item[0] == "consent.events":
            publisher.send("consent.events", item[1], item[2]).get(timeout=30)
        else:
            publisher.send(*item).get(timeout=30)


def grant(subject, seconds=None, purpose="SHOP_DATA_CONNECTION", scope=None, status="GRANTED", subject_type="SHOP"):
    when = LONG_AGO if seconds is None else T0 + timedelta(seconds=seconds)
    return ("consent.events", *change(subject, status, when, purpose, scope, subject_type))


def outputs_after(kafka, since, until):
    """Decoded records on the output topics since `since`, once `until(records)` holds."""
    registry = default_registry()
    got = []

    def ready():
        assert all(w.poll() is None for w in WORKERS), "the worker stopped: see worker.log in its data dir"
        got[:] = [(t, k.decode() if k else None, None if v is None else registry.decode(v)[1])
                  for t, k, v, _ in read_records(kafka, since)]
        return until(got)
    wait_for(ready, 120)
    return got


def ids(records, topic_name, subject=None):
    return {r["event_id"] for t, k, r in records if t == topic_name and r is not None and (subject is None or k == subject)}


def test_grant_events_withdraw_events_regrant(kafka, worker, publisher):
    shop, marker = new_shop(), None
    marker = sibling(shop)
    timeline = [grant(shop, 0), grant(shop, 100, status="WITHDRAWN"), grant(shop, 200), grant(marker)]
    events = [event("raw.orders", shop, s) for s in (10, 50, 99, 100, 101, 150, 199, 201, 250)]
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, *timeline, *events, ("raw.orders", marker, event("raw.orders", marker, 1)[2]))
    got = outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", marker))
    passed = {rec["event_id"] for _, _, rec in events} & ids(got, "redacted.orders", shop)
    expected = {rec["event_id"] for _, _, rec in events if (rec["event_time"] - T0).total_seconds() in (10, 50, 99, 201, 250)}
    assert passed == expected and ids(got, "redacted.orders", shop) == expected


def test_an_unknown_shop_is_denied_by_default(kafka, worker, publisher):
    shop = new_shop("lazada")
    marker = sibling(shop)
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(marker), *[event(t, shop, 5) for t in ("raw.shops", "raw.products", "raw.orders")],
            event("raw.orders", marker, 1))
    got = outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", marker))
    assert [r for r in got if r[1] == shop] == []


def test_a_withdrawal_racing_events_in_flight_never_lets_a_later_event_through(kafka, worker, publisher):
    shop = new_shop("tiktok_shop")
    marker = sibling(shop)
    publish(publisher, grant(shop), grant(marker))
    since = end_offsets(kafka, OUTPUTS)
    # the withdrawal is written first, the events right after it without waiting: both are in flight together
    publisher.send("consent.events", *grant(shop, 300, status="WITHDRAWN")[1:]).get(timeout=30)
    events = [event("raw.orders", shop, s) for s in range(0, 600, 3)]
    futures = [publisher.send(*e) for e in events] + [publisher.send(*event("raw.orders", marker, 1))]
    for f in futures:
        f.get(timeout=30)
    got = outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", marker))
    passed = ids(got, "redacted.orders", shop)
    assert passed == {rec["event_id"] for _, _, rec in events if rec["event_time"] < T0 + timedelta(seconds=300)}


def test_marketing_opt_out_keeps_service_announcements_and_buyers_never_join(kafka, worker, publisher):
    shop, buyer = new_shop(), f"ps_{uuid.uuid4().hex[:20]}"
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(shop), grant(shop, 0, "MARKETING_CONTACT"),
            grant(buyer, 0, "MARKETING_CONTACT", subject_type="BUYER"), event("raw.shops", shop, 10))

    def members(records, topic_name):
        latest = {}
        for t, k, r in records:
            if t == topic_name and k in (shop, buyer):
                latest[k] = r
        return {k for k, r in latest.items() if r is not None}

    got = outputs_after(kafka, since, lambda r: members(r, "audience.marketing") == {shop}
                        and members(r, "audience.service") == {shop})
    member = next(r for t, k, r in got if t == "audience.marketing" and k == shop)
    assert member["email_ciphertext"] and member["audience"] == "MARKETING"
    publish(publisher, grant(shop, 60, "MARKETING_CONTACT", status="WITHDRAWN"))
    got = outputs_after(kafka, since, lambda r: members(r, "audience.marketing") == set())
    assert members(got, "audience.service") == {shop}          # still receives service announcements
    assert all(k != buyer for _, k, _ in got)                   # a buyer is in no audience


def test_a_partner_gets_only_the_authorising_shops_allow_listed_fields(kafka, worker, publisher):
    import json

    from streams.sharing import load_partners
    swiftship = next(p for p in load_partners() if p.name == "swiftship")
    authorising, other = new_shop(), new_shop()
    marker = sibling(other)
    events = [event("raw.orders", s, n) for s in (authorising, other) for n in (10, 20, 30)]
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(authorising), grant(other), grant(marker), grant(authorising, 0, "THIRD_PARTY_SHARING", "swiftship"),
            grant(other, 0, "THIRD_PARTY_SHARING", "marketlens"), *events, event("raw.orders", marker, 1))
    got = outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", marker)
                        and len(ids(r, "partner.swiftship")) >= 3)
    shared = [r for t, _, r in got if t == "partner.swiftship"]
    assert {r["event_id"] for r in shared} == {rec["event_id"] for _, s, rec in events if s == authorising}
    top_level = {path.split(".")[0] for path in swiftship.allow["redacted.orders"]}
    assert all(set(r["fields"]) == top_level for r in shared)
    assert all(json.loads(r["fields"]["shop_id"]) == authorising.split(":")[1] for r in shared)
    for r in shared:  # nested fields keep only their allow-listed parts
        assert all(set(item) == {"quantity"} for item in json.loads(r["fields"]["items"]))
        assert set(json.loads(r["fields"]["recipient"])) == {"address"}
    assert not [r for t, _, r in got if t == "partner.marketlens" and r["event_id"] in ids(got, "redacted.orders")]


def _ciphertexts(kafka, subject):
    registry = default_registry()
    since = {tp: 0 for tp in end_offsets(kafka, ("audience.marketing", "audience.service"))}
    texts = [registry.decode(v)[1]["email_ciphertext"] for _, k, v, _ in read_records(kafka, since)
             if k == subject.encode() and v is not None]
    return [t for t in texts if t is not None]  # a member without contact details has nothing to open


def _keystore(worker_env):
    from streams.key_commands import open_keystore
    return open_keystore(Settings.from_env(worker_env))


def test_erasure_makes_every_ciphertext_of_the_subject_undecryptable_and_others_still_open(kafka, worker, worker_env,
                                                                                             publisher):
    erased, kept = new_shop(), new_shop()
    since = end_offsets(kafka, OUTPUTS)
    for shop in (erased, kept):
        publish(publisher, grant(shop), grant(shop, 0, "MARKETING_CONTACT"), event("raw.shops", shop, 5), event("raw.shops", shop, 6))
    outputs_after(kafka, since, lambda r: {k for t, k, v in r if t == "audience.marketing" and v} >= {erased, kept})
    since = end_offsets(kafka, OUTPUTS)
    result = subprocess.run([sys.executable, "-m", "powersell.cli", "erase", erased, "--reference", "TICKET-1", "--yes"],
                            env=worker_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    keystore = _keystore(worker_env)
    erased_texts, kept_texts = _ciphertexts(kafka, erased), _ciphertexts(kafka, kept)
    assert len(erased_texts) >= 2 and len(kept_texts) >= 2
    for ciphertext in erased_texts:
        with pytest.raises(KeyDestroyed):
            keystore.open(erased, ciphertext)
    assert {keystore.open(kept, c) for c in kept_texts} == {TEMPLATES["raw.shops"]["seller"]["email"].encode()}
    # consent is gone (tombstones): the erased shop's new events are denied by default
    marker = sibling(erased)
    publish(publisher, grant(marker), event("raw.orders", erased, 50), event("raw.orders", marker, 1))
    got = outputs_after(kafka, since, lambda r: ids(r, "redacted.orders", marker))
    assert not ids(got, "redacted.orders", erased)
    assert {(t, k) for t, k, v in got if t.startswith("audience.") and v is None} >= {
        ("audience.marketing", erased), ("audience.service", erased)}
    [receipt] = [r for t, _, r in got if t == "privacy.erasure-receipts"]
    assert receipt["data_key_destroyed"] and erased.split(":")[1] not in str(receipt)


def test_master_key_rotation_keeps_data_written_before_and_after_readable(kafka, worker, worker_env, publisher):
    shop = new_shop()
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(shop), grant(shop, 0, "MARKETING_CONTACT"), event("raw.shops", shop, 5))
    outputs_after(kafka, since, lambda r: any(t == "audience.marketing" and k == shop and v for t, k, v in r))
    result = subprocess.run([sys.executable, "-m", "powersell.cli", "keys", "rotate-master"], env=worker_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    publish(publisher, event("raw.shops", shop, 6))   # sealed by the running worker after the rotation
    outputs_after(kafka, since, lambda r: sum(1 for t, k, v in r if t == "audience.marketing" and k == shop and v) >= 2)
    texts = _ciphertexts(kafka, shop)
    keystore = _keystore(worker_env)
    assert worker.poll() is None   # no downtime: the worker never stopped
    assert len(texts) >= 2
    assert {keystore.open(shop, c) for c in texts} == {TEMPLATES["raw.shops"]["seller"]["email"].encode()}


def test_an_erasure_request_event_is_carried_out_by_the_worker(kafka, worker, worker_env, publisher):
    shop = new_shop()
    since = end_offsets(kafka, OUTPUTS)
    publish(publisher, grant(shop), grant(shop, 0, "MARKETING_CONTACT"), event("raw.shops", shop, 5))
    outputs_after(kafka, since, lambda r: {t for t, k, v in r if t.startswith("audience.") and k == shop and v} == {
        "audience.marketing", "audience.service"})
    request = {"request_id": uuid.uuid4().hex, "subject_type": "SHOP", "subject_id": shop, "requested_by": "app",
               "reference": "APP-REQ-1", "requested_time": datetime.now(timezone.utc)}
    publisher.send("privacy.erasure-requests", shop, request).get(timeout=30)
    got = outputs_after(kafka, since, lambda r: any(t == "privacy.erasure-receipts" and v["request_id"] == request["request_id"]
                                                    for t, _, v in r))
    [receipt] = [v for t, _, v in got if t == "privacy.erasure-receipts" and v["request_id"] == request["request_id"]]
    assert receipt["data_key_destroyed"] and {t["topic"] for t in receipt["tombstones"] if t["count"]} >= {
        "consent.events", "redacted.shops"}
    # out of both audiences: by the eraser's tombstones or by the worker reacting to the consent tombstones first
    got = outputs_after(kafka, since, lambda r: all([v for t, k, v in r if t == topic_name and k == shop][-1:] == [None]
                                                    for topic_name in ("audience.marketing", "audience.service")))
    with pytest.raises(KeyDestroyed):
        _keystore(worker_env).open(shop, _ciphertexts(kafka, shop)[0])
