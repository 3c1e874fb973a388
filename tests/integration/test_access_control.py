"""The secured broker enforces the catalog's access rules, and refuses whoever cannot prove who it is.

The matrix is probed with raw requests, one per operation for all topics at once, so that
nothing is written and nothing is created: a produce and a fetch name partition 999, which
no topic has (allowed: UNKNOWN_TOPIC_OR_PARTITION; refused: TOPIC_AUTHORIZATION_FAILED,
checked by the broker first), and topic creation is validate-only (allowed: TOPIC_ALREADY_EXISTS).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import GroupAuthorizationFailedError, KafkaError

from pipeline_core.acl import MATRIX_OPERATIONS, builtin_principals, matrix
from pipeline_core.security import LocalCredentials, Secret, as_principal, kafka_client_config, principal_env
from pipeline_core.topics import CATALOG, AccessClass
from tests.support.workers import start_worker, stop_worker

pytestmark = pytest.mark.kafka

NOT_AUTHORISED = 29  # TOPIC_AUTHORIZATION_FAILED
ALLOWED_CODES = {"Describe": {0}, "Create": {36}, "Write": {3}, "Read": {3}}  # exists / unknown partition 999
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local(kafka) -> LocalCredentials:
    creds = LocalCredentials(kafka.data_dir)
    if not creds.secured():
        pytest.fail("the test broker is not secured: start it with `powersell-pipeline kafka up` (without --insecure)")
    return creds


def probe(settings, topics: list[str]) -> dict[tuple[str, str], int]:
    """{(topic, operation): Kafka error code} for Describe, Create, Write and Read, nothing written."""
    from kafka.protocol.consumer import FetchRequest
    from kafka.protocol.metadata import MetadataRequest
    from kafka.protocol.producer import ProduceRequest
    from kafka.record.memory_records import MemoryRecordsBuilder

    admin = KafkaAdminClient(**kafka_client_config(settings, client_id="matrix-probe"))
    manager = admin._manager  # raw requests: kafka-python's clients check partitions before sending
    out: dict[tuple[str, str], int] = {}
    try:
        meta = manager.run(manager.send, MetadataRequest(
            topics=[MetadataRequest.MetadataRequestTopic(name=t) for t in topics], allow_auto_topic_creation=False,
            max_version=8))
        out.update({(t.name, "Describe"): t.error_code for t in meta.topics})
        created = admin.create_topics({t: {"num_partitions": 1, "replication_factor": 1} for t in topics},
                                      validate_only=True, raise_errors=False)
        out.update({(t["name"], "Create"): t["error_code"] for t in created["topics"]})
        batch = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1024)
        batch.append(timestamp=None, key=b"probe", value=b"probe", headers=[])
        batch.close()
        produce = ProduceRequest.TopicProduceData
        produced = manager.run(manager.send, ProduceRequest(
            transactional_id=None, acks=1, timeout_ms=5000, max_version=9,
            topic_data=[produce(name=t, partition_data=[produce.PartitionProduceData(index=999, records=batch.buffer())])
                        for t in topics]))
        out.update({(t.name, "Write"): t.partition_responses[0].error_code for t in produced.responses})
        fetch = FetchRequest.FetchTopic
        fetched = manager.run(manager.send, FetchRequest(
            max_wait_ms=0, min_bytes=0, max_bytes=1024, isolation_level=0, session_id=0, session_epoch=-1,
            forgotten_topics_data=[], rack_id="", max_version=12,
            topics=[fetch(topic=t, partitions=[fetch.FetchPartition(partition=999, current_leader_epoch=-1, fetch_offset=0,
                                                                    last_fetched_epoch=-1, partition_max_bytes=1024)])
                    for t in topics]))
        out.update({(t.topic, "Read"): t.partitions[0].error_code for t in fetched.responses})
    finally:
        admin.close()
    return out


def test_the_broker_allows_each_operation_exactly_when_the_catalog_says(kafka, local):
    expected = matrix(builtin_principals())
    topics = [t.name for t in CATALOG]
    wrong = []
    for p in builtin_principals():
        got = probe(as_principal(kafka, p.name), topics)
        assert len(got) == len(topics) * len(MATRIX_OPERATIONS), p.name
        for t in topics:
            for op in MATRIX_OPERATIONS:
                code, allowed = got[(t, op)], expected[(p.name, t, op)]
                if (code in ALLOWED_CODES[op]) != allowed or code not in ALLOWED_CODES[op] | {NOT_AUTHORISED}:
                    wrong.append(f"{p.name} {op} {t}: Kafka error {code}, catalog says {'allow' if allowed else 'deny'}")
    assert wrong == []
    # the cases the issue names, read from the same probes
    downstream = probe(as_principal(kafka, "downstream"), topics)
    refused = ["raw.orders", "consent.events", "ops.dead-letters", "audit.access",
               *(t.name for t in CATALOG if t.access is AccessClass.PARTNER)]
    assert all(downstream[(t, op)] == NOT_AUTHORISED for t in refused for op in MATRIX_OPERATIONS)
    assert all(downstream[(t.name, "Read")] == 3 for t in CATALOG if t.access is AccessClass.DOWNSTREAM)
    swiftship = probe(as_principal(kafka, "partner-swiftship"), ["partner.marketlens", "partner.swiftship"])
    assert swiftship[("partner.marketlens", "Read")] == NOT_AUTHORISED and swiftship[("partner.swiftship", "Read")] == 3


def test_a_downstream_reader_reads_redacted_data_in_its_own_groups_only(kafka, local):
    from pipeline_core.kafka_io import AvroPublisher, read_back
    from pipeline_core.sample_events import sample_events

    downstream = as_principal(kafka, "downstream")
    assert downstream.kafka_username == "downstream"
    name, key, order = next(e for e in sample_events() if e[0] == "raw.orders")
    publisher = AvroPublisher(as_principal(kafka, "connectors"), client_id="acl-test")  # connectors write raw data
    try:
        written = publisher.send("raw.orders", key, order).get(timeout=30)
    finally:
        publisher.close()
    where = [("raw.orders", written.partition, written.offset)]
    assert len(list(read_back(kafka, where, timeout=30))) == 1  # the control: the operator reads it
    assert list(read_back(downstream, where, timeout=5)) == []  # the downstream reader gets nothing of it
    mine = KafkaConsumer("redacted.orders", **kafka_client_config(downstream, group_id="downstream-tests",
                                                                   auto_offset_reset="earliest"))
    try:
        mine.poll(timeout_ms=3000)  # joins a group of its own prefix: allowed, nothing raised
    finally:
        mine.close()
    other = KafkaConsumer("redacted.orders", **kafka_client_config(downstream, group_id="powersell-redactor"))
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            for _ in range(10):
                other.poll(timeout_ms=1000)
    finally:
        other.close()


def _connects(config: dict) -> bool:
    try:
        admin = KafkaAdminClient(**config, client_id="refusal-probe", request_timeout_ms=5000, bootstrap_timeout_ms=5000)
    except KafkaError:
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except KafkaError:
        return False
    finally:
        admin.close()


@pytest.mark.slow
def test_only_a_known_user_with_its_password_over_trusted_tls_gets_in(kafka, local):
    good = kafka_client_config(kafka)
    assert _connects(good)  # the control: the operator with its own password gets in
    bootstrap = {"bootstrap_servers": kafka.bootstrap_servers}
    assert not _connects(bootstrap)  # anonymous, plain text (the first reader)
    assert not _connects({**bootstrap, "security_protocol": "SSL", "ssl_cafile": good["ssl_cafile"]})  # TLS, no SASL
    assert not _connects({**good, "sasl_plain_password": "not-the-password"})
    assert not _connects({**good, "sasl_plain_username": "nobody-we-know"})
    assert not _connects({**good, "ssl_cafile": None})  # the system's CAs do not know our broker's certificate


def _secrets(local: LocalCredentials) -> dict[str, bytes]:
    found = {p.stem: p.read_bytes().strip() for p in local.users.glob("*.password")}
    for pem in (local.broker_pem, local.ca_key):
        body = pem.read_text().split("-----BEGIN PRIVATE KEY-----")[1].split("-----END")[0]
        found[pem.name] = "".join(body.split())[:40].encode()  # any line of the key would be a leak
    return found


def test_no_secret_in_logs_command_lines_metrics_or_the_repository(kafka, local, tmp_path):
    env = {**os.environ, "POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "POWERSELL_LOG_LEVEL": "DEBUG", **principal_env(kafka, "aggregation-worker")}
    assert "POWERSELL_KAFKA_PASSWORD" not in env and env["POWERSELL_KAFKA_USERNAME"] == "aggregation-worker"
    log = tmp_path / "worker.log"
    worker = start_worker(env, "worker", "aggregation", "--metrics-port", "0", log_path=log)
    try:
        deadline, port = time.monotonic() + 120, None
        while port is None and time.monotonic() < deadline and worker.poll() is None:
            text = log.read_text(errors="replace")
            if "metrics at http://127.0.0.1:" in text:
                port = int(text.split("metrics at http://127.0.0.1:", 1)[1].split("/", 1)[0])
            else:
                time.sleep(0.5)
        assert port is not None, log.read_text(errors="replace")[-2000:]
        while time.monotonic() < deadline and "powersell_consumer_lag" not in (page := _get(port)):
            time.sleep(1)  # connected and reading: the lag monitor reports
        cmdlines = b"\n".join(_read(p / "cmdline") for p in Path("/proc").iterdir() if p.name.isdigit())
        environ = _read(Path(f"/proc/{worker.pid}/environ"))
    finally:
        stop_worker(worker)
    logs = log.read_bytes() + (kafka.data_dir / "kafka" / "kafka.log").read_bytes()
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True).stdout.split(b"\0")
    repository = b"".join(_read(REPO / name.decode()) for name in tracked if name)
    secrets = _secrets(local)
    assert len(secrets) >= 9
    for name, secret in secrets.items():
        for where, text in (("a command line", cmdlines), ("a log", logs), ("the metrics", page.encode()),
                            ("a committed file", repository)):
            assert secret not in text, f"{name}'s secret is in {where}"
    assert secrets["aggregation-worker"] not in environ  # a password file is named, the password is not
    import re
    assert not re.search(rb"-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----\s+[A-Za-z0-9+/]{40}", repository)
    assert repr(Secret(secrets["operator"].decode())) == "Secret('**********')"


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.is_file() else b""
    except OSError:
        return b""


def test_principal_add_makes_a_user_with_its_roles_rules_and_prints_only_where_the_password_is(kafka, local):
    import uuid

    name = f"test-team-{uuid.uuid4().hex[:6]}"
    done = subprocess.run([sys.executable, "-m", "powersell.cli", "principal", "add", name, "--role",
                           "partner:marketlens"], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, **principal_env(kafka, "operator")})
    assert done.returncode == 0, done.stderr
    path = local.password_file(name)
    password = path.read_text().strip()
    assert str(path) in done.stdout and password not in done.stdout + done.stderr
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    newcomer = as_principal(kafka, name)
    assert newcomer.kafka_username == name
    got = probe(newcomer, ["partner.marketlens", "partner.swiftship", "redacted.orders"])
    assert got[("partner.marketlens", "Read")] == 3
    assert got[("partner.swiftship", "Read")] == got[("redacted.orders", "Read")] == NOT_AUTHORISED
    refused = subprocess.run([sys.executable, "-m", "powersell.cli", "principal", "add", "x1", "--role", "admin"],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
    assert refused.returncode == 2 and "downstream or partner:NAME" in refused.stderr
