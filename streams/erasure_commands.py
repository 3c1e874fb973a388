"""`powersell-pipeline erase SUBJECT`: erase one subject now, from a support agent's terminal.

The request is published to privacy.erasure-requests first (the evidence of who asked and why),
marked as carried out here so the worker does not repeat it, then the Eraser runs in this process.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, timezone
from typing import Callable

from pipeline_core.settings import Settings

from .erasure import (HANDLED_HEADER, RECEIPTS_TOPIC, REQUESTS_TOPIC, Eraser, ErasureError, InvalidErasureRequest,
                      KafkaCompactedLog, SubjectKeys, guess_subject_type, subject_pseudonym)
from pipeline_core.keystore import KeyStore

SUBJECT_TYPE_NAMES = {"shop": "SHOP", "seller_account": "SELLER_ACCOUNT", "buyer": "BUYER"}


def open_keystore(settings: Settings) -> KeyStore:
    """The pipeline's key store, never a new empty one: erasing in a fresh store by mistake (a wrong
    POWERSELL_KEYSTORE_DIR) would report "no data key" while the real key lives on."""
    from .key_commands import open_keystore as pipeline_keystore
    return pipeline_keystore(settings, create=False)


def receipt_publisher(publisher) -> Callable[[dict], None]:
    """Publishes a receipt keyed by its pseudonym and waits for the broker's acknowledgement."""
    def publish(receipt: dict) -> None:
        publisher.send(RECEIPTS_TOPIC, receipt["subject_pseudonym"], receipt).get(timeout=30)
    return publish


def build_eraser(settings: Settings, publisher, log: KafkaCompactedLog) -> Eraser:
    """An Eraser on the broker (for the worker's agent too)."""
    return Eraser(open_keystore(settings), log, receipt_publisher(publisher), subject_pseudonym(settings))


class NotConfirmed(ErasureError):
    pass


def _confirm(args, subject: SubjectKeys) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmed("erasure cannot be undone: confirm with --yes when not on a terminal")
    print(f"Erase {subject.subject_type} {subject.subject_id}? Its data key is destroyed and its records "
          "tombstoned; this cannot be undone.", file=sys.stderr)
    if input("Type the subject id again to confirm: ").strip() != subject.subject_id:
        raise NotConfirmed("not confirmed; nothing was erased")


def summary(receipt: dict) -> str:
    done = ", ".join(f"{t['topic']} {t['count']}" for t in receipt["tombstones"] if t["count"]) or "none live"
    total = sum(t["count"] for t in receipt["tombstones"])
    key = "data key destroyed" if receipt["data_key_destroyed"] else "no data key left to destroy"
    return f"erased {receipt['subject_type']} {receipt['subject_pseudonym']}: {key}; {total} key(s) tombstoned ({done})"


def cmd_erase(args, settings: Settings) -> int:
    from pipeline_core.avro_codec import jsonable
    from pipeline_core.kafka_io import AvroPublisher, ensure_topics

    kind = SUBJECT_TYPE_NAMES[args.subject_type] if args.subject_type else guess_subject_type(args.subject)
    if kind is None:
        raise InvalidErasureRequest("SUBJECT is neither marketplace:shop_id nor ps_...; "
                                    "for a seller account give --subject-type seller_account")
    subject = SubjectKeys(kind, args.subject)  # a malformed id stops here, before anything is done
    _confirm(args, subject)
    keystore, pseudonym_of = open_keystore(settings), subject_pseudonym(settings)  # both before anything is sent
    ensure_topics(settings)
    request = {"request_id": uuid.uuid4().hex, "subject_type": subject.subject_type, "subject_id": subject.subject_id,
               "requested_by": args.requested_by, "reference": args.reference,
               "requested_time": datetime.now(timezone.utc)}
    publisher = AvroPublisher(settings, client_id="powersell-erase")
    log = KafkaCompactedLog(settings, producer=publisher.producer)
    try:
        publisher.send(REQUESTS_TOPIC, subject.subject_id, request,
                       headers=[(HANDLED_HEADER, b"powersell-pipeline erase")]).get(timeout=30)
        receipt = Eraser(keystore, log, receipt_publisher(publisher), pseudonym_of).erase(request)
    finally:
        log.close()
        publisher.close()
    print(json.dumps(jsonable(receipt), ensure_ascii=False), flush=True)
    print(summary(receipt), file=sys.stderr, flush=True)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "erase", help="erase a subject: destroy its data key, tombstone its records, publish a receipt",
        description="Crypto-shredding. The connectors seal every personal field under its subject's data key "
                    "(a shop's fields under marketplace:shop_id, a buyer's under their pseudonym ps_...). DESTROYED "
                    "at once: that key, so every copy of the subject's personal data becomes unreadable in every "
                    "topic and backup: raw records, dead letters, audience entries, the worker's sealed tables. "
                    "TOMBSTONED: the subject's keys in the compacted topics (consent, audiences, redacted.shops, "
                    "connector checkpoints). STILL EXISTS until each topic's retention ends: the raw and "
                    "dead-letter records as unreadable ciphertext beside their clear routing fields (ids, times, "
                    "statuses, amounts, province, country), and redacted, analytics and partner records, which "
                    "hold no personal data. Erasing a shop does not erase its buyers, nor a buyer the shop. "
                    "Publishes an ErasureReceipt naming the subject only by a keyed pseudonym; cannot be undone.")
    p.add_argument("subject", metavar="SUBJECT",
                   help="marketplace:shop_id (e.g. shopee:220145871), a buyer pseudonym ps_..., or an account id")
    p.add_argument("--reference", required=True, help="proof of the request: support ticket or app request id")
    p.add_argument("--subject-type", choices=sorted(SUBJECT_TYPE_NAMES), default=None,
                   help="default: shop for marketplace:shop_id, buyer for ps_...; needed for seller_account")
    p.add_argument("--requested-by", default=os.environ.get("USER") or "powersell-pipeline",
                   help="who asked (support agent login; default $USER)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed when not on a terminal)")
    p.set_defaults(func=cmd_erase)
