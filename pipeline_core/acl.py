"""The broker's access rules, derived from the topic catalog, never written by hand per topic.

Principals: the operator; one per service (topics.Service: connectors with the webhook
receiver, privacy worker, aggregation worker); a downstream reader; one per partner in
schemas/partners.json (`partner-NAME`); and those added with `principal add`.

Rules, from each topic's access class and the catalog's SERVICE_ACCESS:
- a service writes and reads exactly the topics SERVICE_ACCESS names for it; a Faust
  worker also owns the topics and consumer groups prefixed by its app id (Faust makes
  changelogs and an assignor topic there);
- a downstream reader reads every DOWNSTREAM topic and nothing else, in consumer groups
  named `<principal>-...`;
- a partner reads its own partner.NAME topic and nothing else, in groups `<principal>-...`;
- the operator may do everything on the catalog's topics (and is a super user of the
  local broker, which lets it manage users and ACLs).
Idempotent producers need no cluster ACL since Kafka 3.0 (KIP-679: WRITE on a topic is
enough), and no worker uses transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from .errors import ConfigError
from .security import OPERATOR
from .topics import CATALOG, FAUST_APP_IDS, SERVICE_ACCESS, AccessClass, Service, Topic, partner_of

Operation = Literal["Read", "Write", "Create", "Describe", "DescribeConfigs", "All"]
MATRIX_OPERATIONS: tuple[str, ...] = ("Read", "Write", "Describe", "Create")
# Kafka: READ, WRITE, DELETE and ALTER imply DESCRIBE on the same resource.
_IMPLIES_DESCRIBE = {"Read", "Write", "Delete", "Alter", "All"}
DOWNSTREAM_PRINCIPAL = "downstream"


@dataclass(frozen=True)
class Grant:
    """One ALLOW rule: `principal` may `operation` on a resource (literal name, or every name with a prefix)."""
    principal: str
    resource: Literal["topic", "group", "cluster"]
    name: str
    operation: str
    pattern: Literal["literal", "prefixed"] = "literal"

    def covers(self, resource: str, name: str, operation: str) -> bool:
        if self.resource != resource:
            return False
        if not (name == self.name if self.pattern == "literal" else name.startswith(self.name)):
            return False
        return self.operation in (operation, "All") or (operation == "Describe" and self.operation in _IMPLIES_DESCRIBE)


@dataclass(frozen=True)
class Principal:
    name: str
    role: str  # "operator", "service:<name>", "downstream" or "partner:<name>"

    @property
    def kafka_name(self) -> str:
        return f"User:{self.name}"


def partner_principal(partner: str) -> str:
    return f"partner-{partner}"


def parse_role(role: str) -> str:
    """A role as `principal add` accepts it: downstream or partner:NAME (NAME in schemas/partners.json)."""
    if role == "downstream":
        return role
    if role.startswith("partner:"):
        partner = role.split(":", 1)[1]
        known = sorted(p for t in CATALOG if (p := partner_of(t)))
        if partner not in known:
            raise ConfigError(f"unknown partner {partner!r}; partners in schemas/partners.json: {', '.join(known)}")
        return role
    raise ConfigError(f"a role is downstream or partner:NAME, got {role!r}")


def builtin_principals() -> tuple[Principal, ...]:
    partners = sorted(p for t in CATALOG if (p := partner_of(t)))
    return (Principal(OPERATOR, "operator"), *(Principal(s.value, f"service:{s.value}") for s in Service),
            Principal(DOWNSTREAM_PRINCIPAL, "downstream"),
            *(Principal(partner_principal(p), f"partner:{p}") for p in partners))


def principals(added: dict[str, str] | None = None) -> tuple[Principal, ...]:
    """The built-in principals and those added with `principal add` ({name: role})."""
    builtin = builtin_principals()
    names = {p.name for p in builtin}
    return builtin + tuple(Principal(n, r) for n, r in sorted((added or {}).items()) if n not in names)


def grants(principal: Principal, catalog: tuple[Topic, ...] = CATALOG) -> tuple[Grant, ...]:
    """Every ALLOW rule of one principal."""
    name, role = principal.name, principal.role
    out: list[Grant] = []
    if role == "operator":
        out += [Grant(name, "topic", t.name, "All") for t in catalog]
        out += [Grant(name, "group", "powersell", "All", "prefixed"), Grant(name, "cluster", "kafka-cluster", "Describe")]
    elif role.startswith("service:"):
        service = Service(role.split(":", 1)[1])
        for t in catalog:
            writers, readers = SERVICE_ACCESS[t.name]
            if service in writers:
                out.append(Grant(name, "topic", t.name, "Write"))
            if service in readers:
                out.append(Grant(name, "topic", t.name, "Read"))
        if service in FAUST_APP_IDS:
            app_id = FAUST_APP_IDS[service]
            out += [Grant(name, "topic", f"{app_id}-", op, "prefixed")
                    for op in ("Read", "Write", "Create", "Describe", "DescribeConfigs")]
            out.append(Grant(name, "group", app_id, "Read", "prefixed"))
    elif role == "downstream":
        out += [Grant(name, "topic", t.name, "Read") for t in catalog if t.access is AccessClass.DOWNSTREAM]
        out.append(Grant(name, "group", f"{name}-", "Read", "prefixed"))
    elif role.startswith("partner:"):
        partner = role.split(":", 1)[1]
        out += [Grant(name, "topic", t.name, "Read") for t in catalog if partner_of(t) == partner]
        out.append(Grant(name, "group", f"{name}-", "Read", "prefixed"))
    else:
        raise ConfigError(f"unknown role {role!r} of principal {name}")
    return tuple(out)


def all_grants(every: Iterable[Principal]) -> tuple[Grant, ...]:
    return tuple(g for p in every for g in grants(p))


def allowed(grant_list: Iterable[Grant], principal: str, topic_name: str, operation: str) -> bool:
    """Whether the rules let `principal` do `operation` on a topic (what the broker must decide)."""
    return any(g.principal == principal and g.covers("topic", topic_name, operation) for g in grant_list)


def matrix(every: tuple[Principal, ...], catalog: tuple[Topic, ...] = CATALOG) -> dict[tuple[str, str, str], bool]:
    """{(principal, topic, operation): allowed} for the matrix operations."""
    rules = all_grants(every)
    return {(p.name, t.name, op): allowed(rules, p.name, t.name, op)
            for p in every for t in catalog for op in MATRIX_OPERATIONS}


# ---------------------------------------------------------------- printing
def format_matrix(every: tuple[Principal, ...], catalog: tuple[Topic, ...] = CATALOG) -> str:
    """A table: one row per topic, one column per principal, letters R W D C for what is allowed."""
    cells = matrix(every, catalog)
    head = ["TOPIC", "ACCESS", *(p.name for p in every)]
    rows = [[t.name, t.access.value, *("".join(op[0] if cells[(p.name, t.name, op)] else "-"
                                               for op in MATRIX_OPERATIONS) for p in every)] for t in catalog]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    extra = [f"  {g.principal}: {g.operation} on {g.resource} {g.name}{'*' if g.pattern == 'prefixed' else ''}"
             for g in all_grants(every) if g.resource != "topic" or g.pattern == "prefixed"]
    return "\n".join(lines + ["", "R read, W write, D describe, C create. Groups and prefixed topics:", *extra])


def format_kafka_acls(every: tuple[Principal, ...], bootstrap: str = "BROKER:9093",
                      command_config: str = "admin.properties") -> str:
    """The rules as kafka-acls.sh commands, for the operators of a managed cluster."""
    lines = []
    for g in all_grants(every):
        resource = {"topic": f"--topic {g.name}", "group": f"--group {g.name}", "cluster": "--cluster"}[g.resource]
        pattern = " --resource-pattern-type prefixed" if g.pattern == "prefixed" else ""
        lines.append(f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config {command_config} --add "
                     f"--allow-principal User:{g.principal} --operation {g.operation} {resource}{pattern}")
    return "\n".join(lines)
