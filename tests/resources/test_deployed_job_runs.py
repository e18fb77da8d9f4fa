"""Running a deployed job through Pipes (`run_job_with_pipes`) under the faults a one-time run
survives: a server error while reading the run, and a run that outlives its timeout."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import compute, jobs
from lakehouse_resources.databricks.deployed import find_job, run_job_with_pipes
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.http import Fault
from testsupport import PIPES, sparkless_standin, workspace_code

VOLUME = "/Volumes/main/lakehouse/pipes"
REPORTS = """
    from dagster_pipes import (
        PipesCliArgsParamsLoader,
        PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter,
        open_dagster_pipes,
    )

    with open_dagster_pipes(
        params_loader=PipesCliArgsParamsLoader(),
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
    ) as pipes:
        pipes.report_asset_materialization(metadata={"dagster/row_count": 42})
"""
HANGS = "import time\ntime.sleep(600)\n"


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DatabricksStandin]:
    with sparkless_standin(tmp_path) as s:  # these tasks never touch Spark
        yield s


def deploy_job(standin: DatabricksStandin, tmp_path: Path, body: str) -> WorkspaceClient:
    path = workspace_code(standin, tmp_path / "code", "job", body)
    client = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
    client.jobs.create(
        name="deployed_local",
        job_clusters=[
            jobs.JobCluster(
                job_cluster_key="main", new_cluster=compute.ClusterSpec(spark_version="x", num_workers=1)
            )
        ],
        tasks=[
            jobs.Task(
                task_key="main",
                job_cluster_key="main",
                spark_python_task=jobs.SparkPythonTask(python_file=path),
                # what the task imports beyond the runtime, installed on its cluster
                libraries=[compute.Library(pypi=compute.PythonPyPiLibrary(package=PIPES))],
            )
        ],
    )
    return client


def materialize(client: WorkspaceClient, timeout_seconds: float = 300) -> dg.ExecuteInProcessResult:
    @dg.asset(name="deployed")
    def deployed(context: dg.AssetExecutionContext):
        job = find_job(client, "deployed_local", "local")
        invocation, _ = run_job_with_pipes(
            context,
            client,
            job,
            volume_path=VOLUME,
            poll_interval_seconds=0.1,
            message_interval_seconds=0.1,
            timeout_seconds=timeout_seconds,
        )
        yield from invocation.get_results()

    return dg.materialize([deployed], raise_on_error=False)


def test_a_500_while_reading_a_deployed_job_run_is_retried(standin, tmp_path) -> None:
    client = deploy_job(standin, tmp_path, REPORTS)
    flaky = standin.recorder.add_fault(Fault("GET", "/api/2.2/jobs/runs/get", status=500, times=1))

    result = materialize(client)

    assert result.success, result.all_events
    assert flaky.hits == 1
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/row_count"].value == 42
    assert not standin.recorder.matching("POST", "/api/2.*/jobs/runs/cancel"), "a healthy run was cancelled"


def test_a_deployed_job_run_past_its_timeout_is_cancelled(standin, tmp_path) -> None:
    client = deploy_job(standin, tmp_path, HANGS)

    result = materialize(client, timeout_seconds=1)

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data
    assert failure.step_failure_data.error
    assert "did not finish within 1 s and was cancelled" in str(failure.step_failure_data.error.to_string())
    assert standin.recorder.matching("POST", "/api/2.*/jobs/runs/cancel")
    [run] = standin.deployed_jobs.runs.values()
    assert run.result_state == "CANCELED"
