"""The three-node local Kafka cluster for tests: start one (or use the session's own), and place partition leaders.

`local_cluster(settings)` yields the operator's settings of a three-node cluster: the session's broker when
`kafka up --nodes 3` already runs it (left running), else a private one. `private_cluster()` always starts a
private one (its own data dir, free loopback ports and operator) and yields its operator's settings and the
LocalKafka that kills and restarts its nodes; it is stopped and wiped at the end. `move_leaders` puts the leader of each partition on the broker named:
a reassignment that only reorders the replicas (no data moves), then a preferred-leader election."""

from __future__ import annotations

import os
import random
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

from kafka import TopicPartition

from pipeline_core.kafka_broker import CLUSTER_NODES, LocalKafka, broker_answers, node_ports
from pipeline_core.kafka_io import admin_client, ensure_topics
from pipeline_core.security import OPERATOR, as_principal, without_security_env
from pipeline_core.settings import Settings


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_cluster_ports(nodes: int = CLUSTER_NODES, tries: int = 200) -> int:
    """A client port P such that every node's client and controller port (P .. P + 2 * nodes - 1) is free,
    below the kernel's ephemeral range: outgoing connections take their ports from that range, so a port found
    free there can be taken before a node binds it (seen: a node died on "Address already in use")."""
    top = min(_ephemeral_start(), 65535) - 2 * nodes
    for _ in range(tries):
        base = random.randrange(20000, max(top, 20002), 2)
        if all(_free(p) for pair in node_ports(base, base + 1, nodes) for p in pair):
            return base
    raise RuntimeError("no free loopback ports for a local cluster")


@contextmanager
def private_cluster(parent: Settings, heap: str = "256m", timeout: float = 240.0) -> Iterator[tuple[Settings, LocalKafka]]:
    """A three-node cluster of our own, never the session's: (its operator's settings, its LocalKafka)."""
    folder = tempfile.mkdtemp(prefix="powersell-cluster-", dir=parent.data_dir if parent.data_dir.exists() else None)
    port = free_cluster_ports()
    env = {**without_security_env(os.environ), "POWERSELL_DATA_DIR": folder, "POWERSELL_KAFKA_PORT": str(port),
           "POWERSELL_KAFKA_CONTROLLER_PORT": str(port + 1), "POWERSELL_KAFKA_HEAP": heap}
    env.pop("POWERSELL_BOOTSTRAP_SERVERS", None)  # its own operator (auto), not the session's
    cluster = LocalKafka(Settings.from_env(env), progress=lambda m: print("cluster:", m), nodes=CLUSTER_NODES)
    try:
        bootstrap = cluster.up(timeout=timeout)
        operator = as_principal(Settings.from_env({**env, "POWERSELL_BOOTSTRAP_SERVERS": bootstrap}), OPERATOR)
        ensure_topics(operator)
        yield operator, cluster
    finally:
        cluster.down(wipe=True)
        shutil.rmtree(folder, ignore_errors=True)  # ours alone: the credentials and anything a test left


@contextmanager
def local_cluster(settings: Settings, heap: str = "256m", timeout: float = 240.0) -> Iterator[Settings]:
    session = LocalKafka(settings)
    if len(session.nodes) == CLUSTER_NODES and broker_answers(session.bootstrap, brokers=CLUSTER_NODES,
                                                              client_config=session.client_config()):
        operator = as_principal(Settings.from_env({**os.environ, "POWERSELL_BOOTSTRAP_SERVERS": session.bootstrap}),
                                OPERATOR)
        ensure_topics(operator)
        yield operator
        return
    with private_cluster(settings, heap, timeout) as (operator, _):
        yield operator


def replication(operator: Settings, topic_names: tuple[str, ...]) -> dict[str, tuple[set[int], str]]:
    """topic -> (the replica counts of its partitions, its min.insync.replicas), as the brokers report them."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = admin_client(operator)
    try:
        counts = {d["name"]: {len(p["replica_nodes"]) for p in d["partitions"]}
                  for d in admin.describe_topics(list(topic_names))}
        answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topic_names])
        isr = {}
        for response in answer if isinstance(answer, list) else [answer]:  # kafka-python: {"topic": {name: {..}}}
            for name, entries in (response.get("topic") or {}).items():
                isr[name] = entries["min.insync.replicas"]["value"]
        return {t: (counts[t], isr[t]) for t in topic_names}
    finally:
        admin.close()


def leaders(operator: Settings, topic_names: tuple[str, ...]) -> dict[TopicPartition, int]:
    admin = admin_client(operator)
    try:
        return {TopicPartition(d["name"], p["partition_index"]): p["leader_id"]
                for d in admin.describe_topics(list(topic_names)) for p in d["partitions"]}
    finally:
        admin.close()


def move_leaders(operator: Settings, wanted: dict[TopicPartition, int], timeout: float = 60.0) -> None:
    """Make broker wanted[tp] the leader of tp (it must hold a replica: on a three-node cluster every broker does)."""
    admin = admin_client(operator)
    try:
        replicas = {TopicPartition(d["name"], p["partition_index"]): p["replica_nodes"]
                    for d in admin.describe_topics(sorted({tp.topic for tp in wanted})) for p in d["partitions"]}
        order = {tp: [broker, *(r for r in replicas[tp] if r != broker)] for tp, broker in wanted.items()}
        refused = {tp: err for tp, err in admin.alter_partition_reassignments(order).items() if err is not None}
        assert not refused, f"reassignment refused: {refused}"
        deadline = time.monotonic() + timeout
        while admin.list_partition_reassignments(list(wanted)):
            assert time.monotonic() < deadline, "reassignment did not finish"
            time.sleep(0.2)
        by_topic: dict[str, list[int]] = {}
        for tp in wanted:
            by_topic.setdefault(tp.topic, []).append(tp.partition)
        while True:
            admin.elect_leaders(0, by_topic, raise_errors=False)  # 0: preferred leader, the first replica
            now = {TopicPartition(d["name"], p["partition_index"]): p["leader_id"]
                   for d in admin.describe_topics(list(by_topic)) for p in d["partitions"]}
            if all(now[tp] == broker for tp, broker in wanted.items()):
                return
            assert time.monotonic() < deadline, f"leaders not moved: {now}"
            time.sleep(0.5)
    finally:
        admin.close()

