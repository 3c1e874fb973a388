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
from streams.consent_follower import CONSENT_EVENT, ConsentFollower, read_consent
from pipeline_core.errors import DecodeError
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

class ConsentLog:
    """consent.events as a list per partition (offset = index), for the follower's reader: no broker involved."""

    def __init__(self):
        self.partitions: dict[int, list[tuple[bytes | None, bytes | None]]] = {p: [] for p in range(4)}
        self.reads: list[tuple[int, int, int | None]] = []

    def append(self, partition: int, key: str, record: dict | None) -> int:
        value = None if record is None else REGISTRY.encode(CONSENT_EVENT, record)
        self.partitions[partition].append((key.encode(), value))
        return len(self.partitions[partition]) - 1

    def change(self, partition: int, status: str, seconds: float, subject: str = SHOP) -> int:
        return self.append(partition, *change(subject, status, at(T0, seconds)))

    async def read(self, partition: int, start: int, end: int | None):
        self.reads.append((partition, start, end))
        records = self.partitions[partition]
        end = len(records) if end is None else end
        return [(o, *records[o]) for o in range(start, end)], end

    def record(self, partition: int, offset: int):
        return (partition, offset, *self.partitions[partition][offset])


REGISTRY = default_registry()


def follower_of(topic: ConsentLog) -> ConsentFollower:
    return ConsentFollower(ConsentBook(), topic.read, lambda k, v: read_consent(REGISTRY, k, v))


def allowed(follower: ConsentFollower, seconds: float) -> bool:
    return follower.book.connection(SHOP, "shopee", at(T0, seconds)).allowed


def test_when_a_partition_is_assigned_then_the_book_is_rebuilt_from_the_topic_and_applied_says_how_far():
    topic = ConsentLog()
    for status, seconds in (("GRANTED", 0), ("WITHDRAWN", 100), ("GRANTED", 200)):
        topic.change(2, status, seconds)
    follower = follower_of(topic)
    asyncio.run(follower.ensure([2]))
    assert follower.applied == {2: 3}
    assert [allowed(follower, s) for s in (50, 150, 250)] == [True, False, True]


def test_when_the_stream_skips_a_record_then_the_follower_reads_the_gap_before_going_on():
    # issue 15: a shop's first GRANT went unapplied while the three records after it were applied
    topic, follower = ConsentLog(), None
    follower = follower_of(topic)
    asyncio.run(follower.ensure([1]))                       # assigned while the partition was empty
    offsets = [topic.change(1, status, s) for status, s in (("GRANTED", 0), ("WITHDRAWN", 100), ("GRANTED", 200))]

    async def deliver_all_but_the_first():
        for offset in offsets[1:]:
            await follower.offer(*topic.record(1, offset))
    asyncio.run(deliver_all_but_the_first())
    assert follower.applied[1] == 3
    assert [allowed(follower, s) for s in (50, 150, 250)] == [True, False, True]
    assert (1, 0, 1) in topic.reads                         # the skipped record was read from the topic


def test_when_records_already_in_the_book_are_delivered_again_then_nothing_changes_and_the_subject_is_named():
    topic = ConsentLog()
    offset = topic.change(0, "GRANTED", 0)
    follower = follower_of(topic)

    async def scenario():
        await follower.ensure([0])
        before = dict(follower.book.store)
        subject = await follower.offer(*topic.record(0, offset))
        return before, subject
    before, subject = asyncio.run(scenario())
    assert follower.book.store == before and subject == SHOP and follower.applied == {0: 1}


def test_when_a_wrong_schema_record_is_on_the_consent_topic_then_it_is_refused_and_the_book_moves_past_it():
    shop_event = next(r for t, _, r in sample_events() if t == "raw.shops")
    topic = ConsentLog()
    follower = follower_of(topic)
    asyncio.run(follower.ensure([3]))
    poison = len(topic.partitions[3])
    topic.partitions[3].append((SHOP.encode(), REGISTRY.encode(shop_event_name(), shop_event)))
    grant = topic.change(3, "GRANTED", 0)
    with pytest.raises(DecodeError) as refused:
        asyncio.run(follower.offer(*topic.record(3, poison)))
    assert refused.value.reason == "schema_mismatch" and follower.applied[3] == poison + 1
    asyncio.run(follower.offer(*topic.record(3, grant)))
    assert follower.applied[3] == grant + 1 and allowed(follower, 10)
    rebuilt = follower_of(topic)                            # read directly: skipped with a counted reason
    asyncio.run(rebuilt.ensure([3]))
    assert rebuilt.skipped == Counter({"schema_mismatch": 1}) and rebuilt.applied[3] == 2 and allowed(rebuilt, 10)


def shop_event_name():
    from pipeline_core.topics import topic as catalog_topic
    return catalog_topic("raw.shops").value_schema


def test_when_a_record_has_no_key_then_it_is_refused_as_missing_field():
    topic = ConsentLog()
    topic.partitions[0].append((None, b"x"))
    follower = follower_of(topic)
    with pytest.raises(DecodeError) as refused:
        asyncio.run(follower.offer(*topic.record(0, 0)))
    assert refused.value.reason == "missing_field" and follower.applied[0] == 1


def test_when_a_rebalance_happens_then_the_partition_is_rebuilt_without_the_records_another_worker_erased():
    topic = ConsentLog()
    topic.change(2, "GRANTED", 0)
    follower = follower_of(topic)
    asyncio.run(follower.ensure([2]))
    assert allowed(follower, 10)
    topic.partitions[2][0] = (topic.partitions[2][0][0], None)   # erased meanwhile: compaction left a tombstone
    follower.forget()
    asyncio.run(follower.ensure([2]))
    assert not allowed(follower, 10) and follower.applied == {2: 1}


# --- the barrier: consent already written is applied before data is decided -------------------------------------

def test_when_consent_is_behind_then_the_barrier_holds_data_until_the_consent_agent_catches_up():
    topic = ConsentLog()
    follower = follower_of(topic)

    async def scenario():
        await follower.ensure([2])
        offsets = [topic.change(2, "GRANTED", s) for s in range(6)]

        async def ends(partitions):
            return {p: len(topic.partitions[p]) for p in partitions}
        barrier = ConsentBarrier(ends, follower, recheck_seconds=30)  # no direct read: the agent must deliver
        waiter = asyncio.ensure_future(barrier.wait([2]))
        steps = []
        for offset in offsets:
            await asyncio.sleep(0)
            steps.append(waiter.done())
            await follower.offer(*topic.record(2, offset))
        await asyncio.wait_for(waiter, 1)
        return steps
    assert asyncio.run(scenario()) == [False] * 6


def test_when_the_consent_agent_never_delivers_then_the_barrier_reads_the_records_itself():
    topic = ConsentLog()
    follower = follower_of(topic)

    async def scenario():
        await follower.ensure([1])
        topic.change(1, "GRANTED", 0)
        topic.change(1, "WITHDRAWN", 100)

        async def ends(partitions):
            return {p: len(topic.partitions[p]) for p in partitions}
        await asyncio.wait_for(ConsentBarrier(ends, follower, recheck_seconds=0.01).wait([1]), 2)
    asyncio.run(scenario())
    assert follower.applied[1] == 2 and not allowed(follower, 150)


def test_when_the_consent_agent_has_nothing_to_do_then_the_barrier_opens_at_once():
    topic = ConsentLog()
    topic.change(0, "GRANTED", 0)

    async def scenario():
        async def ends(partitions):
            return {p: len(topic.partitions[p]) for p in partitions}
        await asyncio.wait_for(ConsentBarrier(ends, follower_of(topic)).wait([0, 3]), 1)
    asyncio.run(scenario())


def test_when_the_broker_cannot_answer_then_the_barrier_holds_and_retries():
    calls = []

    async def scenario():
        async def ends(partitions):
            calls.append("ends")
            if len(calls) < 3:
                raise ConnectionError("broker away")
            return {p: 0 for p in partitions}
        await asyncio.wait_for(ConsentBarrier(ends, follower_of(ConsentLog()), recheck_seconds=0.01).wait([1]), 2)
    asyncio.run(scenario())
    assert calls.count("ends") >= 3


def test_a_contact_sealed_under_a_key_this_store_does_not_hold_is_not_sent_to_an_audience(keystore, tmp_path):
    """A stored contact from another key store (replaced, or another deployment's) would reach the audience as
    ciphertext nobody can open: its values are dropped until the shop's next event seals them again."""
    book = book_with((SHOP, "GRANTED", 0))
    other = LocalKeyStore.in_dir(tmp_path / "another-store")
    contacts = {}
    Audiences(other, book, contacts, "v").shop_seen(SHOP, _shop_record(SHOP))
    audiences = Audiences(keystore, book, contacts, "v")
    [member] = audiences.consent_changed(SHOP)
    assert member.record["email_ciphertext"] is None and member.record["phone_ciphertext"] is None
    [again] = audiences.shop_seen(SHOP, _shop_record(SHOP))
    assert keystore.open(SHOP, again.record["email_ciphertext"]) == b"owner1001@example.vn"
