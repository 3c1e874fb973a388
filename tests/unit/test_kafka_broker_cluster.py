"""The three-node local cluster's plan, checked without Java or a broker: ports, configs, the node-count marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_core.errors import BrokerError
from pipeline_core.kafka_broker import (CLUSTER_NODES, BrokerSecurity, LocalKafka, cluster_storage, node_ports,
                                        render_server_properties, single_node_storage)
from pipeline_core.security import Secret
from pipeline_core.settings import Settings
from pipeline_core.topics import replication_for


def _settings(tmp_path: Path, port: int = 19192, controller: int = 19193) -> Settings:
    return Settings.from_env({"POWERSELL_KAFKA_PORT": str(port), "POWERSELL_KAFKA_CONTROLLER_PORT": str(controller),
                              "POWERSELL_DATA_DIR": str(tmp_path / "data"),
                              "POWERSELL_CACHE_DIR": str(tmp_path / "cache")})


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.mark.parametrize("brokers, expected", [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2)), (0, (1, 1))])
def test_when_the_cluster_has_n_brokers_then_topics_get_this_replication(brokers, expected):
    assert replication_for(brokers) == expected


def test_node_n_listens_on_the_configured_ports_plus_two_per_node():
    assert node_ports(9092, 9093, 3) == [(9092, 9093), (9094, 9095), (9096, 9097)]
    assert node_ports(19142, 29000, 3) == [(19142, 29000), (19144, 29002), (19146, 29004)]
    assert node_ports(9092, 9093, 1) == [(9092, 9093)]


@pytest.mark.parametrize("port, controller", [(9092, 9094), (9092, 9096), (65534, 9093)])
def test_when_node_ports_would_collide_then_the_plan_is_refused(port, controller):
    with pytest.raises(BrokerError, match="collide"):
        node_ports(port, controller, 3)


def test_a_three_node_cluster_has_its_own_folder_and_ports_per_node(tmp_path):
    kafka = LocalKafka(_settings(tmp_path), nodes=3)
    assert [(n.node_id, n.port, n.controller_port) for n in kafka.nodes] == [
        (1, 19192, 19193), (2, 19194, 19195), (3, 19196, 19197)]
    assert [n.home for n in kafka.nodes] == [kafka.home / f"node-{i}" for i in (1, 2, 3)]
    assert len({n.log_dirs for n in kafka.nodes}) == 3
    assert kafka.bootstrap == "127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196"


def test_the_one_node_layout_is_unchanged(tmp_path):
    kafka = LocalKafka(_settings(tmp_path))
    assert len(kafka.nodes) == 1 and kafka.bootstrap == "127.0.0.1:19192"
    assert (kafka.properties, kafka.pid_file, kafka.log_dirs) == (
        kafka.home / "server.properties", kafka.home / "kafka.pid", kafka.home / "data")


def test_each_node_is_a_voter_of_one_quorum_on_loopback_with_replicated_internal_topics(tmp_path):
    kafka = LocalKafka(_settings(tmp_path), nodes=3)
    security = BrokerSecurity(tmp_path / "broker.pem", tmp_path / "ca.pem", Secret("broker-pw"))
    configs = [_props(kafka._render(node, security)) for node in kafka.nodes]
    assert [c["node.id"] for c in configs] == ["1", "2", "3"]
    assert {c["controller.quorum.voters"] for c in configs} == {"1@127.0.0.1:19193,2@127.0.0.1:19195,3@127.0.0.1:19197"}
    assert [c["listeners"] for c in configs] == [f"CLIENT://127.0.0.1:{p},CONTROLLER://127.0.0.1:{p + 1}"
                                                 for p in (19192, 19194, 19196)]
    assert len({c["log.dirs"] for c in configs}) == 3
    for c in configs:  # secured like the one-node broker; Kafka's own topics replicated like the catalog's
        assert c["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL"
        assert c["inter.broker.listener.name"] == "CLIENT" and c["allow.everyone.if.no.acl.found"] == "false"
        assert (c["offsets.topic.replication.factor"], c["transaction.state.log.replication.factor"]) == ("3", "3")
        assert (c["min.insync.replicas"], c["transaction.state.log.min.isr"], c["default.replication.factor"]) == (
            "2", "2", "3")


def test_the_one_node_config_is_as_before(tmp_path):
    text = render_server_properties(29092, 29093, tmp_path / "data")
    assert text.endswith(single_node_storage(tmp_path / "data"))
    assert _props(text)["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert "min.insync.replicas" not in text
    assert _props(cluster_storage("/d", CLUSTER_NODES))["offsets.topic.replication.factor"] == "3"


def test_the_data_dir_remembers_its_node_count_and_refuses_another(tmp_path):
    settings = _settings(tmp_path)
    cluster = LocalKafka(settings, nodes=3)
    cluster.home.mkdir(parents=True)
    cluster.marker.write_text("3\n")  # what `up` writes
    assert len(LocalKafka(settings).nodes) == 3  # `kafka up`, `status` and `down` without --nodes: the same cluster
    with pytest.raises(BrokerError) as err:
        LocalKafka(settings, nodes=1)._check_node_count()
    assert "3-node" in str(err.value) and "\n" not in str(err.value) and "--wipe" in str(err.value)
    LocalKafka(settings, nodes=3)._check_node_count()  # the same count: fine


def test_storage_formatted_before_the_marker_counts_as_one_node(tmp_path):
    settings = _settings(tmp_path)
    (settings.data_dir / "kafka" / "data").mkdir(parents=True)
    (settings.data_dir / "kafka" / "data" / "meta.properties").write_text("node.id=1\n")
    with pytest.raises(BrokerError, match="1-node"):
        LocalKafka(settings, nodes=3)._check_node_count()
    assert len(LocalKafka(settings).nodes) == 1


def test_only_one_or_three_nodes(tmp_path):
    with pytest.raises(BrokerError, match="1 or 3"):
        LocalKafka(_settings(tmp_path), nodes=2)


def test_status_of_a_stopped_cluster_names_every_node(tmp_path):
    st = LocalKafka(_settings(tmp_path), nodes=3).status()
    assert (st.running, st.nodes, st.pids, st.answering) == (False, 3, (None, None, None), False)


def test_the_workers_producer_is_idempotent_with_acks_all_and_knows_every_node(tmp_path):
    from streams.app import faust_app
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path),
                                  "POWERSELL_BOOTSTRAP_SERVERS": "127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196"})
    producer = faust_app(settings, "probe").producer
    config = {**producer._settings_default(), **producer._settings_extra()}
    assert config["acks"] == "all" and config["enable_idempotence"] is True
    assert config["bootstrap_servers"] == ["127.0.0.1:19192", "127.0.0.1:19194", "127.0.0.1:19196"]


def test_the_workers_producer_lingers_to_fill_larger_batches(tmp_path):
    from streams.app import faust_app
    producer = faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "probe").producer
    config = {**producer._settings_default(), **producer._settings_extra()}
    assert (config["linger_ms"], config["max_batch_size"]) == (20, 256 * 1024)
