"""docker-compose.yml is checked statically: no Docker engine runs here.

tests/data/compose-spec.json is the Compose Specification's JSON schema
(compose-spec project, Apache License 2.0)."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipeline_core.settings import SETTINGS_DOC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_when_the_spec_is_broken_then_validation_fails(compose):
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text(encoding="utf-8"))
    broken = {**compose, "services": {"kafka": {**compose["services"]["kafka"], "restart": ["always"]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(broken)


def test_kafka_is_the_same_broker_the_cli_starts(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{SETTINGS_DOC['POWERSELL_KAFKA_VERSION'][0]}"
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "127.0.0.1:9092:9092" in kafka["ports"]  # host clients use the CLI's default bootstrap
    assert "HOST://127.0.0.1:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["healthcheck"]["test"] and kafka["restart"] == "unless-stopped"
