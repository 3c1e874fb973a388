"""Erasure on an immutable log (R12): crypto-shredding, tombstones, then a receipt.

Kafka logs cannot be edited, so a subject is erased in this order:

1. destroy the subject's data key first. Every ciphertext sealed for it, in every topic
   (compacted or not, raw or downstream, and in any backup of them), becomes unreadable at
   once; if a later step fails, the personal data is already gone and running the erasure
   again completes the rest.
2. tombstone every live key of the subject in the compacted topics that are keyed by it
   (SubjectKeys). Compaction then drops its records; with no consent record left its consent
   is denied by default, and it leaves the audiences.
3. flush: every tombstone is acknowledged by the broker before anything claims success.
4. publish an ErasureReceipt that names the subject only by a keyed pseudonym.

Erasing again is harmless: the second receipt says no key was destroyed and no key tombstoned.

ErasureError
 ├── InvalidErasureRequest   the subject type or id has the wrong form (the id is not repeated)
 └── ErasureIncomplete       the key is destroyed but a later step failed: run the erasure again
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from pipeline_core.errors import PipelineError
from pipeline_core.marketplaces import MARKETPLACES
from pipeline_core.settings import Settings
from pipeline_core.topics import topic

from pipeline_core.keystore import KeyStore

log = logging.getLogger(__name__)

REQUESTS_TOPIC = "privacy.erasure-requests"
RECEIPTS_TOPIC = "privacy.erasure-receipts"
REQUEST_SCHEMA = "com.powersell.pipeline.privacy.ErasureRequest"
RECEIPT_SCHEMA = "com.powersell.pipeline.privacy.ErasureReceipt"
# Header on a request that `powersell-pipeline erase` already carried out: the worker skips it.
HANDLED_HEADER = "erasure-handled-by"
SUBJECT_TYPES = ("SHOP", "SELLER_ACCOUNT", "BUYER")
PSEUDONYM_NAMESPACE = "erasure_subject"
# What a receipt states, by subject type: the copies the destroyed key seals, and what remains.
UNREADABLE = {
    "SHOP": ("raw.shops, raw.products: seller and product personal fields", "raw.orders: product titles",
             "ops.dead-letters: kept bodies of the shop's records", "audience.*: sealed contact details",
             "privacy worker tables: sealed contact details"),
    "BUYER": ("raw.orders: every buyer field (ids, names, phones, addresses, notes, IP, tracking, card)",
              "ops.dead-letters: kept bodies of the buyer's orders"),
    "SELLER_ACCOUNT": ("ciphertexts sealed for the account",),
}
REMAINING = (
    "raw.* and ops.dead-letters records until their retention ends: ciphertext nobody can open, beside clear "
    "routing fields (ids, times, statuses, amounts, province, country)",
    "redacted.*, analytics.aggregates and partner.* records until their retention or compaction: no personal "
    "data (pseudonyms, masked phones, provinces, aggregates)",
    "privacy.erasure-requests (30 days) and this receipt: the evidence of the request",
)  # apart from every redaction namespace: a receipt joins nothing

# Ids never hold the separators of the compacted keys ("|", ":" after the shop id), so that
# matching a key is exact: "shopee:12" never matches the keys of "shopee:123".
SUBJECT_FORMS = {
    "SHOP": (re.compile(rf"(?:{'|'.join(map(re.escape, MARKETPLACES))}):[A-Za-z0-9_.\-]{{1,64}}"),
             f"marketplace:shop_id with marketplace {', '.join(MARKETPLACES)}"),
    "SELLER_ACCOUNT": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}"),
                       "a PowerSell account id (letters, digits, _ . -)"),
    "BUYER": (re.compile(r"ps_[0-9a-f]{32,64}"), "a buyer's keyed pseudonym ps_<32-64 hex digits>"),
}


def subject_pseudonym(settings: Settings) -> Callable[[str], str]:
    """The keyed pseudonym a receipt names its subject by, under the pipeline's pseudonym key (what `erase`
    writes and `decrypt` looks an erased subject up by)."""
    from pipeline_core.pseudonyms import pipeline_pseudonym_key
    from .actions.pseudonym import pseudonymise

    key = pipeline_pseudonym_key(settings.data_dir)
    return lambda subject_id: pseudonymise(key.reveal(), PSEUDONYM_NAMESPACE, "", subject_id)


class ErasureError(PipelineError):
    """Root of the erasure's errors; messages never name the subject."""


class InvalidErasureRequest(ErasureError):
    pass


class ErasureIncomplete(ErasureError):
    pass


def guess_subject_type(subject_id: str) -> str | None:
    """BUYER for ps_..., SHOP for anything with a colon (then checked as marketplace:shop_id);
    None when only the caller can tell (a seller account id)."""
    if subject_id.startswith("ps_"):
        return "BUYER"
    return "SHOP" if ":" in subject_id else None


# ---------------------------------------------------------------- which keys are the subject's
# How the subject sits in a key, by the key layouts of the topic catalog.
KEY_HEADS: dict[str, Callable[[str], str]] = {
    "subject": lambda key: key,                                # audience.*, redacted.shops
    "subject|purpose|scope": lambda key: key.split("|", 1)[0],  # consent.events (also its partition key)
    "subject:stream": lambda key: key.rsplit(":", 1)[0],        # connector.checkpoints
}

_CONSENT = ("consent.events", "subject|purpose|scope")
_AUDIENCES = (("audience.marketing", "subject"), ("audience.service", "subject"))
TOPICS_BY_SUBJECT_TYPE: dict[str, tuple[tuple[str, str], ...]] = {
    "SHOP": (_CONSENT, *_AUDIENCES, ("redacted.shops", "subject"), ("connector.checkpoints", "subject:stream")),
    "SELLER_ACCOUNT": (_CONSENT, *_AUDIENCES),
    "BUYER": (_CONSENT, *_AUDIENCES),  # buyers are never audience members; tombstoning none costs nothing
}


@dataclass(frozen=True)
class KeyMatch:
    """Whether a key of one compacted topic belongs to the subject."""

    topic: str
    subject_id: str
    layout: str  # a KEY_HEADS name

    def __call__(self, key: str) -> bool:
        return KEY_HEADS[self.layout](key) == self.subject_id


@dataclass(frozen=True)
class SubjectKeys:
    """A validated subject and the compacted topics that may hold keys of it."""

    subject_type: str
    subject_id: str

    def __post_init__(self) -> None:
        if self.subject_type not in SUBJECT_FORMS:
            raise InvalidErasureRequest(f"subject type must be one of {', '.join(SUBJECT_TYPES)}")
        form, described = SUBJECT_FORMS[self.subject_type]
        if not isinstance(self.subject_id, str) or not form.fullmatch(self.subject_id):
            raise InvalidErasureRequest(f"a {self.subject_type} subject must be {described}")

    @property
    def matches(self) -> tuple[KeyMatch, ...]:
        return tuple(KeyMatch(name, self.subject_id, layout) for name, layout in TOPICS_BY_SUBJECT_TYPE[self.subject_type])


# ---------------------------------------------------------------- the log
class CompactedLog(ABC):
    """The compacted topics, as the erasure needs them."""

    @abstractmethod
    def live_keys(self, topic_name: str, match: Callable[[str], bool]) -> set[str]:
        """Keys for which match is true and whose latest value is not a tombstone."""

    @abstractmethod
    def tombstone(self, topic_name: str, key: str) -> None:
        """Send a tombstone (value None) for key, to the partition holding its records."""

    @abstractmethod
    def flush(self) -> None:
        """Return once every tombstone is acknowledged; ErasureIncomplete if one was not."""


class KafkaCompactedLog(CompactedLog):
    """Reads a topic to its end offsets with kafka-python and remembers where each live key is.

    A tombstone goes to every partition that holds a live record of its key, read from the log
    itself: compaction works per partition, so a tombstone anywhere else would delete nothing.
    That is the catalog's partitioner (partition_for) for records our producers wrote."""

    def __init__(self, settings: Settings, producer: Any = None, timeout: float = 60.0) -> None:
        from kafka import KafkaConsumer, KafkaProducer

        self.timeout = timeout
        self._own_producer = producer is None
        from pipeline_core.security import kafka_client_config
        self.producer = producer or KafkaProducer(**kafka_client_config(
            settings, acks="all", enable_idempotence=True, client_id="powersell-erasure"))
        self.consumer = KafkaConsumer(**kafka_client_config(settings, group_id=None, enable_auto_commit=False,
                                                            client_id="powersell-erasure"))
        self._where: dict[tuple[str, str], set[int]] = {}  # (topic, live key) -> partitions
        self._sent: list[tuple[str, Any]] = []

    def _latest(self, topic_name: str) -> dict[tuple[int, str], bool]:
        """(partition, key) -> whether its latest value is a record (not a tombstone)."""
        from kafka import TopicPartition

        partitions = self.consumer.partitions_for_topic(topic_name) or set()
        tps = [TopicPartition(topic_name, p) for p in sorted(partitions)]
        if not tps:
            return {}  # the topic was never created: nothing of anyone is in it
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        end = self.consumer.end_offsets(tps)
        latest: dict[tuple[int, str], bool] = {}
        deadline = time.monotonic() + self.timeout
        while any(self.consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise ErasureIncomplete(f"timed out reading {topic_name} to its end")
            for tp, records in self.consumer.poll(timeout_ms=300).items():
                for rec in records:
                    if rec.key is not None and rec.offset < end[tp]:
                        latest[(tp.partition, rec.key.decode("utf-8", "replace"))] = rec.value is not None
        return latest

    def live_keys(self, topic_name: str, match: Callable[[str], bool]) -> set[str]:
        found: set[str] = set()
        for (partition, key), live in self._latest(topic_name).items():
            if live and match(key):
                self._where.setdefault((topic_name, key), set()).add(partition)
                found.add(key)
        return found

    def tombstone(self, topic_name: str, key: str) -> None:
        from pipeline_core.kafka_io import partition_for

        partitions = self._where.pop((topic_name, key), None) or {partition_for(topic(topic_name), key)}
        for partition in sorted(partitions):
            self._sent.append((topic_name, self.producer.send(topic_name, key=key.encode("utf-8"), value=None,
                                                              partition=partition)))

    def flush(self) -> None:
        sent, self._sent = self._sent, []
        self.producer.flush(timeout=self.timeout)
        failed = sorted({name for name, future in sent if not future.is_done or future.failed()})
        if failed:
            raise ErasureIncomplete(f"tombstones on {', '.join(failed)} were not acknowledged")

    def close(self) -> None:
        self.consumer.close()
        if self._own_producer:
            self.producer.close()


# ---------------------------------------------------------------- the erasure
def _now() -> datetime:
    return datetime.now(timezone.utc)


class Eraser:
    """Carries out ErasureRequests in the documented order and returns the ErasureReceipt."""

    def __init__(self, keystore: KeyStore, log: CompactedLog, publish_receipt: Callable[[dict], None],
                 pseudonym_of: Callable[[str], str], clock: Callable[[], datetime] = _now) -> None:
        self.keystore = keystore
        self.log = log
        self.publish_receipt = publish_receipt
        self.pseudonym_of = pseudonym_of
        self.clock = clock

    def erase(self, request: dict) -> dict:
        subject = SubjectKeys(request.get("subject_type"), request.get("subject_id"))
        pseudonym = self.pseudonym_of(subject.subject_id)
        destroyed = self.keystore.destroy(subject.subject_id)  # 1: first, whatever follows
        counts = self._tombstone_all(subject.matches, pseudonym)  # 2 and 3
        receipt = {
            "receipt_id": uuid.uuid4().hex, "request_id": request["request_id"], "subject_pseudonym": pseudonym,
            "subject_type": subject.subject_type, "data_key_destroyed": destroyed,
            "tombstones": [{"topic": name, "count": n} for name, n in counts],
            "requested_time": request.get("requested_time") or self.clock(), "completed_time": self.clock(),
            "unreadable": list(UNREADABLE[subject.subject_type]) if destroyed else [],
            "remaining": list(REMAINING),
        }
        try:
            self.publish_receipt(receipt)  # 4
        except Exception as exc:
            raise ErasureIncomplete(f"erasure of {pseudonym} done but its receipt was not published "
                                    f"({type(exc).__name__}); run it again for a receipt") from None
        log.info("erased %s subject %s: data key destroyed=%s, %d key(s) tombstoned", subject.subject_type,
                 pseudonym, destroyed, sum(n for _, n in counts))
        return receipt

    def _tombstone_all(self, matches: Iterable[KeyMatch], pseudonym: str) -> list[tuple[str, int]]:
        counts, step = [], "reading"
        try:
            for match in matches:
                step = f"tombstoning {match.topic}"
                keys = self.log.live_keys(match.topic, match)
                for key in sorted(keys):
                    self.log.tombstone(match.topic, key)
                counts.append((match.topic, len(keys)))
            step = "waiting for the broker's acknowledgements"
            self.log.flush()
        except Exception as exc:  # whatever failed, the caller must learn the key is gone and the rest is not
            reason = str(exc) if isinstance(exc, ErasureError) else type(exc).__name__
            raise ErasureIncomplete(f"data key of {pseudonym} destroyed, then {step} failed ({reason}); "
                                    "run the erasure again: it is idempotent") from None
        return counts

    def handle_request(self, record: bytes | dict) -> dict:
        """One record of privacy.erasure-requests (single-object Avro, or already decoded) -> its receipt."""
        if isinstance(record, (bytes, bytearray)):
            from pipeline_core.avro_codec import default_registry
            name, record = default_registry().decode(bytes(record))
            if name != REQUEST_SCHEMA:
                raise InvalidErasureRequest(f"expected an ErasureRequest on {REQUESTS_TOPIC}, got {name}")
        return self.erase(record)


def already_handled(headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None) -> bool:
    """Whether a request record's headers (pairs, or a mapping as Faust may give) say that the
    `erase` command carried it out already."""
    names = headers.keys() if isinstance(headers, Mapping) else (name for name, _ in headers or ())
    return HANDLED_HEADER in set(names)
