"""`runs/list` gives a run's tasks only with expand_tasks=true, as the Jobs API does: a client that
needs a task's run id must ask for them (the stream sensor does)."""

from __future__ import annotations

from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service.jobs import RunType, Task
from lakehouse_standins.databricks import DatabricksStandin
from testsupport import NO_SPARK, sparkless_standin


def test_tasks_come_only_with_expand_tasks(tmp_path: Path) -> None:
    with sparkless_standin(tmp_path) as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=5))
        api = sdk.api_client
        task = {
            "task_key": "t",
            "spark_python_task": {"python_file": "/Workspace/Users/lakehouse@localhost/nothing.py"},
            "existing_cluster_id": "standin-cluster",
        }
        created = api.do("POST", "/api/2.2/jobs/create", body={"name": "listed", "tasks": [task]})
        job_id = created["job_id"]  # type: ignore[index]
        api.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id})
        plain = api.do("GET", "/api/2.2/jobs/runs/list", query={"job_id": job_id})
        expanded = api.do("GET", "/api/2.2/jobs/runs/list", query={"job_id": job_id, "expand_tasks": "true"})
        assert "tasks" not in plain["runs"][0]  # type: ignore[index]
        assert [t["task_key"] for t in expanded["runs"][0]["tasks"]] == ["t"]  # type: ignore[index]


def test_one_time_runs_are_listed_beside_job_runs_as_on_a_workspace(tmp_path: Path) -> None:
    # No warehouse file: a one-time run would otherwise show its tables to a Spark that is not
    # there, retrying for minutes after the test while holding the bridge's catalog lock.
    standin = DatabricksStandin(tmp_path / "standin", tmp_path / "absent.duckdb", spark_remote=NO_SPARK)
    with standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=5))
        task = {
            "task_key": "t",
            "spark_python_task": {"python_file": "/Workspace/Users/lakehouse@localhost/nothing.py"},
            "existing_cluster_id": "standin-cluster",
        }
        api = sdk.api_client
        job_id = sdk.jobs.create(name="listed", tasks=[Task.from_dict(task)]).job_id
        job_run = api.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id})["run_id"]  # type: ignore[index]
        submit = {"run_name": "once", "tasks": [task]}
        one_time = api.do("POST", "/api/2.2/jobs/runs/submit", body=submit)["run_id"]  # type: ignore[index]

        everything = [(run.run_id, run.run_type.value) for run in sdk.jobs.list_runs()]  # type: ignore[union-attr]
        submitted = [run.run_id for run in sdk.jobs.list_runs(run_type=RunType.SUBMIT_RUN)]
        of_the_job = [run.run_id for run in sdk.jobs.list_runs(job_id=job_id)]

        # Newest first; a job's runs never include a one-time run.
        assert everything == [(one_time, "SUBMIT_RUN"), (job_run, "JOB_RUN")]
        assert submitted == [one_time]
        assert of_the_job == [job_run]
