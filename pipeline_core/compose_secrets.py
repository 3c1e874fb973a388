"""`kafka compose-secrets`: the secrets docker-compose.yml mounts, made once in a folder kept out of git.

The compose broker is secured like `kafka up`'s: SASL_SSL (SCRAM-SHA-512) on both client
listeners, the controller listener on mutual TLS, the StandardAuthorizer, deny by default.
This writes, in `./secrets/` (0700; files 0644 so the containers' own users can read them
through their bind mounts, the folder keeps everyone else out):
  ca.pem, broker.pem                  the local CA and the broker's key and certificate
  <principal>.password                one per principal (broker, operator, each service, ...)
  server.properties                   the broker's config (it holds the broker's own SCRAM password)
  kafka-format.args                   Kafka's storage format arguments with every SCRAM user, read by
                                      the Java launcher as an argument file: no password on a command line
  operator-client.properties          the operator's client config (the broker's health check)
  grafana-admin.password              Grafana's admin password (no default password any more)
Existing files are kept, so running it again changes nothing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .acl import builtin_principals
from .kafka_broker import BrokerSecurity, new_cluster_id, single_node_storage
from .security import BROKER_PRINCIPAL, LOCAL_MECHANISM, OPERATOR, Secret, make_ca_and_broker_cert

IN_CONTAINER = Path("/run/secrets")
DATA_DIR = "/var/lib/kafka/data"


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _password(folder: Path, name: str) -> Secret:
    path = folder / f"{name}.password"
    if not path.is_file():
        _write(path, secrets.token_hex(24) + "\n")
    return Secret(path.read_text().strip())


def compose_server_properties(broker_password: Secret) -> str:
    security = BrokerSecurity(IN_CONTAINER / "kafka-broker-pem", IN_CONTAINER / "kafka-ca", broker_password)
    own = security.properties(19092, 9093)  # the CLIENT and CONTROLLER lines, then adapted to the network
    own = "\n".join(line for line in own.splitlines() if not line.startswith(("listeners=", "advertised.listeners=",
                                                                             "listener.security.protocol.map=")))
    jaas = next(line for line in own.splitlines() if ".sasl.jaas.config=" in line).split("=", 1)[1]
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
listeners=CLIENT://0.0.0.0:19092,HOST://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093
advertised.listeners=CLIENT://kafka:19092,HOST://127.0.0.1:9092
listener.security.protocol.map=CLIENT:SASL_SSL,HOST:SASL_SSL,CONTROLLER:SSL
controller.listener.names=CONTROLLER
{own}
listener.name.host.{LOCAL_MECHANISM.lower()}.sasl.jaas.config={jaas}
{single_node_storage(DATA_DIR)}"""


def make_compose_secrets(folder: Path) -> list[str]:
    """Make what is missing in `folder`; return the names of the files made."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    before = set(os.listdir(folder))
    if not (folder / "broker.pem").is_file() or not (folder / "ca.pem").is_file():
        _, ca, key, cert = make_ca_and_broker_cert()  # the CA key is not kept: nothing else is signed with it
        _write(folder / "ca.pem", ca)
        _write(folder / "broker.pem", key + cert)
    users = [(name, _password(folder, name)) for name in (BROKER_PRINCIPAL, *(p.name for p in builtin_principals()))]
    if not (folder / "server.properties").is_file():
        _write(folder / "server.properties", compose_server_properties(dict(users)[BROKER_PRINCIPAL]))
    if not (folder / "kafka-format.args").is_file():
        # the class path stays on the command line (the launcher does not expand wildcards read from a file)
        args = ["kafka.tools.StorageTool", "format", "--ignore-formatted",
                f"--cluster-id={new_cluster_id()}", "-c", str(IN_CONTAINER / "kafka-server-properties")]
        for name, password in users:
            args += ["--add-scram", f"{LOCAL_MECHANISM}=[name={name},password={password.reveal()}]"]
        _write(folder / "kafka-format.args", "\n".join(args) + "\n")
    if not (folder / "operator-client.properties").is_file():
        operator = dict(users)[OPERATOR].reveal()
        _write(folder / "operator-client.properties", (
            f"security.protocol=SASL_SSL\nsasl.mechanism={LOCAL_MECHANISM}\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{OPERATOR}" password="{operator}";\n'
            f"ssl.truststore.type=PEM\nssl.truststore.location={IN_CONTAINER / 'kafka-ca'}\n"))
    _password(folder, "grafana-admin")
    return sorted(set(os.listdir(folder)) - before)
