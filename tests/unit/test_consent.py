"""Consent decisions (R1, R4, R6): by event time, deny by default, withdrawal wins ties;
the connection gate in the stage, partner shares and audiences. Pure: no Kafka."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.metrics import PipelineMetrics
from pipeline_core.sample_events import sample_events
from pipeline_core.topics import shop_key
from streams.audiences import MARKETING_TOPIC, SERVICE_TOPIC, Audiences
from streams.consent import MARKETING, SHARING, ConsentBook
from streams.consent_barrier import ConsentBarrier
from pipeline_core.keystore import LocalKeyStore, SecretKey
from streams.policy import load_policy
from streams.redaction import Redactor
from streams.redaction_stage import Filtered, Redacted, RedactionStage, StageMetrics
from streams.sharing import Partner, load_partners, project, shares
from tests.consent_helpers import at, change

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SHOP = "shopee:1001"


def book_with(*changes) -> ConsentBook:
    book = ConsentBook()
    for subject, status, seconds, *rest in changes:
        book.apply(*change(subject, status, at(T0, seconds), *rest))
    return book


@pytest.mark.parametrize("changes, event_at, allowed, reason", [
    ([], 0, False, "no_consent"),                                                       # unknown shop: deny by default
    ([(SHOP, "GRANTED", 0)], 10, True, None),
    ([(SHOP, "GRANTED", 0)], -10, True, None),                                           # history before the grant
    ([(SHOP, "WITHDRAWN", 0)], -10, False, "consent_withdrawn"),                         # a first withdrawal covers nothing
    ([(SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100)], 50, True, None),                  # before the withdrawal
    ([(SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100)], 150, False, "consent_withdrawn"),
    ([(SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100)], 100, False, "consent_withdrawn"),  # at the instant: no
    ([(SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100), (SHOP, "GRANTED", 200)], 150, False, "consent_withdrawn"),
    ([(SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100), (SHOP, "GRANTED", 200)], 250, True, None),  # re-grant
    ([(SHOP, "GRANTED", 0), (SHOP, "EXPIRED", 100)], 150, False, "consent_expired"),
    ([(SHOP, "WITHDRAWN", 100), (SHOP, "GRANTED", 0)], 150, False, "consent_withdrawn"),  # arrival order is irrelevant
    ([(SHOP, "GRANTED", 100), (SHOP, "WITHDRAWN", 100)], 150, False, "consent_withdrawn"),  # tie: withdrawal wins
    ([(SHOP, "WITHDRAWN", 100), (SHOP, "GRANTED", 100)], 150, False, "consent_withdrawn"),
    ([("shopee:100", "GRANTED", 0)], 10, False, "no_consent"),                           # another shop's consent
])
def test_when_consent_changes_then_the_connection_decision_follows_event_time(changes, event_at, allowed, reason):
    decision = book_with(*changes).connection(SHOP, "shopee", at(T0, event_at))
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_when_the_grant_is_for_another_marketplace_then_the_shop_is_denied():
    book = book_with((SHOP, "GRANTED", 0, "SHOP_DATA_CONNECTION", "lazada"))
    assert not book.connection(SHOP, "shopee", at(T0, 5)).allowed


def test_when_a_change_is_reported_twice_then_it_is_applied_once():
    book = ConsentBook()
    key, record = change(SHOP, "GRANTED", T0)
    assert book.apply(key, record) is True
    assert book.apply(key, dict(record)) is False
    assert book.store[key] == [[int(T0.timestamp() * 1000), "GRANTED"]]


def test_when_a_tombstone_arrives_then_the_subject_is_denied_again():
    book = book_with((SHOP, "GRANTED", 0))
    key, _ = change(SHOP, "GRANTED", T0)
    assert book.apply(key, None) is True
    assert book.connection(SHOP, "shopee", at(T0, 10)).reason == "no_consent"


def test_the_book_store_holds_only_json_values():  # it lives in a Faust table with a JSON changelog
    book = book_with((SHOP, "GRANTED", 0), (SHOP, "WITHDRAWN", 100))
    assert json.loads(json.dumps(dict(book.store))) == dict(book.store)


# --- the stage: the connection gate before redaction -------------------------------------------------------------

def _stage(book, audiences=None, partners=()):
    registry = default_registry()
    redactor = Redactor(load_policy(), registry, pseudonym_key=SecretKey(b"k" * 32), scanner=lambda t: (t, Counter()))
    return RedactionStage(redactor, registry, StageMetrics(PipelineMetrics()), book, audiences, partners)


def _sample(topic_name):
    return next((t, k, r) for t, k, r in sample_events() if t == topic_name)


def _encoded(topic_name, record):
    from pipeline_core.topics import topic
    return default_registry().encode(topic(topic_name).value_schema, record)


def _count(the_stage, name, **labels):
    return the_stage.metrics.registry.registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("status, offset_s, expected", [
    (None, 0, Filtered("no_consent")),
    ("GRANTED", -60, Redacted),
    ("GRANTED", 60, Redacted),                        # history: read because the owner connected
    ("WITHDRAWN", -60, Filtered("consent_withdrawn")),
])
def test_when_an_event_meets_the_gate_then_it_passes_or_is_filtered_with_its_reason(status, offset_s, expected):
    topic_name, key, record = _sample("raw.orders")
    subject = shop_key(record["marketplace"], record["shop_id"])
    book = ConsentBook()
    if status:
        book.apply(*change(subject, "GRANTED", at(record["event_time"], -3600)))
        if status == "WITHDRAWN":
            book.apply(*change(subject, "WITHDRAWN", at(record["event_time"], offset_s)))
        else:
            book = ConsentBook()
            book.apply(*change(subject, "GRANTED", at(record["event_time"], offset_s)))
    stage = _stage(book)
    out = stage.process(topic_name, 0, 0, key.encode(), _encoded(topic_name, record))
    if expected is Redacted:
        assert isinstance(out, Redacted)
        assert _count(stage, "powersell_consent_decisions_total", purpose="shop_data_connection", outcome="allowed") == 1
    else:
        assert out == expected
        assert _count(stage, "powersell_records_filtered_total", stage="redactor", reason=expected.reason) == 1
        assert _count(stage, "powersell_consent_decisions_total", purpose="shop_data_connection", outcome="denied") == 1
    consumed = _count(stage, "powersell_records_consumed_total", stage="redactor", topic=topic_name)
    produced = _count(stage, "powersell_records_produced_total", stage="redactor", topic="redacted.orders")
    filtered = sum(_count(stage, "powersell_records_filtered_total", stage="redactor", reason=r)
                   for r in ("no_consent", "consent_withdrawn", "consent_expired"))
    assert consumed == produced + filtered == 1


# --- third-party sharing ------------------------------------------------------------------------------------------

def test_when_a_path_is_dotted_then_only_that_part_of_nested_records_and_arrays_is_kept():
    record = {"a": 1, "b": 2, "r": {"x": 1, "y": {"z": 3, "w": 4}}, "items": [{"q": 1, "p": 9}, {"q": 2, "p": 8}], "n": None}
    assert project(record, ("a", "r.y.z", "items.q", "n.k")) == {
        "a": 1, "r": {"y": {"z": 3}}, "items": [{"q": 1}, {"q": 2}], "n": None}


def test_the_partner_file_names_only_fields_that_exist_in_the_redacted_schemas():
    registry = default_registry()
    from pipeline_core.topics import topic

    def paths(schema, prefix=""):
        for f in schema["fields"]:
            t = f["type"]
            t = next((b for b in t if b != "null"), t) if isinstance(t, list) else t
            t = t["items"] if isinstance(t, dict) and t.get("type") == "array" else t
            yield prefix + f["name"]
            if isinstance(t, dict) and t.get("type") == "record":
                yield from paths(t, prefix + f["name"] + ".")
    for partner in load_partners():
        for topic_name, allowed in partner.allow.items():
            known = set(paths(registry.parsed(topic(topic_name).value_schema)))
            assert set(allowed) <= known, (partner.name, set(allowed) - known)


def test_when_one_shop_authorised_a_partner_then_only_its_events_reach_that_partner_with_allowed_fields():
    partner = Partner("swiftship", {"redacted.orders": ("event_id", "status", "recipient.address.province")})
    book = book_with(("shopee:1", "GRANTED", 0, SHARING, "swiftship"), ("shopee:2", "GRANTED", 0, SHARING, "marketlens"))
    redacted = {"event_id": "e1", "event_time": at(T0, 10), "policy_version": "v", "status": "PAID", "order_id": "o-1",
                "recipient": {"phone": "****123", "address": {"province": "Hà Nội", "country": "VN"}}}
    [allowed] = shares((partner,), book, "redacted.orders", "shopee:1", redacted)
    [denied] = shares((partner,), book, "redacted.orders", "shopee:2", redacted)
    assert allowed.decision.allowed and not denied.decision.allowed and denied.record is None
    assert {k: json.loads(v) for k, v in allowed.record["fields"].items()} == {
        "event_id": "e1", "status": "PAID", "recipient": {"address": {"province": "Hà Nội"}}}
    default_registry().encode("com.powersell.pipeline.partner.PartnerRecord", allowed.record)


# --- audiences ----------------------------------------------------------------------------------------------------

@pytest.fixture
def keystore(tmp_path):
    return LocalKeyStore.in_dir(tmp_path / "keys")


def _shop_record(subject):
    mp, shop_id = subject.split(":")
    return {"marketplace": mp.upper(), "shop_id": shop_id, "country": "VN",
            "seller": {"email": f"owner{shop_id}@example.vn", "phone": "+84901234567"}}


@pytest.mark.parametrize("consents, expected", [
    ([], set()),                                                                       # not a customer: nobody
    ([("GRANTED", "SHOP_DATA_CONNECTION", "shopee")], {SERVICE_TOPIC}),                 # active: service only
    ([("GRANTED", "SHOP_DATA_CONNECTION", "shopee"), ("GRANTED", MARKETING, None)], {SERVICE_TOPIC, MARKETING_TOPIC}),
    ([("GRANTED", MARKETING, None)], {MARKETING_TOPIC}),                               # opted in, not connected
])
def test_when_a_shop_is_seen_then_it_joins_the_audiences_its_consents_allow(keystore, consents, expected):
    book = book_with(*[(SHOP, status, 0, purpose, scope) for status, purpose, scope in consents])
    changes = Audiences(keystore, book, {}, "v").shop_seen(SHOP, _shop_record(SHOP))
    assert {c.topic for c in changes if c.record is not None} == expected


def test_when_marketing_is_withdrawn_then_the_shop_leaves_marketing_but_keeps_service_announcements(keystore):
    book = book_with((SHOP, "GRANTED", 0), (SHOP, "GRANTED", 0, MARKETING, None))
    audiences = Audiences(keystore, book, {}, "v")
    audiences.shop_seen(SHOP, _shop_record(SHOP))
    book.apply(*change(SHOP, "WITHDRAWN", at(T0, 100), MARKETING, None))
    changes = {c.topic: c.record for c in audiences.consent_changed(SHOP)}
    assert changes[MARKETING_TOPIC] is None                     # tombstone: out of the marketing audience
    assert changes[SERVICE_TOPIC]["audience"] == "SERVICE"      # still told about service changes


def test_a_buyer_never_joins_an_audience(keystore):
    buyer = "ps_0123456789abcdef"
    book = book_with((buyer, "GRANTED", 0, MARKETING, None, "BUYER"))
    assert Audiences(keystore, book, {}, "v").consent_changed(buyer) == []


def test_audience_contacts_are_ciphertext_for_the_shop_only(keystore):
    book = book_with((SHOP, "GRANTED", 0))
    contacts = {}
    [member] = Audiences(keystore, book, contacts, "v").shop_seen(SHOP, _shop_record(SHOP))
    assert b"owner1001" not in member.record["email_ciphertext"]
    assert "owner1001" not in json.dumps(contacts)
    assert keystore.open(SHOP, member.record["email_ciphertext"]) == b"owner1001@example.vn"
    assert keystore.open(SHOP, base64.b64decode(contacts[SHOP]["email"])) == b"owner1001@example.vn"
    default_registry().encode("com.powersell.pipeline.audience.AudienceMember", member.record)


# --- the barrier: consent already written is applied before data is decided -------------------------------------

def test_when_consent_is_behind_then_the_barrier_holds_data_until_the_consent_agent_catches_up():
    async def scenario():
        async def ends(partitions):
            return {p: 10 for p in partitions}

        async def starts(partitions):
            return {p: 4 for p in partitions}
        barrier = ConsentBarrier(ends, starts, recheck_seconds=0.05)
        waiter = asyncio.ensure_future(barrier.wait([2]))
        await asyncio.sleep(0)
        steps = []
        for offset in range(5, 11):
            await asyncio.sleep(0)
            steps.append(waiter.done())
            barrier.advanced(2, offset)
        await asyncio.wait_for(waiter, 1)
        return steps
    assert asyncio.run(scenario()) == [False] * 6


def test_when_the_consent_agent_has_nothing_to_do_then_the_barrier_opens_at_once():
    async def scenario():
        async def offsets(partitions):
            return {p: 7 for p in partitions}
        await asyncio.wait_for(ConsentBarrier(offsets, offsets).wait([0, 3]), 1)
    asyncio.run(scenario())


def test_when_the_broker_cannot_answer_then_the_barrier_holds_and_retries():
    calls = []

    async def scenario():
        async def ends(partitions):
            calls.append("ends")
            if len(calls) < 3:
                raise ConnectionError("broker away")
            return {p: 0 for p in partitions}
        await asyncio.wait_for(ConsentBarrier(ends, ends, recheck_seconds=0.01).wait([1]), 2)
    asyncio.run(scenario())
    assert calls.count("ends") >= 3
