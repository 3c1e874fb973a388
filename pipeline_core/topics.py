"""The topic catalog: every topic the pipeline uses, declared in one place.

Keys keep one shop's events in order: data topics are keyed `marketplace:shop_id`.
Consent records are keyed `subject|purpose|scope` (so compaction keeps the latest
per subject and purpose) but partitioned by the subject alone (`partition_by =
"subject"`), which puts a shop's consent in the same partition as its data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from .errors import TopicError
from .partitions import data_partitions

NS = "com.powersell.pipeline"
DAY_MS = 24 * 3600 * 1000
FOREVER = -1
# The largest record batch every topic takes (Kafka's default max.message.bytes, declared on each topic so that
# producers and the workers' size checks use this one number; streams/app.py sets Faust's producer to it).
MAX_MESSAGE_BYTES = 1_048_588


class AccessClass(str, Enum):
    RESTRICTED = "restricted"  # raw data with personal data, dead letters: pipeline services only
    INTERNAL = "internal"      # consent state, connector state, changelogs
    DOWNSTREAM = "downstream"  # redacted data and analytics: other teams may subscribe
    PARTNER = "partner"        # one named third party's allow-listed share (schemas/partners.json)


@dataclass(frozen=True)
class Topic:
    name: str
    value_schema: str  # full name of the Avro record in schemas/
    access: AccessClass
    partitions: int
    cleanup: Literal["delete", "compact"]
    retention_ms: int  # FOREVER (-1) keeps records until compaction or erasure
    key: str           # what the record key holds
    doc: str
    partition_by: Literal["key", "subject"] = "key"

    @property
    def configs(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup, "retention.ms": str(self.retention_ms),
                "max.message.bytes": str(MAX_MESSAGE_BYTES)}


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) of every topic on a cluster of `brokers`: with three or more,
    each record is on 3 brokers and acknowledged (acks=all) once 2 have it, so one broker may fail without
    losing an acknowledged record or stopping producers; a single broker keeps 1 and 1."""
    factor = max(1, min(brokers, 3))
    return factor, 2 if factor == 3 else 1


# Data topics and the consent topic share a partition count: Faust joins them by shop (a deployment setting).
DATA_PARTITIONS = data_partitions()
SHOP_KEY = "marketplace:shop_id"

CATALOG: tuple[Topic, ...] = (
    Topic("raw.shops", f"{NS}.raw.RawShopEvent", AccessClass.RESTRICTED, DATA_PARTITIONS, "delete", 7 * DAY_MS, SHOP_KEY,
          "Shops as read from the marketplaces. Cleartext personal data: kept 7 days, enough to reprocess after a fix."),
    Topic("raw.products", f"{NS}.raw.RawProductEvent", AccessClass.RESTRICTED, DATA_PARTITIONS, "delete", 7 * DAY_MS, SHOP_KEY,
          "Products as read from the marketplaces; free text may hold contact details."),
    Topic("raw.orders", f"{NS}.raw.RawOrderEvent", AccessClass.RESTRICTED, DATA_PARTITIONS, "delete", 7 * DAY_MS, SHOP_KEY,
          "Orders as read from the marketplaces, with buyers' personal data; card numbers only as ciphertext."),
    Topic("consent.events", f"{NS}.consent.ConsentEvent", AccessClass.INTERNAL, DATA_PARTITIONS, "compact", FOREVER,
          "subject|purpose|scope", "Consent changes; the latest per subject and purpose is the state.", partition_by="subject"),
    Topic("connector.checkpoints", f"{NS}.connector.ConnectorCheckpoint", AccessClass.INTERNAL, 1, "compact", FOREVER,
          "marketplace:shop_id:stream", "How far each connector stream has synced; written after the events before it are acknowledged."),
    Topic("redacted.shops", f"{NS}.redacted.RedactedShopEvent", AccessClass.DOWNSTREAM, DATA_PARTITIONS, "compact", FOREVER, SHOP_KEY,
          "Shops without personal data; compacted to the latest version of each shop."),
    Topic("redacted.products", f"{NS}.redacted.RedactedProductEvent", AccessClass.DOWNSTREAM, DATA_PARTITIONS, "delete", FOREVER, SHOP_KEY,
          "Product changes without personal data."),
    Topic("redacted.orders", f"{NS}.redacted.RedactedOrderEvent", AccessClass.DOWNSTREAM, DATA_PARTITIONS, "delete", FOREVER, SHOP_KEY,
          "Order changes without personal data; buyers appear only as keyed pseudonyms."),
    Topic("analytics.aggregates", f"{NS}.analytics.AnalyticsAggregate", AccessClass.DOWNSTREAM, 1, "compact", FOREVER,
          "granularity|window_start|marketplace|country|province|category",
          "Anonymised statistics for people outside the company; a consumer upserts by key."),
    Topic("audience.marketing", f"{NS}.audience.AudienceMember", AccessClass.INTERNAL, 1, "compact", FOREVER, "marketplace:shop_id",
          "Sellers who opted in to newsletters and offers and have not opted out; contact details encrypted for the sender."),
    Topic("audience.service", f"{NS}.audience.AudienceMember", AccessClass.INTERNAL, 1, "compact", FOREVER, "marketplace:shop_id",
          "Every active customer, for service announcements (no opt-out); contact details encrypted."),
    Topic("audit.access", f"{NS}.audit.AccessAudit", AccessClass.RESTRICTED, 1, "delete", FOREVER, "subject id",
          "Every decryption of a protected field: who, whose, which field, why, when."),
    Topic("privacy.erasure-requests", f"{NS}.privacy.ErasureRequest", AccessClass.INTERNAL, 1, "delete", 30 * DAY_MS, "subject id",
          "Requests to erase a subject; the erasure worker answers each with a receipt."),
    Topic("privacy.erasure-receipts", f"{NS}.privacy.ErasureReceipt", AccessClass.INTERNAL, 1, "delete", FOREVER, "subject pseudonym",
          "Evidence of each erasure: key destroyed, tombstones published; the subject only as a keyed pseudonym."),
    Topic("ops.dead-letters", f"{NS}.ops.DeadLetter", AccessClass.RESTRICTED, 1, "delete", 14 * DAY_MS, "the failed record's key",
          "Records a stage could not process, with the reason and the original bytes."),
    Topic("ops.outcomes", f"{NS}.ops.EventOutcome", AccessClass.INTERNAL, 1, "delete", 14 * DAY_MS, "event id",
          "Filtered decisions per event id (ids and reasons only), for the ledger `reconcile`."),
)



def _partner_topics() -> tuple[Topic, ...]:
    from schemas import SCHEMA_DIR
    partners = json.loads((SCHEMA_DIR / "partners.json").read_text(encoding="utf-8"))["partners"]
    return tuple(Topic(f"partner.{name}", f"{NS}.partner.PartnerRecord", AccessClass.PARTNER, 1, "delete", 30 * DAY_MS,
                       "event_id", f"For {name} only: {p['doc']}") for name, p in sorted(partners.items()))


CATALOG = CATALOG + _partner_topics()
_BY_NAME = {t.name: t for t in CATALOG}


class Service(str, Enum):
    """The pipeline's services, each its own principal on the broker (the webhook receiver runs inside
    the connectors' process)."""
    CONNECTORS = "connectors"
    PRIVACY_WORKER = "privacy-worker"
    AGGREGATION_WORKER = "aggregation-worker"


_C, _P, _A = Service.CONNECTORS, Service.PRIVACY_WORKER, Service.AGGREGATION_WORKER
# Which service writes and which reads each topic: with the access classes, the broker's ACLs come from
# this (pipeline_core.acl). The privacy worker reads and tombstones the compacted topics for erasure.
# Operators (decrypt's audit records, erasure requests from the command line) are not services.
SERVICE_ACCESS: dict[str, tuple[tuple[Service, ...], tuple[Service, ...]]] = {  # topic: (writers, readers)
    "raw.shops": ((_C,), (_P,)),
    "raw.products": ((_C,), (_P,)),
    "raw.orders": ((_C,), (_P,)),
    "consent.events": ((_C, _P), (_C, _P)),
    "connector.checkpoints": ((_C, _P), (_C, _P)),
    "redacted.shops": ((_P,), (_P,)),
    "redacted.products": ((_P,), (_A,)),
    "redacted.orders": ((_P,), (_A,)),
    "analytics.aggregates": ((_A,), ()),
    "audience.marketing": ((_P,), (_P,)),
    "audience.service": ((_P,), (_P,)),
    "audit.access": ((_P,), ()),
    "privacy.erasure-requests": ((), (_P,)),
    "privacy.erasure-receipts": ((_P,), ()),
    "ops.dead-letters": ((_C, _P, _A), ()),
    "ops.outcomes": ((_P, _A), ()),  # read by the operator's `reconcile`
    **{t.name: ((_P,), ()) for t in CATALOG if t.access is AccessClass.PARTNER},
}
# Each Faust worker's app id: its consumer group and the prefix of the topics Faust makes for it.
FAUST_APP_IDS = {Service.PRIVACY_WORKER: "powersell-redactor", Service.AGGREGATION_WORKER: "powersell-aggregator"}


def partner_of(t: Topic) -> str | None:
    """The partner a PARTNER topic is for (partner.NAME)."""
    return t.name.split(".", 1)[1] if t.access is AccessClass.PARTNER else None


def topic(name: str) -> Topic:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise TopicError(f"unknown topic {name!r}; known topics: {', '.join(_BY_NAME)}") from None


def shop_key(marketplace: str, shop_id: str) -> str:
    """The record key of every shop-scoped topic."""
    return f"{marketplace.lower()}:{shop_id}"


def consent_key(subject_id: str, purpose: str, scope: str | None) -> str:
    return f"{subject_id}|{purpose}|{scope or ''}"


def partition_key(t: Topic, key: str) -> str:
    """The part of a key that chooses the partition."""
    return key.split("|", 1)[0] if t.partition_by == "subject" else key
