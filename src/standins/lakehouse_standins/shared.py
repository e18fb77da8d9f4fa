"""The stand-ins one checkout's commands share: one server process, counted users, recorded ports.

`task pipeline`, `task dev` and `task standins` each join the stand-ins of their warehouse
(`settings.warehouse_state_dir / "standins"`; a second warehouse file in the same folder gets
stand-ins, runs and a Spark catalog of its own, so no run reads or writes another warehouse's
tables): the first starts a server process (`python -m
lakehouse_standins.shared`), later ones find it in `server.json` and register as users. The server
lives while any user process lives: a user leaving last stops it, and the server itself exits
within a second once every user is gone, even one killed with `kill -9`.

A port is used only when this checkout's registry names it, so a stranger's server (another
checkout's stand-ins, any program) is never spoken to: when a configured port is taken, the
stand-in gets a free port instead and the registry records it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from lakehouse_resources.locks import exclusive
from lakehouse_resources.processes import start_child, stop_group
from lakehouse_resources.settings import (
    STANDIN_SERVER_FILE,
    LakehouseSettings,
    get_settings,
    pid_alive,
    read_standin_server,
)

from lakehouse_standins.databricks.spark_runtime import FORK_SAFE_GRPC_ENV

_POLL_SECONDS = 0.5
_START_TIMEOUT_SECONDS = 120.0
_STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class StandinServer:
    """What `server.json` records: who serves, for which checkout and warehouse, on which ports."""

    pid: int
    root: str
    warehouse: str
    databricks_port: int
    dbt_cloud_port: int

    def settings_for(self, settings: LakehouseSettings) -> LakehouseSettings:
        """`settings` pointed at these stand-ins' ports."""
        return settings.model_copy(
            update={
                "databricks_standin_port": self.databricks_port,
                "dbt_cloud_standin_port": self.dbt_cloud_port,
            }
        )

    def child_env(self) -> dict[str, str]:
        """The variables that point a child process (dagster dev's code servers) at these ports."""
        return {
            "LAKEHOUSE_DATABRICKS_STANDIN_PORT": str(self.databricks_port),
            "LAKEHOUSE_DBT_CLOUD_STANDIN_PORT": str(self.dbt_cloud_port),
        }


def wants_standins(settings: LakehouseSettings) -> bool:
    """Only locally, and only for services no real workspace is configured for."""
    return settings.uses_databricks_standin or settings.uses_dbt_cloud_standin


def registry_dir(settings: LakehouseSettings) -> Path:
    return settings.standin_registry_dir


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port. Connections closing from a stopped server (TIME_WAIT) do
    not count: servers bind with SO_REUSEADDR, so the check does too."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with exclusive(folder / "lock"):
        yield


def _read_server(folder: Path) -> StandinServer | None:
    # The settings read the same record for the ports no variable sets (`dg dev`'s code servers).
    record = read_standin_server(folder)
    try:
        return StandinServer(**record) if record is not None else None
    except TypeError:
        return None


def _live_users(folder: Path) -> list[int]:
    users = folder / "users"
    users.mkdir(exist_ok=True)
    alive = []
    for entry in users.iterdir():
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            alive.append(int(entry.name))
        else:
            entry.unlink(missing_ok=True)
    return alive


def _choose_port(configured: int, name: str, notes: list[str]) -> int:
    if port_free(configured):
        return configured
    port = free_port()
    notes.append(
        f"port {configured} ({name}) is taken by another program or warehouse: its stand-in uses {port}"
    )
    return port


def _start_server(settings: LakehouseSettings, folder: Path, notes: list[str]) -> StandinServer:
    ports = (
        _choose_port(settings.databricks_standin_port, "LAKEHOUSE_DATABRICKS_STANDIN_PORT", notes),
        _choose_port(settings.dbt_cloud_standin_port, "LAKEHOUSE_DBT_CLOUD_STANDIN_PORT", notes),
    )
    (folder / STANDIN_SERVER_FILE).unlink(missing_ok=True)
    env = {
        **os.environ,
        **settings.child_process_env(),
        "LAKEHOUSE_ROOT": str(settings.root),
        "LAKEHOUSE_DATABRICKS_STANDIN_PORT": str(ports[0]),
        "LAKEHOUSE_DBT_CLOUD_STANDIN_PORT": str(ports[1]),
        "LAKEHOUSE_STANDIN_SPARK_AT_START": str(settings.standin_spark_at_start).lower(),
        **FORK_SAFE_GRPC_ENV,
    }
    if settings.data_dir_override:
        env["LAKEHOUSE_DATA_DIR"] = str(settings.data_dir_override)
    with (folder / "server.log").open("ab") as log:
        # No parent-death signal: the server outlives the user that started it while others use
        # it, and stops itself once no user is alive (see `serve`).
        process = start_child(
            [sys.executable, "-m", "lakehouse_standins.shared"],
            env=env,
            cwd=settings.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            parent_death_signal=None,
        )
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while (server := _read_server(folder)) is None or server.pid != process.pid:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process)
            tail = (folder / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the stand-ins did not start (log {folder / 'server.log'}):\n{tail}")
        time.sleep(0.1)
    # The server is no child of ours to wait for: another user may be the one who stops it.
    threading.Thread(target=process.wait, daemon=True).start()
    return server


def planned_settings(settings: LakehouseSettings) -> LakehouseSettings:
    """`settings` on the ports this checkout's stand-ins serve on, or will serve on when
    `shared_standins(planned)` starts them: a caller can start what needs the ports (`task dev`'s
    code servers) while the stand-ins start."""
    folder = registry_dir(settings)
    with _locked(folder):
        server = _read_server(folder)
    if server is not None:
        return server.settings_for(settings)
    notes: list[str] = []  # said again by shared_standins if the port is still taken then
    return settings.model_copy(
        update={
            "databricks_standin_port": _choose_port(settings.databricks_standin_port, "", notes),
            "dbt_cloud_standin_port": _choose_port(settings.dbt_cloud_standin_port, "", notes),
        }
    )


def record_server(folder: Path, record: StandinServer) -> None:
    """Write `server.json` whole: a reader finds the previous record or this one, never half."""
    partial = folder / f"{STANDIN_SERVER_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(asdict(record)))
    partial.replace(folder / STANDIN_SERVER_FILE)


def running_standins(settings: LakehouseSettings) -> StandinServer | None:
    """This checkout's stand-in server, when one runs (`task dev`, `task standins`)."""
    if not wants_standins(settings):
        return None
    folder = registry_dir(settings)
    with _locked(folder):
        return _read_server(folder)


@contextmanager
def shared_standins(settings: LakehouseSettings, say=print) -> Iterator[StandinServer | None]:
    """Use this checkout's stand-ins for as long as the block lasts (None when none are wanted)."""
    if not wants_standins(settings):
        yield None
        return
    folder = registry_dir(settings)
    me = folder / "users" / str(os.getpid())
    with _locked(folder):
        _live_users(folder)
        server = _read_server(folder)
        joined = server is not None
        me.touch()
        if server is None:
            notes: list[str] = []
            try:
                server = _start_server(settings, folder, notes)
            except BaseException:
                me.unlink(missing_ok=True)
                raise
            for note in notes:
                say(note)
    what = "joined" if joined else "started"
    say(
        f"stand-ins {what}: Databricks 127.0.0.1:{server.databricks_port}, dbt Cloud 127.0.0.1:{server.dbt_cloud_port}"
    )
    try:
        yield server
    finally:
        with _locked(folder):
            me.unlink(missing_ok=True)
            if not _live_users(folder):
                _stop_server(folder, server)


def _stop_server(folder: Path, server: StandinServer) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
    while pid_alive(server.pid):
        if time.monotonic() > deadline:  # its group: the server and the runs it started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
        time.sleep(0.05)
    (folder / STANDIN_SERVER_FILE).unlink(missing_ok=True)


def serve() -> None:
    """The server process: both stand-ins until no user is left or SIGTERM."""
    from lakehouse_standins.local import local_standins

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    settings = get_settings()
    folder = registry_dir(settings)
    with ExitStack() as stack:
        stack.enter_context(local_standins(settings))
        record = StandinServer(
            pid=os.getpid(),
            root=str(settings.root),
            warehouse=str(settings.duckdb_path),
            databricks_port=settings.databricks_standin_port,
            dbt_cloud_port=settings.dbt_cloud_standin_port,
        )
        record_server(folder, record)
        print(f"stand-ins serving for {settings.root} ({settings.duckdb_path})", flush=True)
        while not stop.wait(_POLL_SECONDS):
            with _locked(folder):
                if _live_users(folder):
                    continue
                # The last user is gone (perhaps killed): stop serving before anyone can join.
                (folder / STANDIN_SERVER_FILE).unlink(missing_ok=True)
                stack.close()
                return


if __name__ == "__main__":
    serve()
