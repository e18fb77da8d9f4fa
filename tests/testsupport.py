"""Small helpers shared by test modules (fixtures live in conftest.py)."""

import socket

import duckdb
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings

REPO = repo_root()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(settings: LakehouseSettings, sql: str) -> list[tuple]:
    """Rows from the settings' warehouse, read-only."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()
