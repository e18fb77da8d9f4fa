"""The local Spark behind the Databricks stand-in: one Spark Connect server, shared by every task.

Why a standalone Connect server: serverless compute on Databricks *is* Spark Connect, so a task
that sets `SPARK_REMOTE` gets its session from a plain `SparkSession.builder.getOrCreate()`, the
line it runs on a workspace. One long-lived JVM (7-10 s to start) serves every task, each over
its own Connect session; a JVM per task would cost that start every time.

The server is `spark-submit --class ...SparkConnectServer` from the pyspark wheel (`SPARK_HOME`
is the installed package), `local[2]`, with every port and the driver bound to 127.0.0.1 and the
UI off. Its catalog is an embedded Hive metastore (Derby) and warehouse under `spark_dir`, so
tables keep their names and files across restarts (the default in-memory catalog forgets the
names while the files stay, and the next `saveAsTable` fails with LOCATION_ALREADY_EXISTS).
Delta Lake is loaded as on a workspace (its session extension and catalog, Delta the default table
format), from jars resolved once into `.lakehouse/spark-packages/` (`delta_jars`).

The JVM is started through `processes.start_child` from a thread that lives as long as the server:
the kernel sends the parent-death signal when the forking *thread* exits.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

from lakehouse_resources.processes import start_child, stop_group

from lakehouse_standins.databricks.delta_jars import DELTA_CONFS, DeltaJarsUnavailable, delta_jars

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
# For every process that hosts a stand-in (its server, the tests, the benchmarks), set before gRPC
# starts: grpcio's fork handlers are on by default and can deadlock a fork taken while other threads
# use Spark Connect (grpc/grpc#37259; seen in CI as a pipeline update that never started). The
# stand-ins fork task processes from many threads, and those exec at once: they need no handler.
FORK_SAFE_GRPC_ENV = {"GRPC_ENABLE_FORK_SUPPORT": "false"}
INSTALL_JAVA_HINT = "install Java 17, e.g. `apt-get install openjdk-17-jre-headless`"
_START_TIMEOUT_SECONDS = 180.0
# HotSpot's optimizing compiler (C2) at 30 times its default thresholds: on local data Spark's work is
# mostly planning each query, with freshly generated classes every time, and C2 spent half of a
# stand-in JVM's CPU compiling code run too little to repay it (63 of 159 CPU-s in a `task pipeline`,
# 93 of 230 in four Spark test files). Methods that are really hot, such as a scan's loop over a
# large table, still reach C2. Measured in docs/benchmarks.md ("The JIT compiler in a Spark JVM").
JIT_OPTIONS = (
    "-XX:Tier4InvocationThreshold=150000",
    "-XX:Tier4MinInvocationThreshold=18000",
    "-XX:Tier4CompileThreshold=450000",
    "-XX:Tier4BackEdgeThreshold=1200000",
)


class SparkUnavailable(RuntimeError):
    """The local Spark cannot start (no Java, or the JVM exited); the message says what to do."""


def find_java(env: dict[str, str] | None = None) -> str | None:
    """The `java` spark-submit would run: `$JAVA_HOME/bin/java`, else the one on PATH."""
    env = dict(os.environ if env is None else env)
    java_home = env.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java", path=env.get("PATH"))


def require_java(env: dict[str, str] | None = None) -> str:
    java = find_java(env)
    if java is None:
        raise SparkUnavailable(
            "The local Databricks stand-in runs Spark, which needs Java, and none was found "
            f"(JAVA_HOME, PATH): {INSTALL_JAVA_HINT}"
        )
    return java


def require_delta_jars(packages_dir: Path | None = None, env: dict[str, str] | None = None) -> list[Path]:
    """Delta Lake's jars from the cache, fetched first when missing (SparkUnavailable if they cannot be)."""
    env = dict(os.environ if env is None else env)
    env["SPARK_HOME"] = str(spark_home())
    try:
        return delta_jars(packages_dir, spark_submit=spark_home() / "bin" / "spark-submit", env=env)
    except DeltaJarsUnavailable as exc:
        raise SparkUnavailable(str(exc)) from exc


def spark_home() -> Path:
    """The installed pyspark package: it ships bin/spark-submit and the jars (Connect, Hive, Derby)."""
    spec = importlib.util.find_spec("pyspark")  # located, not imported: importing costs 0.25 s
    if spec is None or spec.origin is None:
        raise SparkUnavailable("Local Spark needs the pyspark package, which is not installed")
    return Path(spec.origin).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def server_command(spark_dir: Path, port: int, jars: list[Path]) -> list[str]:
    warehouse = spark_dir / "warehouse"
    metastore = spark_dir / "metastore_db"
    confs = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        # derby.log goes next to the metastore, not into whatever folder the stand-in runs in.
        "spark.driver.extraJavaOptions": " ".join([f"-Dderby.system.home={spark_dir}", *JIT_OPTIONS]),
        # Local data is small: 200 shuffle partitions would make every aggregate slow.
        "spark.sql.shuffle.partitions": "4",
        # Delta rebuilds a table's state from its log in 50 tasks by default, sized for a cluster: on
        # two local cores that made every read of a tiny table 10-15 s instead of about 1 s.
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.log.level": "WARN",
        # Delta Lake, as on a workspace: its jars from the local cache, never the network.
        "spark.jars": ",".join(str(jar) for jar in jars),
        **DELTA_CONFS,
    }
    command = [str(spark_home() / "bin" / "spark-submit"), "--class", CONNECT_SERVER_CLASS]
    command += ["--master", "local[2]", "--name", "lakehouse-standin-spark"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    return command


def clear_unfinished_metastore(metastore: Path) -> str | None:
    """Remove a Derby metastore whose creation never finished (no `service.properties`: the JVM was
    killed while the first catalog call created it); Derby refuses to open one, so every later
    start would fail. It holds no table yet; the tables' files under `warehouse/` stay."""
    if not metastore.is_dir() or (metastore / "service.properties").exists():
        return None
    shutil.rmtree(metastore)
    return (
        f"removed {metastore}: its creation was interrupted (no service.properties); Spark creates it again"
    )


class SparkServer(Protocol):
    """What the stand-in needs from a Spark: start it, its URL once up, stop it."""

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def remote(self, timeout: float = ...) -> str: ...

    def stop(self) -> None: ...


class ExternalSpark:
    """A Connect server someone else owns (the tests' shared one): never started or stopped here."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def pid(self) -> int | None:
        return None  # not ours

    def start(self) -> None:
        pass

    def remote(self, timeout: float = _START_TIMEOUT_SECONDS) -> str:
        return self.url

    def stop(self) -> None:
        pass


class SparkRuntime:
    """One Spark Connect server on 127.0.0.1, started once (`start()` returns at once) and stopped
    with its owner. `remote()` waits until it answers and returns its `sc://` URL."""

    def __init__(
        self,
        spark_dir: Path,
        *,
        port: int = 0,
        java_env: dict[str, str] | None = None,
        packages_dir: Path | None = None,
    ) -> None:
        self.spark_dir = Path(spark_dir).absolute()
        self.packages_dir = packages_dir
        self.port = port or _free_port()
        self._java_env = java_env
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._error: SparkUnavailable | None = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path:
        return self.spark_dir / "server.log"

    def start(self) -> None:
        """Begin starting the server in the background (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._own_server, name="spark-connect-server", daemon=True
                )
                self._thread.start()

    def remote(self, timeout: float = _START_TIMEOUT_SECONDS) -> str:
        """The server's URL once it answers; starts it if nobody has yet."""
        self.start()
        if not self._ready.wait(timeout):
            raise SparkUnavailable(
                f"Local Spark did not answer on {self.url} within {timeout:.0f} s (log: {self.log_path})"
            )
        if self._error:
            raise self._error
        return self.url

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(30)

    def _own_server(self) -> None:
        """Runs for the server's whole life: starts the JVM, waits for stop, stops it."""
        try:
            self._process = self._launch()
            self._wait_until_listening(self._process)
            self._warm_up()
        except SparkUnavailable as exc:
            self._error = exc
        finally:
            self._ready.set()
        self._stop.wait()
        if self._process is not None:
            stop_group(self._process, grace=10.0)

    def _launch(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ if self._java_env is None else self._java_env)
        require_java(env)
        self.spark_dir.mkdir(parents=True, exist_ok=True)
        env["SPARK_HOME"] = str(spark_home())
        # Connect clients inside the JVM's Python workers must not find a server URL of their own.
        env.pop("SPARK_REMOTE", None)
        env.pop("SPARK_CONNECT_MODE_ENABLED", None)
        jars = require_delta_jars(self.packages_dir, env)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed when we exit
        if note := clear_unfinished_metastore(self.spark_dir / "metastore_db"):
            log.write(f"{note}\n".encode())
            log.flush()
        try:
            return start_child(
                server_command(self.spark_dir, self.port, jars),
                env=env,
                cwd=self.spark_dir,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()

    def _wait_until_listening(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _answers(self.port):
            if process.poll() is not None:
                raise SparkUnavailable(
                    f"Local Spark exited with code {process.returncode} while starting: {self._log_tail()}"
                )
            if self._stop.is_set() or time.monotonic() > deadline:
                raise SparkUnavailable(f"Local Spark did not start on {self.url} (log: {self.log_path})")
            time.sleep(0.2)

    def _warm_up(self) -> None:
        """Open the catalog once: the embedded metastore's first use takes seconds, and ready
        should mean ready for a task, not for its first query."""
        try:
            spark = private_session(self.url)
            try:
                spark.sql("show databases").collect()
            finally:
                spark.stop()
        except Exception as exc:
            raise SparkUnavailable(f"Local Spark on {self.url} does not answer queries: {exc}") from exc

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def __enter__(self) -> SparkRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def private_session(remote: str) -> Any:
    """A Connect session for the stand-in's own work (bridge, warm-up, pipeline bookkeeping) that
    never becomes the process's default: the builder's `create()`/`getOrCreate()` would make it the
    session a test in the same process gets, and stopping it would pull that session away.

    Its queries are not reattachable: a reattachable query releases its results on the server from
    a background thread, after the caller has its rows, and the stand-in stops these sessions right
    then, so each release failed against the closed session with a WARNING in the stand-in's log.
    Reattaching only helps a long query over an unreliable network; these are short, on 127.0.0.1."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = ConnectSession(connection=remote)
    session.client.disable_reattachable_execute()
    return session


def task_remote(remote: str) -> str:
    """A task's own Connect session on the server: released with `release_task_session` when the
    task ends, however it ends (a killed client cannot release it itself)."""
    return f"{remote}/;user_id=standin;session_id={uuid.uuid4()}"


def release_or_say(remote: str) -> str:
    """Release the task's session (`release_task_session`): "" when released, else the sentence a
    stopped run's state message ends with (its queries may still run)."""
    try:
        release_task_session(remote)
    except Exception as exc:
        return f" The task's Spark session could not be released, its queries may still run: {exc}"
    return ""


def release_task_session(remote: str) -> None:
    """Interrupt whatever the task's session still runs and release it on the server."""
    from pyspark.sql.connect.client import SparkConnectClient

    port = int(remote.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    if not _answers(port):
        return
    client = SparkConnectClient(remote, retry_policy={"max_retries": 2})
    try:
        client.interrupt_all()
        # Releasing while an interrupted operation is still winding down fails with an illegal
        # state (operation "Started"): retry until it has stopped.
        deadline = time.monotonic() + 30
        while True:
            try:
                client.release_session()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                client.interrupt_all()  # an operation started meanwhile is stopped too
    finally:
        client.close()
