"""Fixtures for production targets: dummy Databricks settings, no network, a real PostgreSQL."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, get_settings
from testsupport import free_port

# pytest imports every folder's conftest as the module `conftest`, the last one collected
# winning: tests collected after this folder (tests/test_workspace.py) import REPO from it.
REPO = repo_root()
PRODUCTION_ENVS = ("dev", "staging", "prod")

# Values a deployment would take from its secret store; the tests prove none of them leaks.
DUMMY_TOKEN = "dapi-dummy-token-never-sent"
DUMMY_SQLSERVER_PASSWORD = "sqlserver-dummy-password"
DUMMY_PRODUCTION_ENV = {
    "DATABRICKS_HOST": "https://dummy-workspace.cloud.databricks.com",
    "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/dummy0123456789",
    "DATABRICKS_TOKEN": DUMMY_TOKEN,
    "LAKEHOUSE_SQLSERVER_URL": f"sqlserver://lakehouse:{DUMMY_SQLSERVER_PASSWORD}@sqlserver.invalid:1433?database=jaffle_shop",
    "DBT_CLOUD_ACCOUNT_ID": "1",
    "DBT_CLOUD_ACCESS_URL": "https://dummy.us1.dbt.com",
    "DBT_CLOUD_TOKEN": "dbtc-dummy-token-never-sent",
    "DBT_CLOUD_PROJECT_ID": "2",
    "DBT_CLOUD_ENVIRONMENT_ID": "3",
}


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any attempt to resolve a name or open a connection; returns what was attempted."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise NetworkUsed(f"network access while loading definitions: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture(scope="module")
def production_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One local state folder per test module. The dbt manifest is parsed per profile, and the
    profile names this folder: with one per test, every test would parse each environment anew."""
    return tmp_path_factory.mktemp("production-state")


@pytest.fixture
def production_env(
    clean_env: pytest.MonkeyPatch, production_state: Path
) -> Callable[[str], LakehouseSettings]:
    """Settings for LAKEHOUSE_ENV=<env> with dummy credentials; local state stays in tmp."""

    def settings_for(env: str) -> LakehouseSettings:
        for name, value in DUMMY_PRODUCTION_ENV.items():
            clean_env.setenv(name, value)
        clean_env.setenv("LAKEHOUSE_ENV", env)
        clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(production_state / env / "warehouse.duckdb"))
        return get_settings()

    return settings_for


# --- a real PostgreSQL server ------------------------------------------------------------------
def postgres_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL server install (/usr/lib/postgresql/<major>/bin)."""
    found = [
        p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()
    ]
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0)) if found else None


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    user: str
    password: str
    host: str = "127.0.0.1"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}?sslmode=disable"

    def connect(self, database: str = "postgres") -> Any:
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=database
        )

    def create_database(self, name: str) -> str:
        con = self.connect()
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        con.close()
        return name


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the tests run as root in CI's containers.
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of Debian's packages on a free loopback port, stopped at teardown."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
            "(.ci/run installs them; locally: apt-get install postgresql)"
        )
    owner: tuple[int, int] | None = None
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root needs the `postgres` OS user that Debian's package creates")
        owner = (entry.pw_uid, entry.pw_gid)
    # Not under pytest's tmp dir: that is private to root (0700), and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    password = os.urandom(12).hex()
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if owner is not None:
        for path in (root, socket_dir, pwfile):
            os.chown(path, *owner)
    port = free_port()
    log = root / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_server_user([str(bin_dir / args[0]), *args[1:]]), capture_output=True, text=True
        )

    init = run(
        "initdb", "-D", str(data_dir), "-U", "lakehouse", f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = run("pg_ctl", "-D", str(data_dir), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
    assert start.returncode == 0, start.stderr + (log.read_text() if log.exists() else "")
    server = PostgresServer(
        bin_dir=bin_dir, data_dir=data_dir, port=port, user="lakehouse", password=password
    )
    try:
        yield server
    finally:
        stop = run("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        if stop.returncode != 0:
            run("pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop")
        status = run("pg_ctl", "-D", str(data_dir), "status")
        stopped = (
            status.returncode == 3 and not (data_dir / "postmaster.pid").exists() and not port_open(port)
        )
        shutil.rmtree(root, ignore_errors=True)
        assert stopped, f"PostgreSQL on port {port} did not stop: {stop.stderr} {status.stdout}"


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh database per test, so tests share the server but never each other's tables."""
    name = re.sub(r"\W", "_", request.node.name.lower())[:50] + "_" + os.urandom(3).hex()
    return postgres_server.create_database(name)
