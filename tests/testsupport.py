"""Small helpers shared by test modules (fixtures live in conftest.py)."""

import importlib.metadata
import socket
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks.workspace import USER_NAME

if TYPE_CHECKING:
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.http import Recorder

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
    """A Databricks stand-in over the sample warehouse; its workspace runs only the code a test
    puts there (`workspace_code`)."""
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse

    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    return DatabricksStandin(tmp_path / "standin", warehouse, spark_remote=NO_SPARK)


# Where tests put the code they write for the stand-in to run: the user's own workspace folder.
WORKSPACE_CODE = f"/Workspace/Users/{USER_NAME}/code"
# Where a `local` bundle deploy syncs the bundle's files (the settings' default notebook root).
DEPLOYED_FILES = f"/Workspace/Users/{USER_NAME}/.bundle/lakehouse/local/files"
NOTEBOOK_HEADER = "# Databricks notebook source\n"
# What a task that reports through Pipes declares (a library, or a notebook's `%pip install` cell):
# a task imports only the runtime and what it declares, on the stand-in as on Databricks.
PIPES = f"dagster-pipes=={importlib.metadata.version('dagster-pipes')}"
PIPES_CELL = f"# MAGIC %pip install {PIPES}\n\n# COMMAND ----------\n\n"


def workspace_code(
    standin: "DatabricksStandin", local_dir: Path, name: str, body: str, *, notebook: bool = False
) -> str:
    """Write `<local_dir>/<name>.py` and import `local_dir` into the stand-in's workspace at
    WORKSPACE_CODE, as a deploy would; returns the workspace path a task names.

    A notebook (`notebook=True`) gets Databricks' notebook header and its path drops `.py`; a
    Python file keeps its name."""
    local_dir.mkdir(parents=True, exist_ok=True)
    (local_dir / f"{name}.py").write_text((NOTEBOOK_HEADER if notebook else "") + textwrap.dedent(body))
    written = standin.workspace.import_tree(local_dir, WORKSPACE_CODE)
    path = f"{WORKSPACE_CODE}/{name}" if notebook else f"{WORKSPACE_CODE}/{name}.py"
    assert path.removeprefix("/Workspace") in written, f"{path} is not among the imported {written}"
    return path


def deploy_bundle_code(standin: "DatabricksStandin") -> list[str]:
    """databricks/src/ into the stand-in's workspace where a `local` bundle deploy syncs it."""
    return standin.workspace.import_tree(REPO / "databricks" / "src", f"{DEPLOYED_FILES}/src")


def resource_writes(recorder: "Recorder") -> list[str]:
    """The job and pipeline writes a stand-in received (what a no-change deploy must not send)."""
    return [
        r.path
        for r in recorder.requests
        if r.method in ("POST", "PUT", "DELETE")
        and r.path.startswith(("/api/2.2/jobs", "/api/2.0/pipelines"))
    ]
