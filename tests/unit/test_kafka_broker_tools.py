"""Checks of the local broker module that need neither Java, Maven nor a broker.

Fake `java` and `mvn` scripts are put on a PATH of their own, so these tests behave
the same on machines with and without the real tools.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from pipeline_core.errors import BrokerError, MissingToolError
from pipeline_core.kafka_broker import (LocalKafka, broker_answers, check_tools, java_major_version,
                                        render_server_properties)
from pipeline_core.settings import Settings


def _script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nPATH=/usr/bin:/bin\n" + body + "\n")  # the test's PATH is only `folder`
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _fake_java(folder: Path, version: str) -> Path:
    return _script(folder, "java", f"echo 'openjdk version \"{version}\" 2024-01-01' >&2")


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def _settings(tmp_path: Path, port: int = 19192) -> Settings:
    return Settings.from_env({"POWERSELL_KAFKA_PORT": str(port), "POWERSELL_KAFKA_CONTROLLER_PORT": "19193",
                              "POWERSELL_DATA_DIR": str(tmp_path / "data"),
                              "POWERSELL_CACHE_DIR": str(tmp_path / "cache")})


def test_java_missing(bin_dir: Path) -> None:
    with pytest.raises(MissingToolError) as err:
        check_tools(need_maven=False)
    message = str(err.value)
    assert "Java 17 or newer" in message and "`java` was not found on PATH" in message
    assert "openjdk-17-jre-headless" in message and "docker compose up kafka" in message


def test_java_too_old(bin_dir: Path) -> None:
    _fake_java(bin_dir, "11.0.2")
    with pytest.raises(MissingToolError, match=r"Java 17 or newer .* is Java 11 .*docker compose up kafka"):
        check_tools(need_maven=False)


@pytest.mark.parametrize("printed, major", [("1.8.0_292", 8), ("11.0.2", 11), ("17.0.15", 17), ("21", 21)])
def test_java_version_parsing(bin_dir: Path, printed: str, major: int) -> None:
    assert java_major_version(str(_fake_java(bin_dir, printed))) == major


def test_maven_needed_only_when_jars_are_not_cached(bin_dir: Path) -> None:
    _fake_java(bin_dir, "17.0.15")
    check_tools(need_maven=False)  # Java is enough once the jars are cached
    with pytest.raises(MissingToolError, match=r"`mvn` was not found on PATH.*docker compose up kafka"):
        check_tools(need_maven=True)
    _script(bin_dir, "mvn", "exit 0")
    check_tools(need_maven=True)


def test_server_properties_use_configured_ports_and_loopback_only(tmp_path: Path) -> None:
    text = render_server_properties(29092, 29093, tmp_path / "data")
    props = dict(line.split("=", 1) for line in text.splitlines() if line)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["process.roles"] == "broker,controller"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "false"
    assert "0.0.0.0" not in text and "localhost" not in text


def test_paths_come_from_settings(tmp_path: Path) -> None:
    kafka = LocalKafka(_settings(tmp_path))
    assert kafka.home == tmp_path / "data" / "kafka"
    assert kafka.lib_dir == tmp_path / "cache" / "kafka-4.1.1" / "lib"
    assert kafka.bootstrap == "127.0.0.1:19192"


def test_up_checks_tools_before_touching_anything(tmp_path: Path, bin_dir: Path) -> None:
    kafka = LocalKafka(_settings(tmp_path))
    with pytest.raises(MissingToolError):
        kafka.up()
    assert not (tmp_path / "data").exists() and not (tmp_path / "cache").exists()


def test_failed_maven_run_leaves_no_cache(tmp_path: Path, bin_dir: Path) -> None:
    _script(bin_dir, "mvn", "for i in $(seq 1 30); do echo \"maven line $i\"; done; exit 1")
    kafka = LocalKafka(_settings(tmp_path))
    with pytest.raises(BrokerError) as err:
        kafka.ensure_jars()
    message = str(err.value)
    assert "Maven Central" in message and "maven line 30" in message and "maven line 10\n" not in message
    assert os.listdir(kafka.lib_dir.parent) == []  # no half-finished folder taken for a cache


def test_jars_are_resolved_once_then_reused_without_maven(tmp_path: Path, bin_dir: Path) -> None:
    # The fake Maven creates the jar in the folder given by -DoutputDirectory=...
    _script(bin_dir, "mvn", 'for a; do case "$a" in -DoutputDirectory=*) d="${a#*=}";; esac; done\n'
                            'mkdir -p "$d" && touch "$d/kafka_2.13-4.1.1.jar"')
    progress: list[str] = []
    kafka = LocalKafka(_settings(tmp_path), progress=progress.append)
    assert kafka.ensure_jars() == kafka.lib_dir and kafka.status().jars_cached
    assert progress == ["resolving Kafka 4.1.1 jars from Maven Central (first run only)..."]
    (bin_dir / "mvn").unlink()
    assert kafka.ensure_jars() == kafka.lib_dir and len(progress) == 1
    assert sorted(os.listdir(kafka.lib_dir.parent)) == ["lib"]


def test_down_without_broker_and_stale_pid_file(tmp_path: Path) -> None:
    kafka = LocalKafka(_settings(tmp_path))
    assert kafka.down() is False
    kafka.home.mkdir(parents=True)
    kafka.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not our broker
    status = kafka.status()
    assert not status.running and status.pid is None and not status.answering
    assert kafka.down() is False and not kafka.pid_file.exists()


def test_up_refuses_a_port_taken_by_something_else(tmp_path: Path, bin_dir: Path) -> None:
    _fake_java(bin_dir, "17.0.15")
    _script(bin_dir, "mvn", "exit 1")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert broker_answers(f"127.0.0.1:{port}", timeout=0.5) is False  # open, but not Kafka
        with pytest.raises(BrokerError, match=rf"something else listens on 127.0.0.1:{port}.*POWERSELL_KAFKA_PORT"):
            LocalKafka(_settings(tmp_path, port=port)).up()


def test_broker_answers_never_raises() -> None:
    assert broker_answers("127.0.0.1:1", timeout=0.5) is False
    assert broker_answers("not a bootstrap", timeout=0.5) is False


def test_cluster_ids_are_kraft_uuids_that_never_look_like_options():
    import base64

    from pipeline_core.kafka_broker import new_cluster_id
    ids = [new_cluster_id() for _ in range(2000)]  # a leading '-' would turn up about 30 times in 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)


def test_the_secured_broker_authenticates_every_client_and_denies_by_default(tmp_path: Path) -> None:
    from pipeline_core.kafka_broker import BrokerSecurity
    from pipeline_core.security import Secret

    security = BrokerSecurity(tmp_path / "broker.pem", tmp_path / "ca.pem", Secret("broker-pw"))
    text = render_server_properties(29092, 29093, tmp_path / "data", security)
    props = dict(line.split("=", 1) for line in text.splitlines() if line)
    assert props["listeners"] == "CLIENT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"  # loopback only
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.controller.ssl.client.auth"] == "required"  # only the broker's own certificate
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert set(props["super.users"].split(";")) == {"User:broker", "User:operator", "User:CN=powersell-broker"}
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert "PLAINTEXT" not in text and "0.0.0.0" not in text
    assert "Secret(" not in text and 'password="broker-pw"' in text  # the broker's own login, in a 0600 file


def test_kafka_up_formats_with_every_principal_without_a_password_on_the_command_line(tmp_path, monkeypatch):
    from pipeline_core import kafka_broker

    kafka = LocalKafka(_settings(tmp_path))
    kafka.home.mkdir(parents=True)
    kafka._prepare_credentials()
    seen = {}

    def fake_run(cmd, timeout, what):
        argfile = Path(cmd[-1][1:])
        seen.update(cmd=cmd, args=argfile.read_text().splitlines(), mode=oct(argfile.stat().st_mode & 0o777))
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(kafka_broker, "_run", fake_run)
    kafka._format_storage()
    passwords = [p.read_text().strip() for p in kafka.credentials.users.glob("*.password")]
    assert len(passwords) >= 8 and not any(pw in " ".join(seen["cmd"]) for pw in passwords)
    assert seen["cmd"][-1].startswith("@") and seen["mode"] == "0o600"
    assert seen["args"][:2] == ["kafka.tools.StorageTool", "format"]
    scram = [a for a in seen["args"] if a.startswith("SCRAM-SHA-512=[name=")]
    assert {a.split("name=")[1].split(",")[0] for a in scram} >= {"broker", "operator", "connectors", "downstream"}
    assert not (kafka.credentials.dir / "format.args").exists()  # gone as soon as the tool has read it
