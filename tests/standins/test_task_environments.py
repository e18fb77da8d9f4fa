"""A task imports the runtime (PySpark) and what it declares, nothing else, as on Databricks: an
undeclared import fails locally too, a declared library or wheel from the workspace is there, and a
version the stand-in cannot serve fails as a failed library installation."""

from __future__ import annotations

import importlib.metadata
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from lakehouse_cli.bundle_deploy import build_wheel
from lakehouse_standins.databricks import DEFAULT_CLUSTER_ID, DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from testsupport import REPO

PIPES = f"dagster-pipes=={importlib.metadata.version('dagster-pipes')}"
CODE = "/Workspace/Users/lakehouse@localhost/code"
TASK = """
import sys
import dagster_pipes
print("imported", dagster_pipes.__name__)
"""


@pytest.fixture
def standin(tmp_path: Path, spark_remote: str) -> Iterator[DatabricksStandin]:
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(tmp_path / "standin", warehouse, spark_remote=spark_remote) as s:
        code = tmp_path / "code"
        code.mkdir()
        (code / "uses_pipes.py").write_text(TASK)
        (code / "uses_data_ops.py").write_text("import data_ops.config\nimport pydantic\nprint('ok')\n")
        (code / "notebook.py").write_text(
            f"# Databricks notebook source\n# MAGIC %pip install {PIPES}\n" + TASK
        )
        s.workspace.import_tree(code, CODE)
        yield s


def run(standin: DatabricksStandin, task: dict[str, Any], **body: Any) -> dict[str, Any]:
    sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
    submitted = sdk.api_client.do(
        "POST",
        "/api/2.2/jobs/runs/submit",
        body={"run_name": "env", "tasks": [{"task_key": "t", **task}], **body},
    )
    run_id = submitted["run_id"]  # type: ignore[index]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = sdk.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})
        if state["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):  # type: ignore[index]
            return state["state"]  # type: ignore[index,return-value]
        time.sleep(0.2)
    raise AssertionError("the run did not end")


def python_task(name: str, **extra: Any) -> dict[str, Any]:
    return {"spark_python_task": {"python_file": f"{CODE}/{name}"}, **extra}


def test_an_undeclared_import_fails_and_a_declared_library_is_there(standin: DatabricksStandin) -> None:
    cluster = {"existing_cluster_id": DEFAULT_CLUSTER_ID}
    bare = run(standin, python_task("uses_pipes.py", **cluster))
    assert bare["result_state"] == "FAILED"
    assert "No module named 'dagster_pipes'" in bare["state_message"]
    declared = run(standin, python_task("uses_pipes.py", libraries=[{"pypi": {"package": PIPES}}], **cluster))
    assert declared["result_state"] == "SUCCESS", declared["state_message"]


def test_a_serverless_environment_and_a_notebook_pip_cell_declare_libraries(
    standin: DatabricksStandin,
) -> None:
    environment = {"environment_key": "default", "spec": {"client": "2", "dependencies": [PIPES]}}
    serverless = run(
        standin, python_task("uses_pipes.py", environment_key="default"), environments=[environment]
    )
    assert serverless["result_state"] == "SUCCESS", serverless["state_message"]
    notebook = run(
        standin,
        {"notebook_task": {"notebook_path": f"{CODE}/notebook"}, "existing_cluster_id": DEFAULT_CLUSTER_ID},
    )
    assert notebook["result_state"] == "SUCCESS", notebook["state_message"]


def test_a_wheel_comes_from_the_workspace_with_its_own_requirements(
    standin: DatabricksStandin, tmp_path: Path
) -> None:
    wheel = build_wheel(REPO / "databricks")
    standin.workspace.mkdirs(f"{CODE}/wheels")
    remote = f"{CODE}/wheels/{wheel.name}"
    standin.workspace.write(remote, wheel.read_bytes(), overwrite=True, language=None)
    cluster = {"existing_cluster_id": DEFAULT_CLUSTER_ID}
    without = run(standin, python_task("uses_data_ops.py", **cluster))
    assert "No module named 'data_ops'" in without["state_message"]
    installed = run(standin, python_task("uses_data_ops.py", libraries=[{"whl": remote}], **cluster))
    assert installed["result_state"] == "SUCCESS", installed["state_message"]
    missing = run(
        standin, python_task("uses_data_ops.py", libraries=[{"whl": f"{CODE}/gone.whl"}], **cluster)
    )
    assert missing["result_state"] == "FAILED"
    assert f"the wheel {CODE}/gone.whl does not exist in the workspace" in missing["state_message"]


def test_a_version_the_stand_in_cannot_serve_fails_the_installation(standin: DatabricksStandin) -> None:
    cluster = {"existing_cluster_id": DEFAULT_CLUSTER_ID}
    state = run(
        standin,
        python_task("uses_pipes.py", libraries=[{"pypi": {"package": "dagster-pipes==0.0.1"}}], **cluster),
    )
    assert state["result_state"] == "FAILED"
    assert re.search(
        r"Library installation failed: dagster-pipes==0\.0\.1 is not available here", state["state_message"]
    )


def test_every_pin_of_dagster_pipes_in_the_repository_is_the_installed_one() -> None:
    pins = set()
    for path in [
        *REPO.glob("databricks/**/*.py"),
        *REPO.glob("src/**/*.yaml"),
        *REPO.glob("databricks/**/*.yml"),
    ]:
        pins |= set(re.findall(r"dagster-pipes==[\w.]+", path.read_text(encoding="utf-8")))
    assert pins == {PIPES}
