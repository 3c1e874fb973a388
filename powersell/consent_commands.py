"""`powersell-pipeline consent grant|withdraw|show`: consent changes made in the PowerSell app
or by support, written to `consent.events` like the connectors' (same builder, same key)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from pipeline_core.consent_records import consent_record
from pipeline_core.errors import ConfigError
from pipeline_core.marketplaces import MARKETPLACES
from pipeline_core.settings import Settings

PURPOSES = {  # command-line name -> (ConsentEvent purpose, what its scope names, allowed scopes or None for any)
    "connection": ("SHOP_DATA_CONNECTION", "marketplace", set(MARKETPLACES)),
    "marketing": ("MARKETING_CONTACT", None, None),
    "service": ("SERVICE_ANNOUNCEMENTS", None, None),
    "analytics": ("ANALYTICS", None, None),
    "sharing": ("THIRD_PARTY_SHARING", "partner", None),  # partners come from schemas/partners.json
    "embedded": ("EMBEDDED_CONTENT", "vendor", {"youtube", "vimeo", "google_maps", "spotify", "soundcloud"}),
}
SOURCES = {"app": "POWERSELL_APP", "support": "SUPPORT", "marketplace": "MARKETPLACE_PUSH"}


def _partners() -> set[str]:
    from pipeline_core.topics import CATALOG
    return {t.name.split(".", 1)[1] for t in CATALOG if t.name.startswith("partner.")}


def _subject_type(subject: str, given: str | None) -> str:
    if given:
        return given.upper()
    if subject.startswith("ps_"):
        return "BUYER"
    if ":" in subject and subject.split(":", 1)[0] in PURPOSES["connection"][2]:
        return "SHOP"
    raise ConfigError("cannot tell what kind of subject this is (not marketplace:shop_id, not ps_...); "
                      "say --subject-type shop|seller_account|buyer")  # the value is not repeated: it may be an e-mail


def change_record(args) -> tuple[str, dict]:
    purpose, scope_name, scopes = PURPOSES[args.purpose]
    if args.purpose == "sharing":
        scopes = _partners()
    scope = args.scope.lower() if args.scope else None
    if args.purpose == "connection" and scope is None and ":" in args.subject:
        scope = args.subject.split(":", 1)[0]  # a shop's connection is for its own marketplace
    if scope_name and not scope:
        raise ConfigError(f"--scope is required for {args.purpose}: the {scope_name} ({', '.join(sorted(scopes))})")
    if scope_name is None and scope:
        raise ConfigError(f"{args.purpose} takes no --scope")
    if scopes and scope not in scopes:
        raise ConfigError(f"unknown {scope_name} {scope!r} for {args.purpose}; one of: {', '.join(sorted(scopes))}")
    if not (args.proof or "").strip():  # a change nobody can trace back is not a consent record
        raise ConfigError("--proof must name the proof (app consent record id, support ticket id); it is empty")
    subject_marketplace = args.subject.split(":", 1)[0] if ":" in args.subject else None
    if scope_name == "marketplace" and subject_marketplace in scopes and scope != subject_marketplace:
        raise ConfigError(f"--scope {scope} does not match the subject's marketplace ({subject_marketplace}): "
                          "a shop's connection is for its own marketplace")
    subject_type = _subject_type(args.subject, args.subject_type)
    if subject_type == "BUYER" and not args.subject.startswith("ps_"):
        raise ConfigError("a buyer is named only by its keyed pseudonym (ps_...), never by a marketplace id")
    effective = datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else datetime.now(timezone.utc)
    if effective.tzinfo is None:
        raise ConfigError("--at needs a time zone, e.g. 2026-11-29T08:00:00Z")
    return consent_record(subject_type=subject_type, subject_id=args.subject, purpose=purpose, scope=scope,
                          status="GRANTED" if args.action == "grant" else "WITHDRAWN", source=SOURCES[args.source],
                          proof_ref=args.proof, effective_time=effective, legal_basis=args.legal_basis.upper())


def cmd_consent(args, settings: Settings) -> int:
    from pipeline_core.kafka_io import AvroPublisher
    if args.action == "show":
        return _show(args, settings)
    key, record = change_record(args)
    publisher = AvroPublisher(settings, client_id="powersell-consent-cli")
    try:
        publisher.send("consent.events", key, record).get(timeout=30)
    finally:
        publisher.close()
    print(json.dumps({"key": key, "status": record["status"], "purpose": record["purpose"], "scope": record["purpose_scope"],
                      "effective_time": record["effective_time"].isoformat(), "event_id": record["event_id"]}))
    return 0


def _show(args, settings: Settings) -> int:
    from pipeline_core.avro_codec import default_registry
    from pipeline_core.consent_records import ConsentState, newer
    from pipeline_core.kafka_io import read_topic
    registry, latest = default_registry(), {}
    prefix = f"{args.subject}|"
    for key, value, _ in read_topic(settings, "consent.events", idle_timeout=1.0):
        if key is None or not key.decode("utf-8", "replace").startswith(prefix):
            continue
        k = key.decode()
        if value is None:
            latest.pop(k, None)
            continue
        rec = registry.decode(value)[1]
        current = latest.get(k)
        if current is None or newer(ConsentState(current["status"], current["effective_time"]),
                                    ConsentState(rec["status"], rec["effective_time"])):
            latest[k] = rec
    rows = [{"purpose": r["purpose"], "scope": r["purpose_scope"], "status": r["status"], "effective_time":
             r["effective_time"].isoformat(), "source": r["source"], "proof_ref": r["proof_ref"]}
            for _, r in sorted(latest.items())]
    print(json.dumps({"subject": args.subject, "consents": rows}, indent=2))
    if not rows:
        print(f"no consent recorded for {args.subject}: everything is denied by default", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("consent", help="grant, withdraw or show a subject's consents",
                       description="Consent is data: each change is an event on consent.events (compacted, keyed by "
                                   "subject|purpose|scope) that every stream worker and connector follows. Nothing "
                                   "passes without a grant; a withdrawal stops every event stamped after it.")
    csub = p.add_subparsers(dest="action", required=True)
    for action, text in (("grant", "record that SUBJECT granted a purpose"),
                         ("withdraw", "record that SUBJECT withdrew a purpose")):
        c = csub.add_parser(action, help=text, description=text + ".")
        c.add_argument("subject", help="marketplace:shop_id for a shop, the account id for a seller, ps_... for a buyer")
        c.add_argument("--purpose", required=True, choices=sorted(PURPOSES),
                       help="connection (scope: marketplace), marketing, service, analytics, sharing (scope: partner), "
                            "embedded (scope: vendor)")
        c.add_argument("--scope", default=None, help="marketplace, partner or vendor, as the purpose needs")
        c.add_argument("--subject-type", choices=["shop", "seller_account", "buyer"], default=None,
                       help="default: shop for marketplace:shop_id, buyer for ps_...")
        c.add_argument("--source", choices=sorted(SOURCES), default="app", help="where the change came from (default app)")
        c.add_argument("--proof", required=True, help="reference to the proof: app consent record id, support ticket id")
        c.add_argument("--legal-basis", choices=["consent", "contract", "legal_obligation", "legitimate_interest"],
                       default="consent", help="default consent")
        c.add_argument("--at", default=None, help="effective time, ISO 8601 with zone (default now)")
        c.set_defaults(func=cmd_consent)
    s = csub.add_parser("show", help="print SUBJECT's current consents as JSON",
                        description="Reads consent.events and prints the latest change per purpose and scope.")
    s.add_argument("subject")
    s.set_defaults(func=cmd_consent)
