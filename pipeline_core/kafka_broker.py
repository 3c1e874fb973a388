"""A real single-node Apache Kafka 4.x broker for development, run with the machine's Java.

Why: the pipeline must be tried against a real broker, not a mock, and Docker is not
always at hand. `powersell-pipeline kafka up` resolves the official Kafka jars from
Maven Central once (with Maven, into a cache reused offline afterwards), formats KRaft
storage once and starts one broker+controller process bound to 127.0.0.1 only.
`docker compose up kafka` remains the alternative when Java or Maven is missing.
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
    running: bool  # our pid file names a live broker process of ours
    pid: int | None
    bootstrap: str
    answering: bool  # something answers a Kafka metadata request on the bootstrap address
    jars_cached: bool
    data_dir: Path


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


def render_server_properties(port: int, controller_port: int, log_dirs: Path,
                             security: "BrokerSecurity | None" = None) -> str:
    """KRaft combined-mode config of one node; every listener binds 127.0.0.1 only. With `security`: clients
    over SASL_SSL (SCRAM-SHA-512), the controller listener over mutual TLS (only the broker's own certificate
    gets in), the StandardAuthorizer and deny by default."""
    if security is None:
        listeners = (f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n"
                     f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n"
                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n")
    else:
        listeners = security.properties(port, controller_port)
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
{listeners}controller.listener.names=CONTROLLER
{single_node_storage(log_dirs)}"""


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


def broker_answers(bootstrap: str, timeout: float = 2.0, client_config: dict | None = None) -> bool:
    """True if a broker on `bootstrap` answers a real metadata request; never raises. `client_config`: the
    client's security settings (kafka_client_config); a secured broker does not answer a client it refuses."""
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
        return bool(admin.describe_cluster().get("brokers"))
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
    """The local broker: jars in the cache dir, config, pid, log and storage in the data dir."""

    def __init__(self, settings: Settings, progress: Callable[[str], None] = lambda msg: None, secured: bool = True):
        self.settings = settings
        self.progress = progress
        self.secured = secured  # how `up` starts it; a running broker keeps the mode it was started in
        self.credentials = LocalCredentials(settings.data_dir)
        self.home = settings.data_dir / "kafka"
        self.lib_dir = settings.cache_dir / f"kafka-{settings.kafka_version}" / "lib"
        self.properties = self.home / "server.properties"
        self.pid_file = self.home / "kafka.pid"
        self.log_file = self.home / "kafka.log"
        self.cluster_file = self.home / "cluster.id"
        self.log_dirs = self.home / "data"
        self.bootstrap = f"127.0.0.1:{settings.kafka_port}"
        self._proc: subprocess.Popen[bytes] | None = None

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

    def _alive(self, pid: int) -> bool:
        """Is `pid` our broker? Our own child is asked directly (this also reaps it); others
        by /proc/<pid>/cmdline, which is empty for a zombie and just after exec."""
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"kafka.Kafka" in cmdline and str(self.properties).encode() in cmdline

    def _running_pid(self, remove_stale: bool = True) -> int | None:
        try:
            pid: int | None = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and self._alive(pid):
            return pid
        if remove_stale:
            self.pid_file.unlink(missing_ok=True)
        return None

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
        """The CA, the broker's certificate and a password for every principal (made once, 0600 files)."""
        from .acl import builtin_principals
        self.credentials.ensure_tls_material()
        for principal in (BROKER_PRINCIPAL, *(p.name for p in builtin_principals())):
            self.credentials.ensure_password(principal)
        return BrokerSecurity(self.credentials.broker_pem, self.credentials.ca_cert,
                              self.credentials.ensure_password(BROKER_PRINCIPAL)[0])

    def _format_storage(self) -> None:
        """Format once, with a SCRAM user for every principal, so the secured broker admits its operator
        from the start. The users and passwords go to Java in an argument file (0600, deleted at once):
        the launcher reads it, so they never appear in a process listing."""
        if (self.log_dirs / "meta.properties").is_file():
            return
        self.progress("formatting KRaft storage (with SCRAM users for every principal)")
        if not self.cluster_file.is_file():
            self.cluster_file.write_text(new_cluster_id() + "\n")
        from .acl import builtin_principals
        users = [(name, self.credentials.ensure_password(name)[0])
                 for name in (BROKER_PRINCIPAL, *(p.name for p in builtin_principals()))]
        args = ["kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_file.read_text().strip()}",
                "-c", str(self.properties)]
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

    def _log_tail(self) -> str:
        return _tail(self.log_file.read_text(errors="replace") if self.log_file.is_file() else "", 20)

    def up(self, timeout: float = 120.0) -> str:
        """Start the broker unless ours already runs; return its bootstrap address once it answers."""
        check_tools(need_maven=not self.jars_cached())
        with self._lock():
            pid = self._running_pid()
            if pid is None:
                s = self.settings
                for port, name in ((s.kafka_port, "POWERSELL_KAFKA_PORT"),
                                   (s.kafka_controller_port, "POWERSELL_KAFKA_CONTROLLER_PORT")):
                    if _port_open("127.0.0.1", port, 1.0):
                        raise BrokerError(f"something else listens on 127.0.0.1:{port} (not our broker); "
                                          f"stop it or set {name} to a free port")
                self.ensure_jars()
                self.log_dirs.mkdir(parents=True, exist_ok=True)  # also creates home
                security = self._prepare_credentials()
                # 0600: the secured config holds the broker's own SCRAM password
                write_private(self.properties, render_server_properties(
                    s.kafka_port, s.kafka_controller_port, self.log_dirs, security if self.secured else None))
                self.credentials.set_mode(self.secured)
                (self.home / "log4j2.properties").write_text(_LOG4J2)
                self._format_storage()
                self.progress("starting broker")
                with open(self.log_file, "wb") as log:  # one run's log: its tail explains failures
                    self._proc = subprocess.Popen(self._java("kafka.Kafka", str(self.properties)),
                                                  cwd=self.home, stdin=subprocess.DEVNULL, stdout=log,
                                                  stderr=subprocess.STDOUT, start_new_session=True)
                pid = self._proc.pid
                self.pid_file.write_text(f"{pid}\n")
            elif broker_answers(self.bootstrap, client_config=self.client_config()):
                mode = "secured" if self.credentials.secured() else "open (--insecure)"
                self.progress(f"broker already running at {self.bootstrap} (pid {pid}), {mode}")
                return self.bootstrap
            start = time.monotonic()  # the deadline covers the broker's startup, not Maven
            deadline = start + timeout
            while time.monotonic() < deadline:  # poll for the condition, not a fixed sleep
                if not self._alive(pid):
                    self.pid_file.unlink(missing_ok=True)
                    raise BrokerError("the Kafka broker exited during startup; last lines of "
                                      f"{self.log_file}:\n{self._log_tail()}")
                if broker_answers(self.bootstrap, timeout=min(2.0, max(deadline - time.monotonic(), 0.1)),
                                  client_config=self.client_config()):
                    self.progress(f"broker ready at {self.bootstrap} in {time.monotonic() - start:.1f} s"
                                  + ("" if self.secured else " (open: no authentication, no ACLs)"))
                    if self.secured:
                        self._apply_acls()
                    return self.bootstrap
                time.sleep(0.25)
        self.down()
        raise BrokerError(f"the Kafka broker did not answer on {self.bootstrap} within {timeout:.0f} s; "
                          f"stopped it. Last lines of {self.log_file}:\n{self._log_tail()}")

    def _apply_acls(self) -> None:
        from .acl_admin import apply_acls
        from .security import local_principal_settings
        report = apply_acls(local_principal_settings(replace(self.settings, bootstrap_servers=self.bootstrap), OPERATOR))
        self.progress(f"access rules from the topic catalog: {report.created} added, {report.kept} in place; "
                      f"credentials of every principal in {self.credentials.users} (0600)")

    def down(self, wipe: bool = False, timeout: float = 30.0) -> bool:
        """Stop our broker (SIGTERM, then SIGKILL after `timeout`); True if one was running."""
        with self._lock():
            pid = self._running_pid()
            if pid is not None:
                self.progress(f"stopping broker (pid {pid})")
                self._signal(pid, signal.SIGTERM)
                if not self._wait_gone(pid, timeout):
                    self.progress(f"broker did not stop within {timeout:.0f} s; killing it")
                    self._signal(pid, signal.SIGKILL)
                    if not self._wait_gone(pid, 10.0):
                        raise BrokerError(f"could not stop the Kafka broker (pid {pid})")
            self.pid_file.unlink(missing_ok=True)
            self._proc = None
            if wipe and self.home.exists():
                self.progress(f"removing broker data in {self.home}")
                shutil.rmtree(self.home)  # config, log, cluster id, storage; never the jar cache
        return pid is not None

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        with suppress(ProcessLookupError):  # the whole session: java and anything it started
            os.killpg(pid, sig) if os.getpgid(pid) == pid else os.kill(pid, sig)

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def status(self) -> BrokerStatus:
        """Report without changing anything (a stale pid file is left for up/down to remove)."""
        pid = self._running_pid(remove_stale=False)
        return BrokerStatus(running=pid is not None, pid=pid, bootstrap=self.bootstrap,
                            answering=broker_answers(self.bootstrap, client_config=self.client_config()),
                            jars_cached=self.jars_cached(),
                            data_dir=self.home)
