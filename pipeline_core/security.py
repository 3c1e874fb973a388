"""Client security: who a process is to Kafka and how it proves it, decided in one place.

Every Kafka client of the project (kafka-python producers, consumers and admin clients,
the Faust workers through aiokafka, Kafka's own perf tools) takes its security settings
from `kafka_client_config`, `faust_credentials` or `java_client_properties` here, never
from its own code. The password is a `Secret`: its repr is masked, so it cannot reach a
log line, an exception message or a metric by accident; `reveal()` is called only where a
client library needs the plain value.

Where the settings come from (POWERSELL_KAFKA_* variables, see SETTINGS_DOC):
- set explicitly: an existing secured cluster, or a process given its own principal;
- not set (protocol "auto"): the local broker of this data dir. When `kafka up` secured it
  (the default), the client is the operator principal over SASL_SSL with the local CA and
  the operator's password file; when it was started with `--insecure`, plain text.
Local credentials live in `<data dir>/kafka/security/` (0600 files, 0700 folder):
`ca.pem`, `broker.pem` (its key and certificate), `users/<principal>.password`.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from .errors import ConfigError
from .settings import MECHANISMS, PROTOCOLS, Secret, Settings  # noqa: F401  (re-exported)

LOCAL_MECHANISM = "SCRAM-SHA-512"
OPERATOR = "operator"
BROKER_PRINCIPAL = "broker"  # the broker's own SCRAM user (inter-broker listener)
BROKER_CERT_CN = "powersell-broker"  # its certificate; the controller listener admits only it


@dataclass(frozen=True)
class ClientSecurity:
    """How one client connects: resolved from Settings by `client_security`."""
    protocol: str
    mechanism: str | None = None
    username: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")


# ---------------------------------------------------------------- the local broker's credentials
class LocalCredentials:
    """The folder where `kafka up` keeps the local broker's CA, certificate and users' passwords."""

    def __init__(self, data_dir: Path | None = None, *, folder: Path | None = None):
        self.dir = folder if folder is not None else data_dir / "kafka" / "security"
        self.users = self.dir / "users"
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca-key.pem"
        self.broker_pem = self.dir / "broker.pem"  # the broker's private key, then its certificate
        self.mode_file = self.dir / "mode"  # "secured" or "open": how the broker was last started
        self.roles_file = self.dir / "principals.json"  # principals added with `principal add`

    def secured(self) -> bool:
        try:
            return self.mode_file.read_text().strip() == "secured"
        except OSError:
            return False

    def set_mode(self, secured: bool) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_private(self.mode_file, "secured\n" if secured else "open\n")

    def password_file(self, principal: str) -> Path:
        if not principal or "/" in principal or principal.startswith("."):
            raise ConfigError(f"not a principal name: {principal!r}")
        return self.users / f"{principal}.password"

    def has(self, principal: str) -> bool:
        return self.password_file(principal).is_file()

    def ensure_password(self, principal: str) -> tuple[Secret, bool]:
        """The principal's password, made (random, 0600 file) if it has none yet; (password, created)."""
        path = self.password_file(principal)
        if path.is_file():
            return Secret(path.read_text().strip()), False
        password = secrets.token_hex(24)  # hex: no quoting issues in Java argument files or JAAS
        write_private(path, password + "\n")
        return Secret(password), True

    def added_principals(self) -> dict[str, str]:
        """{principal: role} of the principals added with `principal add` on this broker."""
        try:
            return json.loads(self.roles_file.read_text())
        except (OSError, ValueError):
            return {}

    def record_principal(self, principal: str, role: str) -> None:
        roles = self.added_principals()
        roles[principal] = role
        write_private(self.roles_file, json.dumps(roles, indent=1, sort_keys=True) + "\n")

    def ensure_tls_material(self) -> None:
        """A local CA and a broker certificate it signed (for 127.0.0.1, localhost and `kafka` in compose)."""
        if self.ca_cert.is_file() and self.ca_key.is_file() and self.broker_pem.is_file():
            return
        write_private(self.ca_key, "")  # claim the paths 0600 before any key is written
        ca_key, ca_cert, key, cert = make_ca_and_broker_cert()
        write_private(self.ca_key, ca_key)
        write_private(self.ca_cert, ca_cert)
        write_private(self.broker_pem, key + cert)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), in a folder only its owner can enter (0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def make_ca_and_broker_cert(hosts: tuple[str, ...] = ("localhost", "kafka", "kafka-1", "kafka-2", "kafka-3"),
                            ips: tuple[str, ...] = ("127.0.0.1",), days: int = 3650) -> tuple[str, str, str, str]:
    """(CA key, CA certificate, broker key, broker certificate) as PEM, keys unencrypted PKCS#8 (Kafka reads
    PEM key stores of that form); the caller stores the keys 0600."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PowerSell local Kafka CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(h) for h in hosts] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_CERT_CN)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # server for its listeners, client towards its own controller listener (mutual TLS)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))

    def key_pem(k) -> str:
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()
    return (key_pem(ca_key), ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
            key_pem(key), cert.public_bytes(serialization.Encoding.PEM).decode())


# ---------------------------------------------------------------- resolution
def client_security(settings: "Settings") -> ClientSecurity:
    """The security of a client built from `settings` (see the module docstring for "auto")."""
    protocol = settings.kafka_security_protocol
    if protocol is None:  # auto: the local broker of this data dir
        local = LocalCredentials(settings.data_dir)
        if not local.secured():
            return ClientSecurity("PLAINTEXT")
        user = settings.kafka_username or OPERATOR
        password = settings.kafka_password or _read_password(settings.kafka_password_file or local.password_file(user))
        return ClientSecurity("SASL_SSL", LOCAL_MECHANISM, user, password, settings.kafka_ca_file or local.ca_cert,
                              settings.kafka_cert_file, settings.kafka_key_file)
    password = settings.kafka_password
    if protocol.startswith("SASL_"):
        if not settings.kafka_username:
            raise ConfigError(f"POWERSELL_KAFKA_USERNAME must be set with POWERSELL_KAFKA_SECURITY_PROTOCOL={protocol}")
        if password is None:
            if settings.kafka_password_file is None:
                raise ConfigError("POWERSELL_KAFKA_PASSWORD_FILE or POWERSELL_KAFKA_PASSWORD must be set with "
                                  f"POWERSELL_KAFKA_SECURITY_PROTOCOL={protocol}")
            password = _read_password(settings.kafka_password_file)
    for name, path in (("POWERSELL_KAFKA_CA_FILE", settings.kafka_ca_file),
                       ("POWERSELL_KAFKA_CERT_FILE", settings.kafka_cert_file),
                       ("POWERSELL_KAFKA_KEY_FILE", settings.kafka_key_file)):
        if path is not None and not path.is_file():
            raise ConfigError(f"{name} names {path}, which is not a readable file")
    return ClientSecurity(protocol, settings.kafka_sasl_mechanism if protocol.startswith("SASL_") else None,
                          settings.kafka_username, password, settings.kafka_ca_file,
                          settings.kafka_cert_file, settings.kafka_key_file)


def _read_password(path: Path) -> Secret:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the Kafka password file {path} ({exc.strerror}); for the local broker "
                          "run `powersell-pipeline kafka up` first") from None
    if not value:
        raise ConfigError(f"the Kafka password file {path} is empty")
    return Secret(value)


def kafka_client_config(settings: "Settings", **extra) -> dict:
    """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient:
    bootstrap servers and security, plus the caller's own `extra` options."""
    sec = client_security(settings)
    config: dict = {"bootstrap_servers": settings.bootstrap_servers, "security_protocol": sec.protocol}
    if sec.sasl:
        config.update(sasl_mechanism=sec.mechanism, sasl_plain_username=sec.username,
                      sasl_plain_password=sec.password.reveal() if sec.password else None)
    if sec.tls:
        config.update(ssl_cafile=str(sec.ca_file) if sec.ca_file else None, ssl_check_hostname=True,
                      ssl_certfile=str(sec.cert_file) if sec.cert_file else None,
                      ssl_keyfile=str(sec.key_file) if sec.key_file else None)
    config.update(extra)
    return config


def ssl_context(sec: ClientSecurity) -> ssl.SSLContext:
    """A TLS context that trusts the configured CA (the system's when none) and checks host names."""
    context = ssl.create_default_context(cafile=str(sec.ca_file) if sec.ca_file else None)
    if sec.cert_file:
        context.load_cert_chain(str(sec.cert_file), str(sec.key_file) if sec.key_file else None)
    return context


def faust_credentials(settings: "Settings"):
    """Faust's `broker_credentials` (aiokafka underneath), or None for plain text."""
    import faust

    sec = client_security(settings)
    if sec.sasl:
        return faust.SASLCredentials(username=sec.username, password=sec.password.reveal() if sec.password else None,
                                     mechanism=sec.mechanism, ssl_context=ssl_context(sec) if sec.tls else None)
    if sec.tls:
        return faust.SSLCredentials(ssl_context(sec))
    return None


def java_client_properties(settings: "Settings") -> str:
    """The same settings as a Java client config file (Kafka's perf tools); write it with write_private."""
    sec = client_security(settings)
    lines = [f"security.protocol={sec.protocol}"]
    if sec.sasl:
        module = ("org.apache.kafka.common.security.plain.PlainLoginModule" if sec.mechanism == "PLAIN"
                  else "org.apache.kafka.common.security.scram.ScramLoginModule")
        password = sec.password.reveal() if sec.password else ""
        lines += [f"sasl.mechanism={sec.mechanism}",
                  f'sasl.jaas.config={module} required username="{_jaas(sec.username or "")}" '
                  f'password="{_jaas(password)}";']
    if sec.tls:
        if sec.ca_file:
            lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={sec.ca_file}"]
        if sec.cert_file:
            lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={sec.cert_file}"]
    return "\n".join(lines) + "\n"


def _jaas(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------- one principal per process
def local_principal_settings(settings: "Settings", principal: str, local: LocalCredentials | None = None) -> "Settings":
    """`settings` as the local broker's `principal`: SASL_SSL, its password file, the local CA."""
    local = local or LocalCredentials(settings.data_dir)
    return replace(settings, kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=LOCAL_MECHANISM,
                   kafka_username=principal, kafka_password=None, kafka_password_file=local.password_file(principal),
                   kafka_ca_file=local.ca_cert, kafka_cert_file=None, kafka_key_file=None)


def as_principal(settings: "Settings", principal: str) -> "Settings":
    """`settings` for a process running as the local broker's `principal` (its own password file);
    unchanged when the local broker is not secured, or the settings name another cluster explicitly."""
    local = _local_credentials_of(settings)
    if local is None or not local.secured() or not local.has(principal):
        return settings
    return local_principal_settings(settings, principal, local)


def _local_credentials_of(settings: "Settings") -> LocalCredentials | None:
    """The local broker's credentials folder the settings use: the data dir's in auto mode; with explicit
    settings, the folder of their CA file when it is such a folder (a child process with its own data dir)."""
    if settings.kafka_security_protocol is None:
        return LocalCredentials(settings.data_dir)
    ca = settings.kafka_ca_file
    if ca is not None and ca.name == "ca.pem" and (ca.parent / "mode").is_file() and (ca.parent / "users").is_dir():
        return LocalCredentials(folder=ca.parent)
    return None


def principal_env(settings: "Settings", principal: str) -> dict[str, str]:
    """Environment variables that make a child process `principal` (a password file, never the password);
    with a cluster configured explicitly, the parent's own variables (its password variable included, as
    the environment of a child is private to its user)."""
    s = as_principal(settings, principal)
    if s.kafka_security_protocol is None:
        return {"POWERSELL_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    env = {"POWERSELL_KAFKA_SECURITY_PROTOCOL": s.kafka_security_protocol,
           "POWERSELL_KAFKA_SASL_MECHANISM": s.kafka_sasl_mechanism}
    for name, value in (("POWERSELL_KAFKA_USERNAME", s.kafka_username),
                        ("POWERSELL_KAFKA_PASSWORD_FILE", s.kafka_password_file),
                        ("POWERSELL_KAFKA_CA_FILE", s.kafka_ca_file),
                        ("POWERSELL_KAFKA_CERT_FILE", s.kafka_cert_file),
                        ("POWERSELL_KAFKA_KEY_FILE", s.kafka_key_file)):
        if value is not None:
            env[name] = str(value)
    if s.kafka_password is not None and s.kafka_password_file is None:
        env["POWERSELL_KAFKA_PASSWORD"] = s.kafka_password.reveal()
    return env


def without_security_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without any POWERSELL_KAFKA_* client identity (before adding a child's own)."""
    from .settings import SECURITY_VARIABLES
    return {k: v for k, v in env.items() if k not in SECURITY_VARIABLES}
