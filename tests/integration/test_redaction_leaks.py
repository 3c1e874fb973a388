"""Proof that nothing leaks: raw events carrying known canary values in every tagged field
and inside free text go through the real redaction worker on real Kafka; then every
downstream topic is scanned, decoded and as raw bytes, for every canary.

Free text carries, besides e-mails, phones and cards, people's names (Vietnamese with and
without accents, Thai, English), street addresses and social handles, written as buyers
write them after the words that make them personal ("giao cho anh ...", "ผู้รับ ...",
"deliver to Mr ..."). Sealed fields are published as text, as records written before
sealing were: the worker opens sealed fields first and passes text through, so the
detectors see the same text either way (sealing has its own tests)."""

from __future__ import annotations

import copy
import json
import os
import time
import uuid

import pytest

from pipeline_core.avro_codec import default_registry
from pipeline_core.avro_codec import jsonable
from pipeline_core.errors import DecodeError
from pipeline_core.kafka_io import AvroPublisher, read_since
from pipeline_core.sample_events import sample_events
from pipeline_core.security import OPERATOR, kafka_client_config, principal_env
from pipeline_core.topics import CATALOG, AccessClass, shop_key, topic
from tests.consent_helpers import LONG_AGO, change
from tests.integration.connector_rig import end_offsets
from tests.support.waiting import wait_for
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka
DOWNSTREAM = tuple(t.name for t in CATALOG if t.access in (AccessClass.DOWNSTREAM, AccessClass.PARTNER))


# Notes carrying a person's name, a street address or a handle: {Name} a capitalised canary
# word, {name} the same in lower case, {thai} a Thai one, {house} a house number, {handle} a
# handle. Every canary the template makes is remembered (CANARY_PARTS says which).
PEOPLE_NOTES = (
    "Giao cho anh Nguyễn Văn {Name} ở {house} Lý Thường Kiệt, Hoàn Kiếm nhé",
    "giao cho chi tran {name} o so {house} ngo 52 nguyen trai q1 nhe shop",
    "ส่งให้คุณ{thai} ใจดี บ้านเลขที่ {house}/1 ถนนสุขุมวิท แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพฯ",
    "Please deliver to Mr {Name} Smith, {house}B Baker Street, London NW1 6XE",
    "liên hệ fb.com/{handle} hoặc @{handle}vn để shop gửi ảnh",
    "Người nhận: chị Trần Thị {Name} - {house}/7 Nguyễn Trãi, Phường Bến Thành, Quận 1",
    "ผู้รับ นางสาว{thai} ศรีสุข {house}/3 หมู่ 5 ต.บางพูด อ.ปากเกร็ด จ.นนทบุรี",
    "Recipient: {Name} Walsh, Flat 3, {house} Orchard Road, Singapore 238823",
    "nguoi nhan: nguyen thi {name}, {house} le loi, phuong ben nghe, quan 1 - ig @{handle}",
)
CANARY_PARTS = {  # template -> the substrings that must not reach any downstream topic
    0: ("{Name}", "{house} Lý Thường Kiệt"), 1: ("{name}", "so {house} ngo 52"),
    2: ("{thai}", "{house}/1 ถนนสุขุมวิท"), 3: ("{Name}", "{house}B Baker Street"),
    4: ("{handle}",), 5: ("{Name}", "{house}/7 Nguyễn Trãi"), 6: ("{thai}", "{house}/3 หมู่ 5"),
    7: ("{Name}", "{house} Orchard Road"), 8: ("{name}", "{house} le loi", "{handle}"),
}
_THAI_LETTERS = "กขคงจฉชซฌญฎฏฐฑฒณ"
# Canaries the detectors are known to miss: (template, part) -> why. They are still sent and
# looked for; finding only these downstream marks the test xfail, not passed. None today: the
# lower-case name after 'giao cho chi tran' (issue 12) is found since the name detector landed.
KNOWN_MISSES: dict[tuple[int, str], str] = {}


class Canaries:
    """Distinctive values, one per tagged field, remembered so the outputs can be scanned."""

    def __init__(self, tag: str):
        self.tag, self.n, self.values = tag, 10, []
        self.notes = 0  # free-text values written: each takes the next of PEOPLE_NOTES
        self.known_misses: dict[str, str] = {}

    def people_note(self) -> str:
        """The next of PEOPLE_NOTES with fresh canaries (letters only in names: digits make no name)."""
        i, self.notes = self.notes % len(PEOPLE_NOTES), self.notes + 1
        word = "".join("abcdefghijklmnop"[int(c, 16)] for c in f"{self.tag}{self.notes:02x}")
        fill = {"Name": "Zu" + word, "name": "zu" + word, "thai": "สม" + "".join(
            _THAI_LETTERS[int(c, 16)] for c in f"{self.tag}{self.notes:02x}") + "า",
            "house": str(400 + self.notes * 13), "handle": f"zeta.{word}"}
        self.values += [part.format(**fill) for part in CANARY_PARTS[i]]
        self.known_misses.update({part.format(**fill): KNOWN_MISSES[(i, part)] for part in CANARY_PARTS[i]
                                  if (i, part) in KNOWN_MISSES})
        return PEOPLE_NOTES[i].format(**fill)

    def value(self, kind: str, type_) -> object:
        self.n += 1
        n, t = self.n, self.tag
        if "bytes" in json.dumps(type_) and "string" not in json.dumps(type_):  # a ciphertext of its own (the card)
            secret = f"CANARY{t}CIPHER{n}".encode()
            self.values.append(secret.decode())
            return secret
        made = {
            "person_name": f"Zeta{t} Canary Nguyễn {n}", "username": f"zeta_{t}_{n}",
            "email": f"zeta.{t}.{n}@example.vn", "phone": f"+84 912 {n:03d} 7{n % 10}9", "fax": f"+84 28 3{n:03d} 4{n % 10}21",
            "postal_address": f"{n} Đường Zeta{t}", "location_region": f"Tỉnh Zeta{t} {n}", "postal_code": f"9{n}{t}",
            "url": f"https://zeta{t}-{n}.example.vn/me", "tax_id": f"0{t}{n}", "customer_id": f"buyer-zeta{t}-{n}",
            "ip_address": f"203.0.113.{n}", "tracking_id": f"trk-zeta{t}-{n}",
            "date_of_birth": f"1990-01-{n % 28 + 1:02d}",
        }
        if kind == "free_text":
            email, phone = f"note.{t}.{n}@example.vn", f"0912 {n % 1000:03d} {n * 7 % 1000:03d}"
            self.values += [email, phone, phone.replace(" ", ""), "4111 1111 1111 1111", "4111111111111111"]
            return f"Liên hệ {email} hoặc gọi {phone}, thẻ 4111 1111 1111 1111 nhé. {self.people_note()}"
        value = made[kind]
        # what the policy keeps on purpose is not a leak: the last digits of a masked phone
        self.values.append(value if kind not in ("phone", "fax") else "".join(ch for ch in value if ch.isdigit()))
        return value


def fill(schema: dict, record: dict, canaries: Canaries, named: dict) -> None:
    for field in schema["fields"]:
        name, type_ = field["name"], field["type"]
        inner = _record_of(type_, named)
        if inner is not None:
            value = record.get(name)
            for element in (value if isinstance(value, list) else [value]):
                if isinstance(element, dict):
                    fill(inner, element, canaries, named)
            continue
        kind = field.get("pii")
        if kind in (None, "none", "card_last4", "raw_payload"):
            continue
        is_list = isinstance(type_, dict) and type_.get("type") == "array"
        record[name] = [canaries.value(kind, type_["items"])] if is_list else canaries.value(kind, type_)


def _record_of(type_, named):
    if isinstance(type_, list):
        found = [_record_of(b, named) for b in type_ if b != "null"]
        return found[0] if found else None
    if isinstance(type_, str):
        return named.get(type_)
    if type_.get("type") == "record":
        named[f"{type_.get('namespace', '')}.{type_['name']}"] = type_
        return type_
    if type_.get("type") == "array":
        return _record_of(type_["items"], named)
    return None


def canary_events(tag: str):
    canaries = Canaries(tag)
    registry = default_registry()
    events = []
    for i, (name, _, record) in enumerate(sample_events()):
        record = copy.deepcopy(dict(record, shop_id=f"9{tag}{i}", event_id=uuid.uuid4().hex))
        fill(registry.definition(topic(name).value_schema), record, canaries, {})
        events.append((name, shop_key(record["marketplace"], record["shop_id"]), record))
    assert canaries.notes >= len(PEOPLE_NOTES), "fewer free-text fields than people notes: some never sent"
    return events, canaries.values, canaries.known_misses


def downstream_records(settings):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(**kafka_client_config(settings, enable_auto_commit=False))
    out = []
    try:
        tps = [TopicPartition(t, p) for t in DOWNSTREAM for p in consumer.partitions_for_topic(t)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(tps)
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                out += [(r.topic, r.key or b"", r.value or b"") for r in records]
    finally:
        consumer.close()
    return out


@pytest.fixture
def redaction_worker(kafka, tmp_path):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "POWERSELL_METRICS_PORT": "0", "POWERSELL_LOG_LEVEL": "WARNING", **principal_env(kafka, "privacy-worker")}
    worker = start_worker(env, "worker", "redaction", log_path=tmp_path / "worker.log")
    yield worker
    stop_worker(worker)


@pytest.mark.slow
def test_no_canary_reaches_any_downstream_topic(kafka, redaction_worker):
    tag = uuid.uuid4().hex[:6]
    events, canaries, known_misses = canary_events(tag)
    dead_since = end_offsets(kafka, ("ops.dead-letters",))
    since = end_offsets(kafka, DOWNSTREAM)
    publisher = AvroPublisher(kafka, client_id="leak-test")
    try:
        for key in {key for _, key, _ in events}:  # connected, and sharing with every partner: the most that can flow
            publisher.send("consent.events", *change(key, "GRANTED", LONG_AGO))
            for partner in (t.name.split(".", 1)[1] for t in CATALOG if t.access is AccessClass.PARTNER):
                publisher.send("consent.events", *change(key, "GRANTED", LONG_AGO, "THIRD_PARTY_SHARING", partner))
        for name, key, record in events:
            publisher.send(name, key, record).get(timeout=30)
        publisher.producer.send("raw.orders", key=events[0][1].encode(), value=b"\xc3\x01not avro at all").get(30)
    finally:
        publisher.close()
    ids = {record["event_id"] for _, _, record in events}
    registry = default_registry()

    seen = set()

    def arrived():
        assert redaction_worker.poll() is None, "the worker stopped"
        for t, _, value, _ in read_since(kafka, since):
            if t.startswith("redacted."):
                seen.add(registry.decode(value)[1]["event_id"])
        return ids <= seen

    wait_for(arrived, 180)
    records = downstream_records(kafka)
    assert records
    blob_raw = b"\n".join(k + b"\x00" + v for _, k, v in records)
    def decoded(value: bytes):  # other tests on the suite's broker may leave undecodable frames: still in blob_raw
        try:
            return registry.decode(value)[1]
        except DecodeError:
            return None
    blob_decoded = "\n".join(json.dumps(jsonable(record), ensure_ascii=False)
                             for record in (decoded(v) for t, _, v in records if v) if record is not None)
    leaks = [c for c in canaries if c.encode() in blob_raw or c in blob_decoded]
    assert canaries and [c for c in leaks if c not in known_misses] == []
    # the corrupt record went to the dead-letter topic with the reason in its headers
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(**kafka_client_config(kafka, enable_auto_commit=False, consumer_timeout_ms=10_000))
    try:
        tp = TopicPartition("ops.dead-letters", 0)
        consumer.assign([tp])
        consumer.seek(tp, dead_since[tp])
        dead = [m for m in consumer if m.key == events[0][1].encode()]
    finally:
        consumer.close()
    assert any(dict(m.headers).get("reason") == b"unknown_fingerprint" and
               registry.decode(m.value)[1]["source_topic"] == "raw.orders" for m in dead)
    if leaks:  # only known misses reached downstream: say which, and why
        pytest.xfail("; ".join(sorted({known_misses[c] for c in leaks})))
