"""Putting the catalog's access rules (pipeline_core.acl) on the broker, and its SCRAM users.

`apply_acls` is idempotent: it creates the missing ALLOW rules of our principals and
deletes theirs that the catalog no longer gives (a topic or partner removed); rules of
other principals are left alone. On the local secured broker it also makes the SCRAM
user of any principal that has none yet (a partner added to schemas/partners.json).
Passwords go to 0600 files and never to the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .acl import Grant, Principal, all_grants, parse_role, principals
from .errors import BrokerError, ConfigError
from .security import LOCAL_MECHANISM, LocalCredentials, Secret, kafka_client_config
from .settings import Settings

_SCRAM_ITERATIONS = 8192


@dataclass(frozen=True)
class AclReport:
    created: int
    deleted: int
    kept: int
    users_created: tuple[str, ...]


def known_principals(settings: Settings) -> tuple[Principal, ...]:
    """The built-in principals and those `principal add` recorded for the local broker."""
    return principals(LocalCredentials(settings.data_dir).added_principals())


def _admin(settings: Settings):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError
    try:
        return KafkaAdminClient(**kafka_client_config(settings, client_id="powersell-acl", request_timeout_ms=15000))
    except KafkaError as exc:
        raise BrokerError(f"cannot reach Kafka at {settings.bootstrap_servers} ({type(exc).__name__})") from None


def _to_kafka(g: Grant):
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType
    operation = {"Read": "READ", "Write": "WRITE", "Create": "CREATE", "Describe": "DESCRIBE",
                 "DescribeConfigs": "DESCRIBE_CONFIGS", "All": "ALL"}[g.operation]
    resource = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP, "cluster": ResourceType.CLUSTER}[g.resource]
    pattern = ACLResourcePatternType.PREFIXED if g.pattern == "prefixed" else ACLResourcePatternType.LITERAL
    return ACL(principal=f"User:{g.principal}", host="*", operation=ACLOperation[operation],
               permission_type=ACLPermissionType.ALLOW, resource_pattern=ResourcePattern(resource, g.name, pattern))


def _key(acl) -> tuple:
    rp = acl.resource_pattern
    return (acl.principal, acl.host, int(acl.operation), int(acl.permission_type),
            int(rp.resource_type), rp.resource_name, int(rp.pattern_type))


def _existing_acls(admin) -> list:
    from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePatternFilter
    from kafka.admin import ResourceType
    found, _ = admin.describe_acls(ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                                             permission_type=ACLPermissionType.ANY,
                                             resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                                                    ACLResourcePatternType.ANY)))
    return found


def apply_acls(settings: Settings, every: tuple[Principal, ...] | None = None) -> AclReport:
    every = known_principals(settings) if every is None else every
    local = LocalCredentials(settings.data_dir)
    admin = _admin(settings)
    try:
        users = ensure_local_users(admin, local, every) if local.secured() else ()
        wanted = {_key(a): a for a in map(_to_kafka, all_grants(every))}
        ours = {p.kafka_name for p in every}
        present = {_key(a): a for a in _existing_acls(admin)}
        missing = [a for k, a in wanted.items() if k not in present]
        stale = [a for k, a in present.items() if k not in wanted and a.principal in ours]
        if missing:
            result = admin.create_acls(missing)
            if result["failed"]:
                raise BrokerError(f"the broker refused {len(result['failed'])} ACL(s): {result['failed'][0]}")
        if stale:
            from kafka.admin import ACLFilter
            admin.delete_acls([ACLFilter(a.principal, a.host, a.operation, a.permission_type, a.resource_pattern)
                               for a in stale])
        return AclReport(len(missing), len(stale), len(wanted) - len(missing), users)
    finally:
        admin.close()


def ensure_local_users(admin, local: LocalCredentials, every: tuple[Principal, ...]) -> tuple[str, ...]:
    """Give every principal without a SCRAM user on the local broker one (its password in its 0600 file)."""
    existing = set(admin.describe_user_scram_credentials())
    missing = [p.name for p in every if p.name not in existing]
    for name in missing:
        password, _ = local.ensure_password(name)
        upsert_scram_user(admin, name, password)
    return tuple(missing)


def upsert_scram_user(admin, name: str, password: Secret) -> None:
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion
    mechanism = ScramMechanism[LOCAL_MECHANISM.replace("-", "_")]
    upsertion = UserScramCredentialUpsertion(name, mechanism, password.reveal(), iterations=_SCRAM_ITERATIONS)
    errors = {user: error for user, error in admin.alter_user_scram_credentials([upsertion]).items() if error}
    if errors:
        raise BrokerError(f"the broker refused the SCRAM user {name}: {errors[name]}")


def add_principal(settings: Settings, name: str, role: str) -> Path:
    """A new downstream team or partner: its SCRAM user (password in a 0600 file, returned), then its rules."""
    import re
    role = parse_role(role)
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,62}", name):
        raise ConfigError(f"a principal name is 2-63 lower-case letters, digits, '.', '_' or '-', got {name!r}")
    builtin = {p.name: p for p in principals()}
    if name in builtin and builtin[name].role != role:
        raise ConfigError(f"{name} is a built-in principal with role {builtin[name].role}")
    local = LocalCredentials(settings.data_dir)
    admin = _admin(settings)
    try:
        password, _ = local.ensure_password(name)
        upsert_scram_user(admin, name, password)
    finally:
        admin.close()
    local.record_principal(name, role)
    apply_acls(settings)
    return local.password_file(name)
