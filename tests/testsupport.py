"""Small helpers shared by test modules (fixtures live in conftest.py)."""

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings

if TYPE_CHECKING:
    from lakehouse_standins.databricks import DatabricksStandin

REPO = repo_root()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(settings: LakehouseSettings, sql: str) -> list[tuple]:
    """Rows from the settings' warehouse, read-only."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


# A Spark Connect URL nobody listens on: a stand-in whose tasks never touch Spark starts no JVM.
NO_SPARK = "sc://127.0.0.1:9"


def sparkless_standin(tmp_path: Path) -> "DatabricksStandin":
    """A Databricks stand-in over the sample warehouse that runs code under `tmp_path/code`."""
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse

    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    return DatabricksStandin(
        tmp_path / "standin", warehouse, code_roots=[tmp_path / "code"], spark_remote=NO_SPARK
    )
