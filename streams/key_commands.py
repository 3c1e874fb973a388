"""`powersell-pipeline keys status|rotate-master` and `decrypt`: the key store on the command line.

`open_keystore` is the one place that says where the key store lives; the redaction worker,
erasure and decryption all call it, so they all see the same data keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from typing import Any

from pipeline_core.errors import BrokerError, ConfigError
from pipeline_core.settings import Settings
from streams.access import (AccessError, KafkaAuditLog, ReasonRequired, audit_record, audit_refusal, check_reason,
                            decrypt_field)
from pipeline_core.keystore import KEYSTORE_ENV, KeyDestroyed, LocalKeyStore, keystore_dir, open_keystore

__all__ = ["AUDIENCE_TOPICS", "PROTECTED_FIELDS", "SubjectErased", "SubjectNotFound", "add_commands", "keystore_dir",
           "keystore_status", "latest_record", "open_keystore"]

AUDIENCE_TOPICS = ("audience.marketing", "audience.service")
PROTECTED_FIELDS = ("email_ciphertext", "phone_ciphertext")
AUDIENCE_SCHEMA = "com.powersell.pipeline.audience.AudienceMember"


class SubjectNotFound(AccessError):
    """The topic holds no live record for the subject."""


class SubjectErased(AccessError):
    """The subject's data key was destroyed."""


# ---------------------------------------------------------------- the store
def keystore_status(store: LocalKeyStore) -> dict[str, Any]:
    """Counts and versions only: no subject ids, no key ids, no key material."""
    master_id, current, _ = store.master.current()
    return {"keystore_dir": str(store.folder), "master_key_id": master_id, "master_current_version": current,
            "master_versions": store.master.versions(), **store.status()}


def cmd_keys(args, settings: Settings) -> int:
    store = open_keystore(settings, create=False)
    if args.action == "rotate-master":
        before = keystore_status(store)["master_current_version"]
        version = store.rotate_master()
        print(f"master key rotated from version {before} to {version}; every data key is re-wrapped under it and "
              "older master versions are retired; running processes pick it up at their next key use",
              file=sys.stderr, flush=True)
    print(json.dumps(keystore_status(store)), flush=True)
    return 0


# ---------------------------------------------------------------- decrypt
def latest_record(pairs, subject: str) -> bytes | None:
    """The value of the last (key, value) pair whose key is subject; None if none, or a tombstone last."""
    wanted, value = subject.encode("utf-8"), None
    for key, record in pairs:
        if key == wanted:
            value = record
    return value


def _read_member(settings: Settings, topic_name: str, subject: str) -> dict[str, Any]:
    from pipeline_core.avro_codec import default_registry
    from pipeline_core.kafka_io import TopicFollower

    follower = TopicFollower(settings, topic_name, client_id="powersell-decrypt")
    try:
        value = latest_record(follower.catch_up(), subject)
    finally:
        follower.close()
    if value is None:
        if _erasure_receipt(settings, subject) is not None:
            raise SubjectErased(f"the subject was erased; its records on {topic_name} are tombstoned and its data "
                                "key is destroyed")
        raise SubjectNotFound(f"no record for this subject on {topic_name} (never a member, or removed)")
    return default_registry().decode(value, reader=AUDIENCE_SCHEMA)[1]


def _erasure_receipt(settings: Settings, subject: str) -> bytes | None:
    """The subject's last erasure receipt (privacy.erasure-receipts, keyed by its erasure pseudonym), if any:
    what tells "erased" from "never there" once the records are tombstoned."""
    from pipeline_core.kafka_io import TopicFollower
    from .erasure import RECEIPTS_TOPIC, subject_pseudonym

    follower = TopicFollower(settings, RECEIPTS_TOPIC, client_id="powersell-decrypt")
    try:
        return latest_record(follower.catch_up(), subject_pseudonym(settings)(subject))
    finally:
        follower.close()


def _as_text(plaintext: bytes) -> str:
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(plaintext).decode("ascii")


def _given_ciphertext(text: str) -> bytes:
    try:
        return base64.b64decode(text.removeprefix("base64:"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("--ciphertext must be base64 (as `topics tail` prints bytes, "
                          "with or without 'base64:')") from None


def _broker_down(settings: Settings) -> str | None:
    """One line when the broker does not answer within seconds (every decryption is audited
    there first, so nothing can be done without it); None when it answers."""
    from pipeline_core.kafka_broker import broker_answers
    from pipeline_core.security import kafka_client_config
    if broker_answers(settings.bootstrap_servers, timeout=3, client_config=kafka_client_config(settings)):
        return None
    return (f"Kafka at {settings.bootstrap_servers} does not answer; decrypt audits every use there first "
            "(start it: `powersell-pipeline kafka up`)")


def _audit_refused(settings: Settings, actor: str, args) -> None:
    """A refused attempt is audited too; without a broker it is refused all the same."""
    if _broker_down(settings):
        return
    try:
        refused = KafkaAuditLog(settings)
    except Exception:  # the client's text could name the servers only; the refusal stands
        return
    try:
        audit_refusal(refused, actor=actor, subject=args.subject, field=args.field, reason=args.reason)
    finally:
        refused.close()


def cmd_decrypt(args, settings: Settings) -> int:
    actor = args.actor or os.environ.get("USER") or "unknown"
    try:
        check_reason(args.reason)  # before anything is read
    except ReasonRequired:
        _audit_refused(settings, actor, args)
        raise
    store = open_keystore(settings, create=False)  # local and instant: a missing store is said first
    down = _broker_down(settings)
    if down:
        raise BrokerError(down)
    if args.ciphertext is not None:
        label = "given-ciphertext" if args.field == "all" else f"given-ciphertext/{args.field}"
        wanted = [(label, label, _given_ciphertext(args.ciphertext))]
    else:
        names = PROTECTED_FIELDS if args.field == "all" else (args.field,)
        try:
            member = _read_member(settings, args.topic, args.subject)
        except SubjectErased:  # an attempt on an erased subject is audited like one whose key is gone
            audit = KafkaAuditLog(settings)
            try:
                for name in names:
                    audit.record(audit_record(actor=actor, subject=args.subject, field=f"{args.topic}/{name}",
                                              reason=args.reason, outcome="KEY_DESTROYED"))
            finally:
                audit.close()
            raise
        wanted = [(name, f"{args.topic}/{name}", member.get(name)) for name in names]
    audit = KafkaAuditLog(settings)
    try:
        for name, audited_as, ciphertext in wanted:
            value = None
            if ciphertext is not None:  # an empty field has nothing to decrypt and nothing to audit
                try:
                    value = _as_text(decrypt_field(store, args.subject, ciphertext, actor=actor, field=audited_as,
                                                   reason=args.reason, audit=audit))
                except KeyDestroyed:
                    raise SubjectErased("the subject was erased; its data key is destroyed") from None
            print(json.dumps({"subject": args.subject, "field": name, "value": value}, ensure_ascii=False), flush=True)
    finally:
        audit.close()
    return 0


# ---------------------------------------------------------------- parser
def add_commands(sub) -> None:
    p = sub.add_parser("keys", help="the key store: status, master-key rotation",
                       description=f"The per-subject data keys that encrypt personal data, wrapped by a master key. "
                                   f"The store lives in ${KEYSTORE_ENV}, else POWERSELL_DATA_DIR/keys/keystore.")
    ksub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ksub.add_parser("status", help="print master key id and versions and key counts as JSON",
                    description="Print the master key id, its versions, and how many data keys exist and how many "
                                "were destroyed (erased subjects). Never prints subject ids or key material.")
    ksub.add_parser("rotate-master", help="new master key version; data keys re-wrapped, no downtime",
                    description="Add a master key version, re-wrap every data key under it and retire the older "
                                "versions. Data keys do not change, so every ciphertext stays readable; running "
                                "workers see the new files at their next key use, without a restart.")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("decrypt", help="decrypt a subject's protected fields (audited; needs --reason)",
                       description="Decrypt a subject's contact details for support. EVERY USE IS AUDITED: an "
                                   "AccessAudit record (actor, subject, field, reason, time, outcome) is written to "
                                   "audit.access and acknowledged by the broker before any value is printed. "
                                   "Reads the subject's latest record on an audience topic, or decrypts --ciphertext. "
                                   "Prints one JSON line {subject, field, value} per field. Exit status 2 when the "
                                   "reason is missing, the subject is unknown or was erased.")
    p.add_argument("subject", help="subject id: marketplace:shop_id")
    p.add_argument("--reason", default=None, help="why (e.g. a support ticket reference); required, at least 8 "
                                                  "characters; stored in the audit record")
    p.add_argument("--actor", default=None, help="who is asking (default: $USER, else 'unknown')")
    p.add_argument("--topic", choices=AUDIENCE_TOPICS, default=AUDIENCE_TOPICS[0],
                   help="compacted topic to read the subject's record from (default audience.marketing)")
    p.add_argument("--field", choices=PROTECTED_FIELDS + ("all",), default="all",
                   help="which protected field (default all)")
    p.add_argument("--ciphertext", default=None, metavar="BASE64",
                   help="decrypt this ciphertext of SUBJECT instead of reading a topic")
    p.set_defaults(func=cmd_decrypt)
