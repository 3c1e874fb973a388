"""A real single-node Apache Kafka 4.x broker for development, run with the machine's Java.

Why: the pipeline must be tried against a real broker, not a mock, and Docker is not
always at hand. `powersell-pipeline kafka up` resolves the official Kafka jars from
Maven Central once (with Maven, into a cache reused offline afterwards), formats KRaft
storage once and starts one broker+controller process bound to 127.0.0.1 only.
`docker compose up kafka` remains the alternative when Java or Maven is missing.

`kafka up --nodes 3` starts three such combined nodes instead, one KRaft quorum of three voters
sharing one cluster id, CA, broker certificate and SCRAM users (every node is formatted with them);
the ACLs are applied once, through the cluster. Node n (1-based) listens on
POWERSELL_KAFKA_PORT + 2(n-1) for clients and POWERSELL_KAFKA_CONTROLLER_PORT + 2(n-1) for the
quorum (9092/9093 -> 9092, 9094, 9096 and 9093, 9095, 9097), keeps its config, pid, log and storage
in <data dir>/kafka/node-<n>/, and the cluster's topics get replication factor 3 and
min.insync.replicas=2 (topics.replication_for). The node count is remembered in
<data dir>/kafka/nodes: a later `up` without --nodes starts the same cluster, one with another
count is refused (wipe first). The one-node layout is unchanged.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from kafka import KafkaAdminClient

from .errors import BrokerError, MissingToolError
from .security import (BROKER_CERT_CN, BROKER_PRINCIPAL, LOCAL_MECHANISM, OPERATOR, LocalCredentials, Secret,
                       kafka_client_config, write_private)
from .settings import Settings

MIN_JAVA = 17
LOG4J_VERSION = "2.25.3"
SLF4J_VERSION = "2.0.17"  # without it Maven picks slf4j 1.7 and the broker logs nothing
_DOCKER_HINT = "alternatively run the broker in Docker with `docker compose up kafka`"
_NEED_JAVA = f"Java {MIN_JAVA} or newer is needed to run the local Kafka broker, but"
_JAVA_HINT = f"(Debian: apt-get install openjdk-17-jre-headless); {_DOCKER_HINT}"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.powersell</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging><dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{slf4j}</version></dependency>
  </dependencies></project>
"""
# Console output goes to kafka.log. Log4j's own shutdown hook would cut the broker's shutdown log.
_LOG4J2 = """status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
"""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool  # our pid file names a live broker process of ours (of any node)
    pid: int | None  # node 1's, else the first running node's
    bootstrap: str
    answering: bool  # something answers a Kafka metadata request on the bootstrap address
    jars_cached: bool
    data_dir: Path
    nodes: int = 1
    pids: tuple[int | None, ...] = ()  # per node, None where that node does not run


CLUSTER_NODES = 3  # `kafka up --nodes N` takes 1 or this
NODE_PORT_STEP = 2  # node n listens on the configured ports + NODE_PORT_STEP * (n - 1)


def node_ports(port: int, controller_port: int, nodes: int) -> list[tuple[int, int]]:
    """(client port, controller port) of each node; BrokerError if two of them would be the same port."""
    plan = [(port + NODE_PORT_STEP * i, controller_port + NODE_PORT_STEP * i) for i in range(nodes)]
    flat = [p for pair in plan for p in pair]
    if len(set(flat)) != len(flat) or max(flat) > 65535:
        raise BrokerError(f"the ports of a {nodes}-node cluster from POWERSELL_KAFKA_PORT={port} and "
                          f"POWERSELL_KAFKA_CONTROLLER_PORT={controller_port} collide (node n uses both + "
                          f"{NODE_PORT_STEP}(n-1)); choose ports further apart, e.g. {port} and {port + 1}")
    return plan


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller process: its id, ports and folder (config, pid, log, storage)."""
    node_id: int
    port: int
    controller_port: int
    home: Path

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    @property
    def log_dirs(self) -> Path:
        return self.home / "data"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def single_node_storage(log_dirs) -> str:
    """The storage and replication lines of every one-node broker we configure (local and compose)."""
    return f"""log.dirs={log_dirs}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
"""


def cluster_storage(log_dirs, nodes: int) -> str:
    """The storage and replication lines of every node of a cluster of `nodes` (local and compose): Kafka's
    own topics and new topics replicated like the catalog's (topics.replication_for)."""
    from .topics import replication_for
    factor, min_isr = replication_for(nodes)
    return f"""log.dirs={log_dirs}
num.partitions=1
auto.create.topics.enable=false
default.replication.factor={factor}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={factor}
transaction.state.log.replication.factor={factor}
transaction.state.log.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
"""


def render_server_properties(port: int, controller_port: int, log_dirs: Path,
                             security: "BrokerSecurity | None" = None, node_id: int = 1,
                             voters: list[tuple[int, int]] | None = None) -> str:
    """KRaft combined-mode config of one node; every listener binds 127.0.0.1 only. With `security`: clients
    over SASL_SSL (SCRAM-SHA-512), the controller listener over mutual TLS (only the broker's own certificate
    gets in), the StandardAuthorizer and deny by default. `voters`: (node id, controller port) of every node
    of a cluster; None for the one-node broker."""
    if security is None:
        listeners = (f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n"
                     f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n"
                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n")
    else:
        listeners = security.properties(port, controller_port)
    if voters is None:
        return f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
{listeners}controller.listener.names=CONTROLLER
{single_node_storage(log_dirs)}"""
    quorum = ",".join(f"{n}@127.0.0.1:{c}" for n, c in voters)
    return f"""process.roles=broker,controller
node.id={node_id}
controller.quorum.voters={quorum}
{listeners}controller.listener.names=CONTROLLER
{cluster_storage(log_dirs, len(voters))}"""


@dataclass(frozen=True)
class BrokerSecurity:
    """The secured broker's settings: its key store, the CA it trusts, its own SCRAM password."""
    keystore: Path      # PEM: private key and certificate
    truststore: Path    # PEM: the CA
    broker_password: Secret
    super_users: tuple[str, ...] = (f"User:{BROKER_PRINCIPAL}", f"User:{OPERATOR}", f"User:CN={BROKER_CERT_CN}")

    def properties(self, port: int, controller_port: int) -> str:
        jaas = ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                f'username="{BROKER_PRINCIPAL}" password="{self.broker_password.reveal()}";')
        return (f"listeners=CLIENT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n"
                f"advertised.listeners=CLIENT://127.0.0.1:{port}\n"
                "listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SSL\n"
                "inter.broker.listener.name=CLIENT\n"
                f"sasl.enabled.mechanisms={LOCAL_MECHANISM}\n"
                f"sasl.mechanism.inter.broker.protocol={LOCAL_MECHANISM}\n"
                f"listener.name.client.{LOCAL_MECHANISM.lower()}.sasl.jaas.config={jaas}\n"
                f"ssl.keystore.type=PEM\nssl.keystore.location={self.keystore}\n"
                f"ssl.truststore.type=PEM\nssl.truststore.location={self.truststore}\n"
                "listener.name.controller.ssl.client.auth=required\n"
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
                "allow.everyone.if.no.acl.found=false\n"
                f"super.users={';'.join(self.super_users)}\n")


def java_major_version(java: str) -> int | None:
    """Major version from `java -version` (printed on stderr); 8 for "1.8.0_x"; None if unreadable."""
    with suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
        if match := re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout):
            major = int(match.group(1))
            return int(match.group(2) or 0) if major == 1 else major
    return None


def check_tools(need_maven: bool) -> None:
    """Raise MissingToolError naming what is missing: Java 17+, and Maven only if `need_maven`."""
    java = shutil.which("java")
    if java is None:
        raise MissingToolError(f"{_NEED_JAVA} `java` was not found on PATH {_JAVA_HINT}")
    major = java_major_version(java)
    if major is None or major < MIN_JAVA:
        found = "of an unreadable version" if major is None else f"Java {major}"
        raise MissingToolError(f"{_NEED_JAVA} `{java}` is {found} {_JAVA_HINT}")
    if need_maven and shutil.which("mvn") is None:
        raise MissingToolError(
            "Maven is needed once to resolve the Kafka jars from Maven Central, but `mvn` was not found "
            f"on PATH (Debian: apt-get install maven); {_DOCKER_HINT}")


def _port_open(host: str, port: int, timeout: float) -> bool:
    with suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def broker_answers(bootstrap: str, timeout: float = 2.0, client_config: dict | None = None, brokers: int = 1) -> bool:
    """True if a broker on `bootstrap` answers a real metadata request naming at least `brokers` brokers; never
    raises. `client_config`: the client's security settings (kafka_client_config); a secured broker does not
    answer a client it refuses."""
    hosts = [part.strip().rsplit(":", 1) for part in bootstrap.split(",") if ":" in part]
    # A plain TCP probe first: fast, and keeps kafka-python from logging connection errors.
    if not any(_port_open(h.strip("[]"), int(p), min(timeout, 1.0)) for h, p in hosts if p.isdigit()):
        return False
    ms = max(int(timeout * 1000), 100)
    # kafka-python 3.0 starts its IO thread in __init__ and leaks it when the bootstrap there
    # fails, so keep a handle on the half-built client and always close it.
    admin = KafkaAdminClient.__new__(KafkaAdminClient)
    try:
        config = {**(client_config or {}), "bootstrap_servers": bootstrap}
        admin.__init__(**config, client_id="powersell-probe", request_timeout_ms=ms, bootstrap_timeout_ms=ms)
        return len(admin.describe_cluster().get("brokers") or ()) >= max(brokers, 1)
    except Exception:  # any failure means "not answering"
        return False
    finally:
        admin._closed = False  # close() skips a client whose __init__ did not finish
        with suppress(Exception):
            admin.close()


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BrokerError(f"could not {what}: {exc}") from None


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, base64url without padding. Like Kafka's own Uuid, never
    starting with '-' (a command line would read it as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def maven_resolve(goal: Callable[[Path], list[str]], target: Path, marker: str, timeout: float, what: str) -> Path:
    """Run a Maven goal (given a scratch folder, it returns the goal's arguments) that copies jars into
    `target`: into a scratch folder beside it first, renamed into place at the end, so a cache folder
    exists only complete, and `marker` (a jar in it) says so."""
    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        out = _run(["mvn", "-B", "-q", *goal(work), f"-DoutputDirectory={work / 'out'}"], timeout,
                   f"run Maven to resolve {what}")
        if out.returncode != 0 or not (work / "out" / marker).is_file():
            raise BrokerError(
                f"Maven could not resolve {what} (exit {out.returncode}); check access to Maven Central "
                f"(proxy settings in ~/.m2/settings.xml). Last Maven output:\n" + _tail(out.stdout + out.stderr, 15))
        try:
            (work / "out").rename(target)
        except OSError as exc:
            if not (target / marker).is_file():  # fine only if a concurrent resolver finished first
                raise BrokerError(f"could not move the resolved jars to {target}: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class LocalKafka:
    """The local broker or cluster: jars in the cache dir, config, pid, log and storage in the data dir.
    `nodes`: how many nodes `up` starts (1 or CLUSTER_NODES); None: as many as the data dir holds (else 1)."""

    def __init__(self, settings: Settings, progress: Callable[[str], None] = lambda msg: None, secured: bool = True,
                 nodes: int | None = None):
        if nodes not in (None, 1, CLUSTER_NODES):
            raise BrokerError(f"--nodes must be 1 or {CLUSTER_NODES}, got {nodes}")
        self.settings = settings
        self.progress = progress
        self.secured = secured  # how `up` starts it; a running broker keeps the mode it was started in
        self.credentials = LocalCredentials(settings.data_dir)
        self.home = settings.data_dir / "kafka"
        self.lib_dir = settings.cache_dir / f"kafka-{settings.kafka_version}" / "lib"
        self.cluster_file = self.home / "cluster.id"
        self.marker = self.home / "nodes"  # the node count this data dir was started with
        self.requested_nodes = nodes
        count = nodes or self.remembered_nodes() or 1
        if count == 1:  # the one-node layout of earlier versions: everything directly in home
            self.nodes = [KafkaNode(1, settings.kafka_port, settings.kafka_controller_port, self.home)]
        else:
            self.nodes = [KafkaNode(i + 1, port, controller, self.home / f"node-{i + 1}") for i, (port, controller)
                          in enumerate(node_ports(settings.kafka_port, settings.kafka_controller_port, count))]
        first = self.nodes[0]
        self.properties, self.pid_file, self.log_file, self.log_dirs = (first.properties, first.pid_file,
                                                                        first.log_file, first.log_dirs)
        self.bootstrap = ",".join(n.address for n in self.nodes)
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    def remembered_nodes(self) -> int | None:
        """The node count of the cluster in this data dir: the marker, or 1 for storage formatted before it."""
        with suppress(OSError, ValueError):
            return int(self.marker.read_text().strip())
        return 1 if (self.home / "data" / "meta.properties").is_file() else None

    def jars_cached(self) -> bool:
        return (self.lib_dir / f"kafka_2.13-{self.settings.kafka_version}.jar").is_file()

    def ensure_jars(self) -> Path:
        """Resolve the broker's runtime jars once; the final rename marks the cache complete."""
        if self.jars_cached():
            return self.lib_dir
        version = self.settings.kafka_version
        self.progress(f"resolving Kafka {version} jars from Maven Central (first run only)...")

        def pom(work: Path) -> list[str]:
            (work / "pom.xml").write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION))
            return ["-f", str(work / "pom.xml"), "dependency:copy-dependencies", "-DincludeScope=runtime"]

        return maven_resolve(pom, self.lib_dir, f"kafka_2.13-{version}.jar", 900, f"the Kafka {version} jars")

    def _alive(self, pid: int, node: KafkaNode | None = None) -> bool:
        """Is `pid` our broker (node)? Our own child is asked directly (this also reaps it); others
        by /proc/<pid>/cmdline, which is empty for a zombie and just after exec."""
        node = node or self.nodes[0]
        proc = self._procs.get(node.node_id)
        if proc is not None and proc.pid == pid:
            return proc.poll() is None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"kafka.Kafka" in cmdline and str(node.properties).encode() in cmdline

    def _running_pid(self, remove_stale: bool = True, node: KafkaNode | None = None) -> int | None:
        node = node or self.nodes[0]
        try:
            pid: int | None = int(node.pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and self._alive(pid, node):
            return pid
        if remove_stale:
            node.pid_file.unlink(missing_ok=True)
        return None

    def running_pids(self, remove_stale: bool = True) -> dict[int, int]:
        """node id -> pid of every node of ours that runs."""
        pids = {n.node_id: self._running_pid(remove_stale, n) for n in self.nodes}
        return {node_id: pid for node_id, pid in pids.items() if pid is not None}

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise up/down of this data dir across processes (the lock lives outside `home`)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / "kafka.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _java(self, *args: str) -> list[str]:
        log4j = f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}"
        return ["java", f"-Xmx{self.settings.kafka_heap}", log4j, "-cp", f"{self.lib_dir}/*", *args]

    def client_config(self) -> dict:
        """kafka-python settings of the operator of this broker, as it runs now (secured or open)."""
        if not self.credentials.secured():
            return {"bootstrap_servers": self.bootstrap}
        from .security import local_principal_settings
        return kafka_client_config(local_principal_settings(self.settings, OPERATOR), bootstrap_servers=self.bootstrap)

    def _prepare_credentials(self) -> BrokerSecurity:
        """The CA, the broker's certificate and a password for every principal (made once, 0600 files). A cluster's
        nodes share them: the certificate names 127.0.0.1, where every node listens."""
        from .acl import builtin_principals
        self.credentials.ensure_tls_material()
        for principal in (BROKER_PRINCIPAL, *(p.name for p in builtin_principals())):
            self.credentials.ensure_password(principal)
        return BrokerSecurity(self.credentials.broker_pem, self.credentials.ca_cert,
                              self.credentials.ensure_password(BROKER_PRINCIPAL)[0])

    def _format_storage(self, node: KafkaNode | None = None) -> None:
        """Format once, with a SCRAM user for every principal, so the secured broker admits its operator
        from the start (every node of a cluster: the same cluster id, the same users). The users and passwords
        go to Java in an argument file (0600, deleted at once): the launcher reads it, so they never appear in
        a process listing."""
        node = node or self.nodes[0]
        if (node.log_dirs / "meta.properties").is_file():
            return
        self.progress("formatting KRaft storage (with SCRAM users for every principal)"
                      + ("" if len(self.nodes) == 1 else f" of node {node.node_id}"))
        if not self.cluster_file.is_file():
            self.cluster_file.write_text(new_cluster_id() + "\n")
        from .acl import builtin_principals
        users = [(name, self.credentials.ensure_password(name)[0])
                 for name in (BROKER_PRINCIPAL, *(p.name for p in builtin_principals()))]
        args = ["kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_file.read_text().strip()}",
                "-c", str(node.properties)]
        for name, password in users:
            args += ["--add-scram", f"{LOCAL_MECHANISM}=[name={name},password={password.reveal()}]"]
        argfile = self.credentials.dir / "format.args"
        write_private(argfile, "\n".join(args) + "\n")
        try:
            out = _run(self._java(f"@{argfile}"), 120, "format the KRaft storage")
        finally:
            argfile.unlink(missing_ok=True)
        if out.returncode != 0:
            raise BrokerError("formatting the KRaft storage failed:\n" + _tail(out.stdout + out.stderr, 20))

    def _log_tail(self, node: KafkaNode | None = None) -> str:
        log_file = (node or self.nodes[0]).log_file
        return _tail(log_file.read_text(errors="replace") if log_file.is_file() else "", 20)

    def _check_node_count(self) -> None:
        remembered = self.remembered_nodes()
        if self.requested_nodes is not None and remembered is not None and remembered != self.requested_nodes:
            raise BrokerError(f"{self.home} holds a {remembered}-node Kafka cluster, not {self.requested_nodes}: "
                              f"run `kafka up --nodes {remembered}`, or `kafka down --wipe` first to start afresh")

    def _render(self, node: KafkaNode, security: BrokerSecurity | None) -> str:
        voters = None if len(self.nodes) == 1 else [(n.node_id, n.controller_port) for n in self.nodes]
        return render_server_properties(node.port, node.controller_port, node.log_dirs, security, node.node_id, voters)

    def _start(self, node: KafkaNode) -> int:
        with open(node.log_file, "wb") as log:  # one run's log: its tail explains failures
            proc = subprocess.Popen(self._java("kafka.Kafka", str(node.properties)), cwd=node.home,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self._procs[node.node_id] = proc
        node.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def up(self, timeout: float = 120.0) -> str:
        """Start every node of ours that does not run (all, or one a test stopped); return the bootstrap
        address once every node answers."""
        check_tools(need_maven=not self.jars_cached())
        what = "broker" if len(self.nodes) == 1 else f"{len(self.nodes)}-node cluster"
        with self._lock():
            self._check_node_count()
            pids = self.running_pids()
            if len(pids) == len(self.nodes) and broker_answers(self.bootstrap, client_config=self.client_config(),
                                                               brokers=len(self.nodes)):
                mode = "secured" if self.credentials.secured() else "open (--insecure)"
                self.progress(f"{what} already running at {self.bootstrap} "
                              f"(pid {' '.join(str(p) for p in pids.values())}), {mode}")
                return self.bootstrap
            stopped = [n for n in self.nodes if n.node_id not in pids]
            if stopped:
                for node in stopped:
                    for port, name in ((node.port, "POWERSELL_KAFKA_PORT"),
                                       (node.controller_port, "POWERSELL_KAFKA_CONTROLLER_PORT")):
                        if _port_open("127.0.0.1", port, 1.0):
                            raise BrokerError(f"something else listens on 127.0.0.1:{port} (not our broker); "
                                              f"stop it or set {name} to a free port")
                self.ensure_jars()
                secured = self.credentials.secured() if pids else self.secured  # a running cluster keeps its mode
                for node in stopped:
                    node.log_dirs.mkdir(parents=True, exist_ok=True)  # also creates home
                security = self._prepare_credentials()
                for node in stopped:  # 0600: the secured config holds the broker's own SCRAM password
                    write_private(node.properties, self._render(node, security if secured else None))
                self.credentials.set_mode(secured)
                (self.home / "log4j2.properties").write_text(_LOG4J2)
                self.marker.write_text(f"{len(self.nodes)}\n")
                for node in stopped:
                    self._format_storage(node)
                self.progress(f"starting {what}" if len(stopped) == len(self.nodes)
                              else f"starting node {', '.join(str(n.node_id) for n in stopped)}")
                for node in stopped:
                    pids[node.node_id] = self._start(node)
            else:
                secured = self.credentials.secured()
            start = time.monotonic()  # the deadline covers the broker's startup, not Maven
            deadline = start + timeout
            while time.monotonic() < deadline:  # poll for the condition, not a fixed sleep
                for node in self.nodes:
                    if not self._alive(pids[node.node_id], node):
                        node.pid_file.unlink(missing_ok=True)
                        name = "the Kafka broker" if len(self.nodes) == 1 else f"Kafka node {node.node_id}"
                        raise BrokerError(f"{name} exited during startup; last lines of "
                                          f"{node.log_file}:\n{self._log_tail(node)}")
                if broker_answers(self.bootstrap, timeout=min(2.0, max(deadline - time.monotonic(), 0.1)),
                                  client_config=self.client_config(), brokers=len(self.nodes)):
                    self.progress(f"{what} ready at {self.bootstrap} in {time.monotonic() - start:.1f} s"
                                  + ("" if secured else " (open: no authentication, no ACLs)"))
                    if secured:
                        self._apply_acls()
                    return self.bootstrap
                time.sleep(0.25)
        self.down()
        raise BrokerError(f"the Kafka {what} did not answer on {self.bootstrap} within {timeout:.0f} s; "
                          f"stopped it. Last lines of {self.nodes[0].log_file}:\n{self._log_tail()}")

    def _apply_acls(self) -> None:
        from .acl_admin import apply_acls
        from .security import local_principal_settings
        report = apply_acls(local_principal_settings(replace(self.settings, bootstrap_servers=self.bootstrap), OPERATOR))
        self.progress(f"access rules from the topic catalog: {report.created} added, {report.kept} in place; "
                      f"credentials of every principal in {self.credentials.users} (0600)")

    def down(self, wipe: bool = False, timeout: float = 30.0) -> bool:
        """Stop every node of ours (SIGTERM to all at once: a cluster's nodes then still find a controller
        quorum for their controlled shutdown; SIGKILL after `timeout`); True if one was running."""
        with self._lock():
            pids = self.running_pids()
            if pids:
                self.progress(f"stopping {'broker' if len(self.nodes) == 1 else 'cluster'} "
                              f"(pid {' '.join(str(p) for p in pids.values())})")
            for pid in pids.values():
                self._signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for node_id, pid in pids.items():
                node = self.nodes[node_id - 1]
                if not self._wait_gone(pid, max(deadline - time.monotonic(), 0.0), node):
                    self.progress(f"broker (pid {pid}) did not stop within {timeout:.0f} s; killing it")
                    self._signal(pid, signal.SIGKILL)
                    if not self._wait_gone(pid, 10.0, node):
                        raise BrokerError(f"could not stop the Kafka broker (pid {pid})")
            for node in self.nodes:
                node.pid_file.unlink(missing_ok=True)
            self._procs.clear()
            if wipe and self.home.exists():
                self.progress(f"removing broker data in {self.home}")
                shutil.rmtree(self.home)  # config, log, cluster id, storage; never the jar cache
        return bool(pids)

    def kill_node(self, node_id: int, sig: signal.Signals = signal.SIGKILL, timeout: float = 30.0) -> bool:
        """Stop one node (for fault tests: SIGKILL is a crash); `up()` starts it again. True if it ran."""
        node = self.nodes[node_id - 1]
        with self._lock():
            pid = self._running_pid(node=node)
            if pid is None:
                return False
            self._signal(pid, sig)
            if not self._wait_gone(pid, timeout, node):
                raise BrokerError(f"Kafka node {node_id} (pid {pid}) did not stop")
            node.pid_file.unlink(missing_ok=True)
            self._procs.pop(node_id, None)
        return True

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        with suppress(ProcessLookupError):  # the whole session: java and anything it started
            os.killpg(pid, sig) if os.getpgid(pid) == pid else os.kill(pid, sig)

    def _wait_gone(self, pid: int, timeout: float, node: KafkaNode | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while self._alive(pid, node):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def status(self) -> BrokerStatus:
        """Report without changing anything (a stale pid file is left for up/down to remove)."""
        pids = tuple(self._running_pid(remove_stale=False, node=n) for n in self.nodes)
        pid = next((p for p in pids if p is not None), None)
        return BrokerStatus(running=pid is not None, pid=pid, bootstrap=self.bootstrap,
                            answering=broker_answers(self.bootstrap, client_config=self.client_config(),
                                                     brokers=len(self.nodes)),
                            jars_cached=self.jars_cached(), data_dir=self.home, nodes=len(self.nodes), pids=pids)
