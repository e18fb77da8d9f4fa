"""Kill the Databricks stand-in (SIGKILL, its own process) while a Spark task runs: the Dagster step
fails soon, naming the stand-in; no Spark process of it remains; a stand-in started again on the
same state and Spark folders runs the next Spark task.

No `from __future__ import annotations`: Dagster reads the assets' context annotation."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest
from lakehouse_resources.databricks import (
    DatabricksTaskSpec,
    LakehouseDatabricksClient,
    databricks_client_from_settings,
)
from lakehouse_resources.settings import DatabricksCompute, LakehouseSettings, get_settings
from lakehouse_standins.databricks import DEFAULT_CLUSTER_ID
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.databricks.spark_runtime import FORK_SAFE_GRPC_ENV
from lakehouse_standins.databricks.workspace import Workspace
from testsupport import PIPES, WORKSPACE_CODE, free_port

pytestmark = pytest.mark.spark

LONG_QUERY = """
    from dagster_pipes import (PipesCliArgsParamsLoader, PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
    from pyspark.sql import SparkSession

    with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
            message_writer=PipesUnityCatalogVolumesMessageWriter(),
            params_loader=PipesCliArgsParamsLoader()) as pipes:
        spark = SparkSession.builder.getOrCreate()
        # Minutes of work on two local cores: still running when the stand-in is killed.
        spark.range(10**12).selectExpr("sum(id * 7 % 13)").collect()
"""
SHORT_QUERY = """
    from dagster_pipes import (PipesCliArgsParamsLoader, PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
    from pyspark.sql import SparkSession

    with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
            message_writer=PipesUnityCatalogVolumesMessageWriter(),
            params_loader=PipesCliArgsParamsLoader()) as pipes:
        rows = SparkSession.builder.getOrCreate().range(3).count()
        pipes.report_asset_materialization(metadata={"rows": rows})
"""


def _start(tmp_path: Path, port: int, token_file: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lakehouse_standins.databricks", "--port", str(port)]
    command += ["--state-dir", str(tmp_path / "standin"), "--warehouse", str(tmp_path / "warehouse.duckdb")]
    command += ["--spark-dir", str(tmp_path / "spark"), "--token-file", str(token_file)]
    env = {**os.environ, **FORK_SAFE_GRPC_ENV}
    with open(tmp_path / "standin.log", "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            assert process.poll() is None, (tmp_path / "standin.log").read_text()[-3000:]
            time.sleep(0.3)
    raise AssertionError("the stand-in did not start")


def _spark_pids(spark_dir: Path) -> list[int]:
    """Processes whose command line names the stand-in's Spark folder (its Connect server JVM)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(spark_dir) in cmdline and "SparkConnectServer" in cmdline:
                pids.append(int(entry.name))
    return pids


def _asset(path: str) -> dg.AssetsDefinition:
    task = DatabricksTaskSpec.python_file(path, dependencies=(PIPES,))

    @dg.asset(name="remote")
    def remote(context: dg.AssetExecutionContext, databricks: LakehouseDatabricksClient):
        yield from databricks.run(context=context, task=task).get_results()

    return remote


def _client(settings: LakehouseSettings, port: int, token: str) -> LakehouseDatabricksClient:
    """The client `task pipeline` builds for the stand-in (its retry budget included)."""
    local = get_settings(
        databricks_standin_port=port,
        databricks_compute=DatabricksCompute.EXISTING_CLUSTER,
        databricks_cluster_id=DEFAULT_CLUSTER_ID,
    )
    return databricks_client_from_settings(local, poll_interval_seconds=0.5, token_file=None, token=token)


def _error(result: dg.ExecuteInProcessResult) -> str:
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures, "the step did not fail"
    error, text = failures[0].step_failure_data.error, ""
    while error is not None:
        text += error.message
        error = error.cause
    return text


def test_a_killed_standin_fails_the_step_naming_it_and_the_next_run_works(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    write_sample_warehouse(tmp_path / "warehouse.duckdb")
    code = tmp_path / "code"
    code.mkdir()
    (code / "long_query.py").write_text(textwrap.dedent(LONG_QUERY))
    (code / "short_query.py").write_text(textwrap.dedent(SHORT_QUERY))
    Workspace(tmp_path / "standin" / "workspace").import_tree(code, WORKSPACE_CODE)
    token_file = tmp_path / "token"
    token_file.write_text("killed-standin-token")
    port = free_port()
    standin = _start(tmp_path, port, token_file)
    client = _client(local_settings, port, "killed-standin-token")
    try:
        outcome: dict[str, object] = {}

        instance = dg.DagsterInstance.ephemeral()

        def materialize() -> None:
            outcome["result"] = dg.materialize(
                [_asset(f"{WORKSPACE_CODE}/long_query.py")],
                resources={"databricks": client},
                instance=instance,
                raise_on_error=False,
            )
            outcome["ended"] = time.monotonic()

        step = threading.Thread(target=materialize)
        step.start()
        deadline = time.monotonic() + 300  # hang guard: the JVM starts on the first task
        while not _a_run_is_running(port, "killed-standin-token") and time.monotonic() < deadline:
            assert step.is_alive(), "the step ended before its run started"
            time.sleep(0.5)
        assert _a_run_is_running(port, "killed-standin-token"), "runs/list never showed the run RUNNING"
        spark_pids = _spark_pids(tmp_path / "spark")
        assert spark_pids, "the stand-in's Spark is not running"
        time.sleep(8)  # the task process is up and its query under way
        killed = time.monotonic()
        standin.send_signal(signal.SIGKILL)
        standin.wait(10)
        step.join(180)
        assert not step.is_alive(), "the step still waits for a stand-in that was killed"
        result = outcome["result"]
        assert isinstance(result, dg.ExecuteInProcessResult)
        assert not result.success
        message = _error(result)
        assert "Databricks stand-in" in message
        assert "uv run task standins" in message
        # The bound for a user: the step ends within a minute of the kill, not at the run's timeout.
        assert float(outcome["ended"]) - killed < 60, message  # type: ignore[arg-type]
        # One retry budget found the stand-in gone; none was spent on cancelling or cleaning up after it.
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
        assert any("Not cancelling Databricks run" in line and "is gone" in line for line in logs), logs
        assert not [line for line in logs if "Could not" in line or line.startswith("Cancelling")], logs
        gone = time.monotonic() + 30
        while any(_alive(pid) for pid in spark_pids) and time.monotonic() < gone:
            time.sleep(0.5)
        assert not [pid for pid in spark_pids if _alive(pid)], "the killed stand-in's Spark still runs"
    finally:
        if standin.poll() is None:
            standin.kill()
            standin.wait(10)

    again = _start(tmp_path, port, token_file)
    try:
        result = dg.materialize(
            [_asset(f"{WORKSPACE_CODE}/short_query.py")],
            resources={"databricks": _client(local_settings, port, "killed-standin-token")},
            raise_on_error=False,
        )
        assert result.success, _error(result)
        [materialization] = result.asset_materializations_for_node("remote")
        assert materialization.metadata["rows"].value == 3
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(60)
    assert not _spark_pids(tmp_path / "spark"), "the second stand-in's Spark outlived it"


def _a_run_is_running(port: int, token: str) -> bool:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/api/2.2/jobs/runs/list",
        params={"active_only": "true"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    return any(run["state"]["life_cycle_state"] == "RUNNING" for run in answer.get("runs", []))


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, merely not yet reaped by its parent.
    return "zombie" not in _read(Path(f"/proc/{pid}/status")).lower()
