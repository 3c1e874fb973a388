"""Client security settings: resolved in one place, the password never printed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline_core.errors import ConfigError
from pipeline_core.security import (LocalCredentials, Secret, as_principal, client_security, java_client_properties,
                                    kafka_client_config, make_ca_and_broker_cert, principal_env, without_security_env,
                                    write_private)
from pipeline_core.settings import SECURITY_VARIABLES, Settings


def _local(tmp_path: Path, secured: bool = True) -> tuple[Settings, LocalCredentials]:
    settings = Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)})
    local = LocalCredentials(settings.data_dir)
    for name in ("operator", "connectors"):
        local.ensure_password(name)
    write_private(local.ca_cert, "not a real CA\n")
    local.set_mode(secured)
    return settings, local


def test_a_secret_never_prints_nor_pickles():
    secret = Secret("hunter2-very-secret")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2-very-secret" and secret == Secret("hunter2-very-secret")
    import pickle
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_settings_keep_the_password_masked():
    s = Settings.from_env({"POWERSELL_KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "POWERSELL_KAFKA_USERNAME": "svc",
                           "POWERSELL_KAFKA_PASSWORD": "hunter2-very-secret"})
    assert s.kafka_security_protocol == "SASL_SSL" and s.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert "hunter2" not in repr(s) and s.kafka_password.reveal() == "hunter2-very-secret"


@pytest.mark.parametrize("env, fragment", [
    ({"POWERSELL_KAFKA_SECURITY_PROTOCOL": "TLS"}, "POWERSELL_KAFKA_SECURITY_PROTOCOL"),
    ({"POWERSELL_KAFKA_SASL_MECHANISM": "GSSAPI"}, "POWERSELL_KAFKA_SASL_MECHANISM"),
    ({"POWERSELL_KAFKA_PASSWORD": "x", "POWERSELL_KAFKA_PASSWORD_FILE": "/f"}, "not both"),
    ({"POWERSELL_KAFKA_KEY_FILE": "/k.pem"}, "POWERSELL_KAFKA_CERT_FILE"),
])
def test_when_a_security_setting_is_bad_then_the_error_names_it(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env(env)


def test_when_the_local_broker_is_open_or_absent_then_clients_speak_plain_text(tmp_path):
    assert client_security(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)})).protocol == "PLAINTEXT"
    settings, _ = _local(tmp_path, secured=False)
    assert kafka_client_config(settings) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_when_the_local_broker_is_secured_then_the_default_client_is_its_operator(tmp_path):
    settings, local = _local(tmp_path)
    config = kafka_client_config(settings, client_id="x")
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "operator" and config["client_id"] == "x"
    assert config["sasl_plain_password"] == local.password_file("operator").read_text().strip()
    assert config["ssl_cafile"] == str(local.ca_cert) and config["ssl_check_hostname"] is True


def test_a_child_process_gets_its_principal_as_a_password_file_never_the_password(tmp_path):
    settings, local = _local(tmp_path)
    env = principal_env(settings, "connectors")
    assert env["POWERSELL_KAFKA_USERNAME"] == "connectors"
    assert env["POWERSELL_KAFKA_PASSWORD_FILE"] == str(local.password_file("connectors"))
    assert "POWERSELL_KAFKA_PASSWORD" not in env
    assert local.password_file("connectors").read_text().strip() not in "".join(env.values())
    # the child, with a data dir of its own, is still that principal on that broker
    child = Settings.from_env({**env, "POWERSELL_DATA_DIR": str(tmp_path / "child")})
    assert kafka_client_config(child)["sasl_plain_username"] == "connectors"
    assert as_principal(child, "operator").kafka_username == "operator"
    assert set(without_security_env({**env, "PATH": "/bin"})) == {"PATH"} and set(env) <= set(SECURITY_VARIABLES)


def test_an_explicit_cluster_keeps_its_own_identity(tmp_path):
    password = tmp_path / "pw"
    password.write_text("s3cret\n")
    env = {"POWERSELL_DATA_DIR": str(tmp_path), "POWERSELL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "POWERSELL_KAFKA_USERNAME": "svc-powersell", "POWERSELL_KAFKA_PASSWORD_FILE": str(password),
           "POWERSELL_BOOTSTRAP_SERVERS": "kafka-1.example.com:9096"}
    s = Settings.from_env(env)
    assert as_principal(s, "connectors") is s
    config = kafka_client_config(s)
    assert config["sasl_plain_password"] == "s3cret" and config["ssl_cafile"] is None  # the system's CAs
    java = java_client_properties(s)
    assert 'username="svc-powersell" password="s3cret"' in java and "ScramLoginModule" in java


def test_a_missing_password_is_a_clear_error_without_the_password(tmp_path):
    s = Settings.from_env({"POWERSELL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "POWERSELL_KAFKA_USERNAME": "svc"})
    with pytest.raises(ConfigError, match="POWERSELL_KAFKA_PASSWORD_FILE"):
        client_security(s)
    s = Settings.from_env({"POWERSELL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "POWERSELL_KAFKA_USERNAME": "svc",
                           "POWERSELL_KAFKA_PASSWORD_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="cannot read the Kafka password file"):
        client_security(s)
    with pytest.raises(ConfigError, match="USERNAME"):
        client_security(Settings.from_env({"POWERSELL_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                                           "POWERSELL_KAFKA_PASSWORD": "x"}))


def test_credentials_are_owner_only_files(tmp_path):
    local = LocalCredentials(tmp_path)
    password, created = local.ensure_password("partner-x")
    again, created_again = local.ensure_password("partner-x")
    assert created and not created_again and password == again and len(password.reveal()) >= 32
    assert stat.S_IMODE(os.stat(local.password_file("partner-x")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(local.users).st_mode) == 0o700
    local.ensure_tls_material()
    for path in (local.ca_key, local.broker_pem, local.ca_cert):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ConfigError):
        local.password_file("../escape")


def test_the_broker_certificate_is_signed_by_the_ca_for_loopback_and_compose():
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    import ipaddress

    ca_key, ca_pem, key, cert_pem = make_ca_and_broker_cert()
    ca, cert = x509.load_pem_x509_certificate(ca_pem.encode()), x509.load_pem_x509_certificate(cert_pem.encode())
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert {"localhost", "kafka"} <= set(names.get_values_for_type(x509.DNSName))
    assert key.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, as Kafka's PEM key store reads it
