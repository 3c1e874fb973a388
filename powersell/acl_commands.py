"""`acl apply`, `acl list` and `principal add`: the catalog's access rules on the command line."""

from __future__ import annotations

import sys
from typing import Callable

from pipeline_core.settings import Settings


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def apply_if_secured(settings: Settings, say: Callable[[str], None]) -> None:
    """After `topics create`: put the rules on a broker that enforces them (nothing to do on an open one)."""
    from pipeline_core.acl_admin import apply_acls
    from pipeline_core.security import client_security
    from kafka.errors import ClusterAuthorizationFailedError, SecurityDisabledError

    if client_security(settings).protocol == "PLAINTEXT":
        return
    try:
        report = apply_acls(settings)
    except (ClusterAuthorizationFailedError, SecurityDisabledError) as exc:  # a managed cluster: its operators' job
        say(f"note: the access rules were not applied ({type(exc).__name__}); give the cluster's operators "
            "`powersell-pipeline acl list --format kafka-acls`")
        return
    say(f"access rules: {report.created} added, {report.deleted} removed, {report.kept} in place")


def cmd_acl(args, settings: Settings) -> int:
    from pipeline_core.acl import format_kafka_acls, format_matrix
    from pipeline_core.acl_admin import apply_acls, known_principals

    if args.action == "apply":
        report = apply_acls(settings)
        _say(f"access rules: {report.created} added, {report.deleted} removed, {report.kept} in place")
        for user in report.users_created:
            _say(f"made SCRAM user {user} (password file under {settings.data_dir / 'kafka' / 'security' / 'users'})")
        return 0
    every = known_principals(settings)
    if args.format == "kafka-acls":
        print(format_kafka_acls(every, args.bootstrap, args.command_config))
    else:
        print(format_matrix(every))
    return 0


def cmd_principal(args, settings: Settings) -> int:
    from pipeline_core.acl_admin import add_principal

    path = add_principal(settings, args.name, args.role)
    _say(f"principal {args.name} ({args.role}): SCRAM user made and its access rules applied")
    print(f"password file: {path} (0600; hand it over through a secret store, never by chat or e-mail)")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("acl", help="the broker's access rules, derived from the topic catalog",
                       description="Principals (operator, connectors, privacy-worker, aggregation-worker, downstream, "
                                   "partner-NAME, and those added with `principal add`) and what each may do on each "
                                   "topic, from the catalog's access classes: `apply` puts them on the broker "
                                   "(idempotent: missing rules added, rules the catalog no longer gives removed), "
                                   "`list` prints them.")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    asub.add_parser("apply", help="create the missing ACLs, remove stale ones of our principals (idempotent)",
                    description="Needs the operator's identity (the default on the local broker).")
    ls = asub.add_parser("list", help="print the rules: a principal x topic x operation matrix, or kafka-acls.sh commands",
                         description="Without --format: one row per topic, one column per principal, letters R W D C "
                                     "(read, write, describe, create). --format kafka-acls prints the same rules as "
                                     "kafka-acls.sh commands to hand to a managed cluster's operators.")
    ls.add_argument("--format", choices=("matrix", "kafka-acls"), default="matrix")
    ls.add_argument("--bootstrap", default="BROKER:9093", help="bootstrap address put in the printed commands")
    ls.add_argument("--command-config", default="admin.properties",
                    help="the admin client config file named in the printed commands")
    p.set_defaults(func=cmd_acl)

    p = sub.add_parser("principal", help="credentials for a new downstream team or partner",
                       description="`principal add NAME --role downstream|partner:NAME` makes a SCRAM user with a "
                                   "random password, writes the password to a 0600 file (printed is its path, never "
                                   "the password) and applies the role's access rules: a downstream team reads the "
                                   "downstream topics, a partner its own partner topic, each in consumer groups named "
                                   "NAME-*.")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = psub.add_parser("add", help="make a principal and apply its rules")
    add.add_argument("name", help="the principal (SCRAM user) name, e.g. bi-team")
    add.add_argument("--role", required=True, help="downstream, or partner:NAME for a partner in schemas/partners.json")
    p.set_defaults(func=cmd_principal)
