"""The access rules follow the catalog's access classes."""

from __future__ import annotations

import pytest

from pipeline_core.acl import (DOWNSTREAM_PRINCIPAL, Grant, Principal, all_grants, builtin_principals,
                               format_kafka_acls, format_matrix, grants, matrix, parse_role, principals)
from pipeline_core.errors import ConfigError
from pipeline_core.topics import CATALOG, SERVICE_ACCESS, AccessClass, Service

EVERY = builtin_principals()
M = matrix(EVERY)
SERVICES = {s.value for s in Service}


def readers(topic_name: str) -> set[str]:
    return {p.name for p in EVERY if M[(p.name, topic_name, "Read")]}


def test_every_catalog_topic_says_which_services_use_it():
    assert set(SERVICE_ACCESS) == {t.name for t in CATALOG}


def test_the_principals_are_the_operator_each_service_a_downstream_reader_and_each_partner():
    names = {p.name for p in EVERY}
    partners = {t.name.split(".", 1)[1] for t in CATALOG if t.access is AccessClass.PARTNER}
    assert names == {"operator", *SERVICES, DOWNSTREAM_PRINCIPAL, *(f"partner-{p}" for p in partners)}


@pytest.mark.parametrize("t", CATALOG, ids=lambda t: t.name)
def test_who_reads_a_topic_follows_its_access_class(t):
    who = readers(t.name) - {"operator"}
    if t.access is AccessClass.DOWNSTREAM:
        assert DOWNSTREAM_PRINCIPAL in who and not any(n.startswith("partner-") for n in who)
    elif t.access is AccessClass.PARTNER:
        assert who - SERVICES == {f"partner-{t.name.split('.', 1)[1]}"}
    else:  # restricted and internal: services that need them, and the operator
        assert who <= SERVICES
    assert M[("operator", t.name, "Read")] and M[("operator", t.name, "Create")]
    assert not any(M[(p, t.name, "Create")] for p in SERVICES | {DOWNSTREAM_PRINCIPAL})


def test_the_cases_the_issue_names():
    for name in ("raw.orders", "consent.events", "ops.dead-letters", "audit.access", "partner.marketlens",
                 "partner.swiftship"):
        assert not any(M[(DOWNSTREAM_PRINCIPAL, name, op)] for op in ("Read", "Write", "Describe", "Create"))
    assert not M[("partner-swiftship", "partner.marketlens", "Read")] and M[("partner-swiftship", "partner.swiftship", "Read")]
    for t in CATALOG:  # connectors cannot read redacted or partner data
        if t.access in (AccessClass.DOWNSTREAM, AccessClass.PARTNER):
            assert not M[("connectors", t.name, "Read")]
    assert {n for n in ("raw.shops", "raw.products", "raw.orders", "consent.events", "connector.checkpoints")
            if M[("connectors", n, "Write")]} == {"raw.shops", "raw.products", "raw.orders", "consent.events",
                                                  "connector.checkpoints"}
    privacy_writes = {t.name for t in CATALOG if M[("privacy-worker", t.name, "Write")]}
    assert {"redacted.orders", "partner.swiftship", "audience.marketing", "audit.access", "privacy.erasure-receipts",
            "ops.dead-letters"} <= privacy_writes and not any(n.startswith("raw.") for n in privacy_writes)


def test_faust_workers_own_their_internal_topics_and_groups_by_prefix():
    rules = grants(Principal("privacy-worker", "service:privacy-worker"))
    assert Grant("privacy-worker", "topic", "powersell-redactor-", "Create", "prefixed") in rules
    assert Grant("privacy-worker", "group", "powersell-redactor", "Read", "prefixed") in rules
    assert not any(g.resource == "group" for g in grants(Principal("connectors", "service:connectors")))
    assert Grant(DOWNSTREAM_PRINCIPAL, "group", "downstream-", "Read", "prefixed") in grants(EVERY[4])


def test_added_principals_get_their_roles_rules():
    every = principals({"bi-team": "downstream", "lens-2": "partner:marketlens"})
    m = matrix(every)
    assert m[("bi-team", "redacted.orders", "Read")] and not m[("bi-team", "raw.orders", "Read")]
    assert m[("lens-2", "partner.marketlens", "Read")] and not m[("lens-2", "partner.swiftship", "Read")]


@pytest.mark.parametrize("role", ["admin", "partner:nobody", "partner:"])
def test_unknown_roles_are_refused(role):
    with pytest.raises(ConfigError):
        parse_role(role)


def test_the_rules_print_as_a_matrix_and_as_kafka_acls_commands():
    table = format_matrix(EVERY)
    assert table.splitlines()[0].split()[:3] == ["TOPIC", "ACCESS", "operator"]
    assert any(line.startswith("raw.orders") and "RWDC" in line for line in table.splitlines())
    commands = format_kafka_acls(EVERY, "b:9093", "admin.properties").splitlines()
    assert len(commands) == len(all_grants(EVERY))
    assert ("kafka-acls.sh --bootstrap-server b:9093 --command-config admin.properties --add --allow-principal "
            "User:downstream --operation Read --topic redacted.orders") in commands
    assert any("--group powersell-redactor --resource-pattern-type prefixed" in c for c in commands)


def test_acl_list_on_the_command_line_needs_no_broker(tmp_path, monkeypatch, capsys):
    from powersell.cli import main

    monkeypatch.setenv("POWERSELL_DATA_DIR", str(tmp_path))
    assert main(["acl", "list"]) == 0
    matrix_out = capsys.readouterr().out
    assert matrix_out.startswith("TOPIC") and "partner-swiftship" in matrix_out
    assert main(["acl", "list", "--format", "kafka-acls", "--bootstrap", "b-1:9096"]) == 0
    commands = capsys.readouterr().out.splitlines()
    assert len(commands) == len(all_grants(EVERY)) and all(c.startswith("kafka-acls.sh --bootstrap-server b-1:9096")
                                                           for c in commands)
