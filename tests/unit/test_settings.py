from pathlib import Path

import pytest

from pipeline_core.errors import ConfigError
from pipeline_core.settings import SETTINGS_DOC, Settings


def test_when_nothing_is_set_then_documented_defaults_apply():
    s = Settings.from_env({"HOME": "/home/someone"})
    assert s.kafka_port == 9092
    assert s.kafka_controller_port == 9093
    assert s.bootstrap_servers == "127.0.0.1:9092"
    assert s.kafka_version == SETTINGS_DOC["POWERSELL_KAFKA_VERSION"][0]
    assert s.log_level == "INFO"


def test_when_the_port_changes_then_the_default_bootstrap_follows():
    s = Settings.from_env({"POWERSELL_KAFKA_PORT": "19092", "POWERSELL_KAFKA_CONTROLLER_PORT": "19093"})
    assert s.bootstrap_servers == "127.0.0.1:19092"


def test_when_folders_are_set_then_they_are_absolute(tmp_path):
    s = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path / "d"), "POWERSELL_CACHE_DIR": str(tmp_path / "c")})
    assert s.data_dir == (tmp_path / "d").resolve() and s.cache_dir == (tmp_path / "c").resolve()
    assert isinstance(s.data_dir, Path)


@pytest.mark.parametrize("name, value, fragment", [
    ("POWERSELL_KAFKA_PORT", "ninety", "port number"),
    ("POWERSELL_KAFKA_PORT", "70000", "port number"),
    ("POWERSELL_METRICS_PORT", "-1", "port number"),
    ("POWERSELL_BOOTSTRAP_SERVERS", "localhost", "host:port"),
    ("POWERSELL_BOOTSTRAP_SERVERS", "a:1,,b:2", "host:port"),
    ("POWERSELL_KAFKA_VERSION", "3.9.0", "4.x"),
    ("POWERSELL_KAFKA_HEAP", "lots", "512m"),
    ("POWERSELL_LOG_LEVEL", "LOUD", "DEBUG"),
    ("POWERSELL_DATA_DIR", "  ", "folder"),
    ("POWERSELL_KAFKA_CONTROLLER_PORT", "9092", "differ"),
])
def test_when_a_value_is_bad_then_the_error_names_the_variable(name, value, fragment):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert name in str(err.value) and fragment in str(err.value)


def test_settings_are_frozen():
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.kafka_port = 1


def test_kafka_client_security_is_documented_and_defaults_to_the_local_broker():
    from pipeline_core.settings import SECURITY_VARIABLES
    assert set(SECURITY_VARIABLES) <= set(SETTINGS_DOC)
    s = Settings.from_env({})
    assert s.kafka_security_protocol is None and s.kafka_sasl_mechanism == "SCRAM-SHA-512"  # None: auto
    assert s.kafka_password is None and s.kafka_password_file is None


def test_when_a_password_file_is_given_then_only_its_path_is_kept(tmp_path):
    s = Settings.from_env({"POWERSELL_KAFKA_PASSWORD_FILE": str(tmp_path / "pw"), "POWERSELL_KAFKA_USERNAME": "svc"})
    assert s.kafka_password_file == (tmp_path / "pw").resolve() and s.kafka_password is None
