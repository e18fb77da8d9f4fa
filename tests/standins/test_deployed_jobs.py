"""Deployed jobs on the stand-in through the real databricks-sdk: create/reset/get/list/delete, run-now
with tasks in depends_on order, UPSTREAM_FAILED skips, per-task run ids and output."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service import compute, jobs
from lakehouse_standins.databricks import DatabricksStandin
from testsupport import sparkless_standin, workspace_code

CLUSTER = [
    jobs.JobCluster(job_cluster_key="main", new_cluster=compute.ClusterSpec(spark_version="x", num_workers=1))
]


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DatabricksStandin]:
    with sparkless_standin(tmp_path) as s:  # these tasks never touch Spark
        yield s


@pytest.fixture
def sdk(standin: DatabricksStandin) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))


def python_task(standin: DatabricksStandin, tmp_path: Path, key: str, body: str, *deps: str) -> jobs.Task:
    path = workspace_code(standin, tmp_path / "code", key, body)
    return jobs.Task(
        task_key=key,
        job_cluster_key="main",
        depends_on=[jobs.TaskDependency(task_key=d) for d in deps],
        spark_python_task=jobs.SparkPythonTask(python_file=path, parameters=[f"--key={key}"]),
    )


def wait(sdk: WorkspaceClient, run_id: int) -> jobs.Run:
    deadline = time.monotonic() + 300  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        run = sdk.jobs.get_run(run_id)
        if run.state and run.state.life_cycle_state in (
            jobs.RunLifeCycleState.TERMINATED,
            jobs.RunLifeCycleState.SKIPPED,
            jobs.RunLifeCycleState.INTERNAL_ERROR,
        ):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_tasks_run_in_dependency_order_and_a_failure_skips_dependants(
    sdk: WorkspaceClient, tmp_path: Path, standin: DatabricksStandin
) -> None:
    order = tmp_path / "order.txt"
    record = f"import sys\nopen({str(order)!r}, 'a').write(sys.argv[1] + '\\n')\n"
    tasks = [
        # listed out of order on purpose: depends_on decides
        python_task(standin, tmp_path, "publish", record, "transform"),
        python_task(
            standin, tmp_path, "transform", record + "raise ValueError('bad rows in transform')\n", "load"
        ),
        python_task(standin, tmp_path, "load", record),
        python_task(standin, tmp_path, "audit", record, "load"),
    ]
    job_id = sdk.jobs.create(name="etl_local", tasks=tasks, job_clusters=CLUSTER).job_id
    assert job_id is not None
    run = wait(sdk, sdk.jobs.run_now(job_id).run_id)
    assert run.job_id == job_id
    assert run.state
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert "transform" in (run.state.state_message or "")
    by_key = {task.task_key: task for task in run.tasks or []}
    states = {key: task.state.result_state if task.state else None for key, task in by_key.items()}
    assert states == {
        "load": jobs.RunResultState.SUCCESS,
        "transform": jobs.RunResultState.FAILED,
        "audit": jobs.RunResultState.SUCCESS,
        "publish": jobs.RunResultState.UPSTREAM_FAILED,
    }
    ran = order.read_text().split()
    assert ran.index("--key=load") < ran.index("--key=transform")
    assert "--key=publish" not in ran
    task_run_ids = {task.run_id for task in by_key.values()}
    assert len(task_run_ids) == 4
    assert run.run_id not in task_run_ids
    output = sdk.jobs.get_run_output(by_key["transform"].run_id or 0)
    assert output.error
    assert "bad rows in transform" in output.error


def test_reset_get_list_by_name_with_paging_and_delete(
    sdk: WorkspaceClient, tmp_path: Path, standin: DatabricksStandin
) -> None:
    task = python_task(standin, tmp_path, "only", "print('hi')\n")
    ids = [
        sdk.jobs.create(name="same_name", tasks=[task], job_clusters=CLUSTER).job_id or 0 for _ in range(3)
    ]
    sdk.jobs.create(name="other", tasks=[task], job_clusters=CLUSTER)
    # The SDK follows next_page_token; the stand-in sends it only while there is a next page.
    found = list(sdk.jobs.list(name="same_name", limit=2))
    assert sorted(job.job_id or 0 for job in found) == sorted(ids)
    pages = standin.recorder.matching("GET", "/api/2.2/jobs/list")
    assert [r.query.get("page_token") for r in pages] == [None, "2"]
    new = jobs.JobSettings(name="renamed", tasks=[task], job_clusters=CLUSTER, max_concurrent_runs=3)
    sdk.jobs.reset(ids[0], new_settings=new)
    got = sdk.jobs.get(ids[0])
    assert got.settings
    assert (got.settings.name, got.settings.max_concurrent_runs) == ("renamed", 3)
    sdk.jobs.delete(ids[1])
    assert sorted(job.job_id or 0 for job in sdk.jobs.list(name="same_name")) == [ids[2]]
    # The SDK maps Databricks' "Job <id> does not exist." answer onto ResourceDoesNotExist.
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        sdk.jobs.get(ids[1])


def test_a_job_with_a_dependency_cycle_is_refused(
    sdk: WorkspaceClient, tmp_path: Path, standin: DatabricksStandin
) -> None:
    tasks = [python_task(standin, tmp_path, "a", "", "b"), python_task(standin, tmp_path, "b", "", "a")]
    with pytest.raises(InvalidParameterValue, match="cycle"):
        sdk.jobs.create(name="loop", tasks=tasks, job_clusters=CLUSTER)


def test_python_params_replace_task_parameters_and_only_limits_tasks(
    sdk: WorkspaceClient, tmp_path: Path, standin: DatabricksStandin
) -> None:
    echo = "import sys\nprint('ARGS', sys.argv[1:])\n"
    tasks = [
        python_task(standin, tmp_path, "first", echo),
        python_task(standin, tmp_path, "second", echo, "first"),
    ]
    job_id = sdk.jobs.create(name="params", tasks=tasks, job_clusters=CLUSTER).job_id or 0
    run = wait(sdk, sdk.jobs.run_now(job_id, python_params=["--x=1"], only=["second"]).run_id)
    assert [task.task_key for task in run.tasks or []] == ["second"]
    output = sdk.jobs.get_run_output((run.tasks or [])[0].run_id or 0)
    assert "ARGS ['--x=1']" in (output.logs or "")
