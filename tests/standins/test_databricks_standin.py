"""The Databricks stand-in through the real databricks-sdk: runs, cancel, timeouts, Files API, clusters."""

import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import duckdb
import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import (
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service import compute, jobs, workspace
from lakehouse_standins.databricks import DEFAULT_CLUSTER_ID, DatabricksStandin, RunFault
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.databricks.spark_runtime import private_session
from pyspark.errors.exceptions.connect import SparkConnectException
from testsupport import WORKSPACE_CODE, workspace_code

VOLUME = "/Volumes/main/lakehouse/pipes"


@pytest.fixture
def standin(tmp_path: Path, spark_remote: str) -> Iterator[DatabricksStandin]:
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(tmp_path / "standin", warehouse, spark_remote=spark_remote) as s:
        yield s


@pytest.fixture
def sdk(standin: DatabricksStandin) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))


def code(standin: DatabricksStandin, tmp_path: Path, name: str, body: str, *, notebook: bool = True) -> str:
    """A notebook (or, with notebook=False, a Python file) in the stand-in's workspace, as a deploy
    puts it there; returns its workspace path."""
    return workspace_code(standin, tmp_path / "code", name, body, notebook=notebook)


def notebook_task(path: str, **parameters: str) -> jobs.SubmitTask:
    return jobs.SubmitTask(
        task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters=parameters)
    )


class Finished(NamedTuple):
    run: jobs.Run
    result: jobs.RunResultState | None
    message: str


# As on a workspace, a run ends in one of these; INTERNAL_ERROR is a stand-in error the test must see.
_TERMINAL = (
    jobs.RunLifeCycleState.TERMINATED,
    jobs.RunLifeCycleState.SKIPPED,
    jobs.RunLifeCycleState.INTERNAL_ERROR,
)


def wait_until_done(sdk: WorkspaceClient, run_id: int) -> Finished:
    # A hang guard, not a timing assertion: a loaded 2-core machine runs Spark slowly.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        run = sdk.jobs.get_run(run_id)
        if run.state and run.state.life_cycle_state in _TERMINAL:
            return Finished(run, run.state.result_state, run.state.state_message or "")
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not terminate")


def submit(sdk: WorkspaceClient, *tasks: jobs.SubmitTask, **kwargs) -> int:
    return sdk.jobs.submit(run_name="test", tasks=list(tasks), **kwargs).bind()["run_id"]


def test_a_notebook_reads_its_widgets_and_returns_a_result(standin, sdk, tmp_path) -> None:
    path = code(standin, tmp_path, "greet", 'dbutils.notebook.exit("hello " + dbutils.widgets.get("who"))\n')
    done = wait_until_done(sdk, submit(sdk, notebook_task(path, who="lakehouse")))

    assert done.result == jobs.RunResultState.SUCCESS
    run = done.run
    assert run.run_page_url == f"{standin.url}/#job/runs/{run.run_id}"
    assert run.start_time
    assert run.end_time
    assert run.end_time >= run.start_time
    assert [task.task_key for task in run.tasks or []] == ["t"]
    output = sdk.jobs.get_run_output(done.run.run_id or 0)
    assert output.notebook_output
    assert output.notebook_output.result == "hello lakehouse"


def test_an_undefined_widget_raises_as_on_databricks(standin, sdk, tmp_path) -> None:
    path = code(standin, tmp_path, "nosuch", 'dbutils.widgets.get("missing")\n')
    done = wait_until_done(sdk, submit(sdk, notebook_task(path)))

    assert done.result == jobs.RunResultState.FAILED
    assert done.message == "InputWidgetNotDefined: No input widget named missing is defined"
    details = done.run.status.termination_details if done.run.status else None
    assert details
    assert details.code == jobs.TerminationCodeCode.RUN_EXECUTION_ERROR
    assert "InputWidgetNotDefined" in (sdk.jobs.get_run_output(done.run.run_id or 0).error_trace or "")


def test_a_python_task_gets_argv_its_own_spark_and_volume_paths_but_not_the_standin_env(
    standin, sdk, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-of-the-orchestrator")
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    path = code(
        standin,
        tmp_path,
        "probe",
        """
        import json, os, sys
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        customers = spark.table(sys.argv[2]).count()
        leaked = sorted(k for k in os.environ if k.startswith(("LAKEHOUSE_", "DATABRICKS_TOKEN")))
        report = {"argv": sys.argv[1:], "flag": os.environ.get("FLAG"), "customers": customers, "leaked": leaked}
        with open("/Volumes/main/lakehouse/pipes/probe/report.json", "w") as f:
            json.dump(report, f)
        """,
        notebook=False,
    )
    sdk.files.create_directory(f"{VOLUME}/probe")
    arguments = ["--table", "spark_catalog.main_marts.customers"]
    task = jobs.SubmitTask(
        task_key="probe",
        spark_python_task=jobs.SparkPythonTask(python_file=path, parameters=arguments),
        new_cluster=compute.ClusterSpec(spark_version="15.4.x-scala2.12", spark_env_vars={"FLAG": "on"}),
    )
    done = wait_until_done(sdk, submit(sdk, task))

    assert done.result == jobs.RunResultState.SUCCESS, done.message
    contents = sdk.files.download(f"{VOLUME}/probe/report.json").contents
    assert contents
    report = json.loads(contents.read())
    assert report == {"argv": arguments, "flag": "on", "customers": 3, "leaked": []}


def test_a_notebook_has_spark_display_and_fs_and_its_saved_table_reaches_duckdb(
    standin, sdk, tmp_path
) -> None:
    path = code(
        standin,
        tmp_path,
        "tiers",
        """
        source, target = dbutils.widgets.get("source"), dbutils.widgets.get("target")
        spark.sql(f"create schema if not exists {target.rsplit('.', 1)[0]}")
        tiers = spark.table(source).selectExpr("customer_id", "customer_lifetime_value >= 30 as valuable")
        display(tiers)
        tiers.write.mode("overwrite").saveAsTable(target)
        dbutils.fs.put("/Volumes/main/lakehouse/pipes/tiers/done.txt", target, overwrite=True)
        dbutils.notebook.exit(str([f.name for f in dbutils.fs.ls("/Volumes/main/lakehouse/pipes/tiers")]))
        """,
    )
    target = "spark_catalog.main_standin_test.customer_tiers"
    task = notebook_task(path, source="spark_catalog.main_marts.customers", target=target)
    done = wait_until_done(sdk, submit(sdk, task))

    assert done.result == jobs.RunResultState.SUCCESS, done.message
    output = sdk.jobs.get_run_output(done.run.run_id or 0)
    assert output.notebook_output
    assert output.notebook_output.result == "['done.txt']"
    assert "valuable" in (output.logs or "")
    with duckdb.connect(str(standin.warehouse_path), read_only=True) as con:
        rows = con.execute("select * from main_standin_test.customer_tiers order by 1").fetchall()
    assert rows == [(1, True), (2, False), (3, True)]


def test_a_spark_analysis_error_fails_the_run_with_its_error_class_and_spark_survives(
    standin, sdk, tmp_path
) -> None:
    path = code(standin, tmp_path, "reader", 'spark.table(dbutils.widgets.get("table")).count()\n')

    missing = "spark_catalog.main_marts.no_such_table"
    failed = wait_until_done(sdk, submit(sdk, notebook_task(path, table=missing)))
    succeeded = wait_until_done(
        sdk, submit(sdk, notebook_task(path, table="spark_catalog.main_marts.customers"))
    )

    assert failed.result == jobs.RunResultState.FAILED
    output = sdk.jobs.get_run_output(failed.run.run_id or 0)
    assert output.error
    assert "[TABLE_OR_VIEW_NOT_FOUND]" in output.error
    assert "`main_marts`.`no_such_table`" in output.error
    assert "JVM stacktrace" not in output.error
    assert 'code/reader", line 2' in (output.error_trace or ""), "the trace names the notebook's line"
    assert succeeded.result == jobs.RunResultState.SUCCESS, succeeded.message


def test_a_file_outside_the_workspace_is_refused_as_unknown(sdk, tmp_path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("print('must not run')\n")

    done = wait_until_done(sdk, submit(sdk, notebook_task(str(outside))))

    assert done.result == jobs.RunResultState.FAILED
    assert (
        f"Unable to access the notebook or file {outside}: it does not exist in the workspace" in done.message
    )


def test_cancel_is_reported_only_once_the_task_s_spark_session_is_released(standin, sdk, tmp_path) -> None:
    remote_file = tmp_path / "remote.txt"
    path = code(
        standin,
        tmp_path,
        "longer_query",
        f"""
        import os
        open({str(remote_file)!r}, "w").write(os.environ["SPARK_REMOTE"])
        spark.sql("select count(*) from range(1000000000000)").collect()
        """,
    )
    run_id = submit(sdk, notebook_task(path))
    deadline = time.monotonic() + 300
    while not remote_file.exists() or not remote_file.read_text():
        assert time.monotonic() < deadline, "the notebook never started"
        time.sleep(0.05)
    sdk.jobs.cancel_run(run_id)
    # The first answer that carries a result: by then the session's query must be gone.
    while True:
        assert time.monotonic() < deadline, "the run never reported a result"
        state = sdk.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})["state"]  # type: ignore[index]
        if state.get("result_state"):
            break
        time.sleep(0.02)
    assert state["result_state"] == "CANCELED"
    session = private_session(remote_file.read_text())  # not the process's default session
    with pytest.raises(SparkConnectException, match="SESSION_CLOSED"):
        session.range(1).count()
    session.client.close()
    assert wait_until_done(sdk, run_id).result == jobs.RunResultState.CANCELED


def test_cancel_kills_the_whole_process_group(standin, sdk, tmp_path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    path = code(
        standin,
        tmp_path,
        "spawner",
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(600)
        """,
    )
    run_id = submit(sdk, notebook_task(path))
    deadline = time.monotonic() + 300  # a hang guard: the bridge and a task's start are slow under load
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the notebook never started its child"
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())

    sdk.jobs.cancel_run(run_id)
    done = wait_until_done(sdk, run_id)

    assert done.result == jobs.RunResultState.CANCELED
    assert standin.recorder.matching("POST", "/api/2.2/jobs/runs/cancel")
    for pid in (standin.run(run_id).pid, grandchild):
        assert not _alive(pid), f"process {pid} survived the cancel"


def _alive(pid: int | None) -> bool:
    assert pid is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if _is_zombie(pid):
            return False
        time.sleep(0.05)
    return True


def _is_zombie(pid: int) -> bool:
    # An orphaned grandchild is reaped by init eventually; a zombie is already dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def test_timeout_seconds_is_enforced(sdk, standin, tmp_path) -> None:
    standin.script_run(RunFault.HANG)
    done = wait_until_done(
        sdk, submit(sdk, notebook_task(code(standin, tmp_path, "nb", "")), timeout_seconds=1)
    )

    assert done.result == jobs.RunResultState.TIMEDOUT
    assert "timed out after 1 seconds" in done.message


def test_a_scripted_failure_fails_the_run(sdk, standin, tmp_path) -> None:
    standin.script_run(RunFault.FAIL)
    done = wait_until_done(sdk, submit(sdk, notebook_task(code(standin, tmp_path, "nb", ""))))

    assert done.result == jobs.RunResultState.FAILED
    assert "could not be started" in done.message


def test_a_missing_notebook_fails_the_run(sdk) -> None:
    done = wait_until_done(sdk, submit(sdk, notebook_task("/Workspace/Shared/nowhere")))

    assert done.result == jobs.RunResultState.FAILED
    assert "/Workspace/Shared/nowhere" in done.message


def test_a_notebook_runs_only_once_it_is_in_the_workspace(standin, sdk, tmp_path) -> None:
    local = tmp_path / "undeployed" / "later.py"
    local.parent.mkdir()
    local.write_text('# Databricks notebook source\ndbutils.notebook.exit("deployed")\n')
    path = f"{WORKSPACE_CODE}/later"

    missing = wait_until_done(sdk, submit(sdk, notebook_task(path)))
    standin.workspace.import_tree(local.parent, WORKSPACE_CODE)
    deployed = wait_until_done(sdk, submit(sdk, notebook_task(path)))
    # A workspace path is the same object with or without the /Workspace prefix.
    unprefixed = wait_until_done(sdk, submit(sdk, notebook_task(path.removeprefix("/Workspace"))))

    assert missing.result == jobs.RunResultState.FAILED
    assert missing.message == (
        f"Unable to access the notebook or file {path}: it does not exist in the workspace"
        " (is the bundle deployed?)."
    )
    assert deployed.result == jobs.RunResultState.SUCCESS, deployed.message
    output = sdk.jobs.get_run_output(deployed.run.run_id or 0)
    assert output.notebook_output
    assert output.notebook_output.result == "deployed"
    assert unprefixed.result == jobs.RunResultState.SUCCESS, unprefixed.message
    assert sdk.workspace.get_status(path).object_type == workspace.ObjectType.NOTEBOOK


def test_an_unknown_endpoint_answers_404_naming_the_call(standin, sdk) -> None:
    headers = {"Authorization": f"Bearer {standin.token}"}
    get = httpx.get(f"{standin.url}/api/2.0/no/such/api", headers=headers)
    post = httpx.post(f"{standin.url}/api/2.1/unity-catalog/nothing", json={"a": 1}, headers=headers)
    with pytest.raises(NotFound, match=re.escape("No API found for 'DELETE /api/2.0/made/up'")) as raised:
        sdk.api_client.do("DELETE", "/api/2.0/made/up")

    assert (get.status_code, get.json()) == (
        404,
        {"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for 'GET /api/2.0/no/such/api'"},
    )
    assert (post.status_code, post.json()) == (
        404,
        {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": "No API found for 'POST /api/2.1/unity-catalog/nothing'",
        },
    )
    assert raised.value.error_code == "ENDPOINT_NOT_FOUND"
    assert standin.unknown_calls == [
        "GET /api/2.0/no/such/api",
        "POST /api/2.1/unity-catalog/nothing",
        "DELETE /api/2.0/made/up",
    ]
    assert standin.runs == []


def test_submit_rejects_unknown_clusters_and_serverless_python_without_environment(
    standin, sdk, tmp_path
) -> None:
    path = code(standin, tmp_path, "job", "")
    on_unknown = jobs.SubmitTask(
        task_key="t", existing_cluster_id="nope", notebook_task=jobs.NotebookTask(path)
    )
    with pytest.raises(InvalidParameterValue, match="Cluster nope does not exist"):
        submit(sdk, on_unknown)
    python = jobs.SubmitTask(task_key="t", spark_python_task=jobs.SparkPythonTask(python_file=path))
    with pytest.raises(InvalidParameterValue, match="environment_key"):
        submit(sdk, python)


def test_clusters_get_knows_only_configured_clusters(sdk) -> None:
    assert sdk.clusters.get(DEFAULT_CLUSTER_ID).cluster_id == DEFAULT_CLUSTER_ID
    with pytest.raises(ResourceDoesNotExist, match="Cluster unknown does not exist"):
        sdk.clusters.get("unknown")


def test_unknown_runs_are_errors(sdk) -> None:
    with pytest.raises(ResourceDoesNotExist, match="Run 4242 does not exist"):
        sdk.jobs.get_run(4242)


def test_files_api_semantics(standin, sdk) -> None:
    files = sdk.files
    files.create_directory(f"{VOLUME}/a/b")
    files.upload(f"{VOLUME}/a/b/x.json", io.BytesIO(b"{}"), overwrite=True)
    with pytest.raises(ResourceConflict):
        files.upload(f"{VOLUME}/a/b/x.json", io.BytesIO(b"[]"), overwrite=False)

    contents = files.download(f"{VOLUME}/a/b/x.json").contents
    assert contents
    assert contents.read() == b"{}"
    [entry] = files.list_directory_contents(f"{VOLUME}/a")
    listing = sdk.api_client.do("GET", f"/api/2.0/fs/directories{VOLUME}/a")
    assert "next_page_token" not in listing, "the SDK keeps paging while a token is present"
    assert (entry.name, entry.is_directory, entry.path) == ("b", True, f"{VOLUME}/a/b")
    with pytest.raises(ResourceConflict, match="not empty"):
        files.delete_directory(f"{VOLUME}/a/b")

    files.delete(f"{VOLUME}/a/b/x.json")
    with pytest.raises(NotFound):
        files.download(f"{VOLUME}/a/b/x.json")
    files.delete_directory(f"{VOLUME}/a/b")
    with pytest.raises(NotFound):
        list(files.list_directory_contents(f"{VOLUME}/a/b"))
    with pytest.raises(NotFound, match="Volume /Volumes/main/other/vol does not exist"):
        files.create_directory("/Volumes/main/other/vol/x")


def test_every_request_is_logged(standin, sdk) -> None:
    sdk.clusters.get(DEFAULT_CLUSTER_ID)
    with pytest.raises(NotFound):
        sdk.files.download(f"{VOLUME}/missing")

    assert [(r.method, r.path, r.status) for r in standin.recorder.requests] == [
        ("GET", "/api/2.1/clusters/get", 200),
        ("GET", f"/api/2.0/fs/files{VOLUME}/missing", 404),
    ]


def test_the_api_requires_the_configured_token(standin, tmp_path) -> None:
    stranger = WorkspaceClient(config=Config(host=standin.url, token="guessed", retry_timeout_seconds=5))

    with pytest.raises(PermissionDenied, match="Invalid access token"):
        stranger.clusters.get(DEFAULT_CLUSTER_ID)
    response = httpx.post(f"{standin.url}/api/2.2/jobs/runs/submit", json={"tasks": []})
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert standin.runs == []


def test_a_submit_that_is_not_json_is_refused(standin, tmp_path) -> None:
    # What any web page can send to 127.0.0.1 without a CORS preflight.
    body = '{"run_name": "x", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}}]}'
    response = httpx.post(
        f"{standin.url}/api/2.2/jobs/runs/submit",
        content=body,
        headers={"Authorization": f"Bearer {standin.token}", "Content-Type": "text/plain"},
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    assert standin.runs == []


def test_fields_the_api_does_not_define_are_dropped(standin, sdk, tmp_path) -> None:
    path = code(standin, tmp_path, "nb", "")
    task = {"task_key": "t", "notebook_task": {"notebook_path": path}, "tags": {"team": "data"}}
    run_id = sdk.api_client.do("POST", "/api/2.2/jobs/runs/submit", body={"run_name": "x", "tasks": [task]})[
        "run_id"
    ]
    done = wait_until_done(sdk, run_id)

    [echoed] = sdk.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})["tasks"]
    assert done.result == jobs.RunResultState.SUCCESS
    assert "tags" not in echoed, "a task has no tags field in the Jobs API"


def test_the_run_link_opens_a_page_with_state_output_and_stdout(standin, sdk, tmp_path) -> None:
    from urllib.parse import urlsplit

    path = code(
        standin, tmp_path, "talk", 'print("hello from stdout")\ndbutils.notebook.exit("the result")\n'
    )
    done = wait_until_done(sdk, submit(sdk, notebook_task(path)))
    url = urlsplit(done.run.run_page_url or "")

    home = httpx.get(f"{standin.url}{url.path or '/'}")  # what a browser requests: no fragment
    # The page's script follows the fragment; its pattern must match the link the API gives.
    pattern = re.search(r"/\^(#job.+?)/\.exec", home.text)
    page = httpx.get(f"{standin.url}/standin/runs/{done.run.run_id}")

    assert home.status_code == 200
    assert pattern
    follows = pattern.group(1).replace("\\/", "/")
    assert re.match(follows, f"#{url.fragment}")
    assert re.match(follows, "#job/7001/run/900001"), "a deployed job's run link is followed too"
    assert f"/standin/runs/{done.run.run_id}" in home.text
    assert page.status_code == 200
    assert "TERMINATED SUCCESS" in page.text
    assert "the result" in page.text
    assert "hello from stdout" in page.text
    assert httpx.get(f"{standin.url}/standin/runs/999999").status_code == 404


def test_a_deployed_jobs_run_link_opens_its_page_and_its_tasks(standin, sdk, tmp_path) -> None:
    path = code(standin, tmp_path, "deployed", 'print("printed by the job task")\n', notebook=False)
    task = jobs.Task(
        task_key="only",
        existing_cluster_id=DEFAULT_CLUSTER_ID,
        spark_python_task=jobs.SparkPythonTask(python_file=path),
    )
    job_id = sdk.jobs.create(name="page", tasks=[task]).job_id or 0
    done = wait_until_done(sdk, sdk.jobs.run_now(job_id).bind()["run_id"])
    [task_run] = done.run.tasks or []

    job_page = httpx.get(f"{standin.url}/standin/runs/{done.run.run_id}")
    task_page = httpx.get(f"{standin.url}/standin/runs/{task_run.run_id}")

    assert done.result == jobs.RunResultState.SUCCESS, done.message
    assert f"#job/{job_id}/run/{done.run.run_id}" in (done.run.run_page_url or "")
    assert "TERMINATED SUCCESS" in job_page.text
    assert f"/standin/runs/{task_run.run_id}" in job_page.text
    assert "printed by the job task" in task_page.text
