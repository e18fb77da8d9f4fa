"""A restarted Databricks stand-in still has its runs, jobs and pipelines, their output and pages,
as a workspace does: a run link stored in Dagster keeps working. A run that had not ended when the
stand-in stopped comes back ended, saying why, so nothing polls it for ever. No test here needs
Spark: the one-time runs fail before they would show their tables to the warehouse (absent here),
the job tasks never touch Spark, and the pipeline update fails before it would start."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import ResourceDoesNotExist
from lakehouse_resources.databricks.deployed import pipeline_url
from lakehouse_standins.databricks import DEFAULT_CLUSTER_ID, DatabricksStandin, RunFault
from lakehouse_standins.databricks.history import RETENTION_DAYS
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.workspace import Workspace
from testsupport import NO_SPARK, WORKSPACE_CODE

_ENDED = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


def start(tmp_path: Path) -> DatabricksStandin:
    """A stand-in on `tmp_path/standin` (a second one there is the first restarted); its warehouse
    is absent, so a one-time run copies nothing to Spark."""
    standin = DatabricksStandin(tmp_path / "standin", tmp_path / "absent.duckdb", spark_remote=NO_SPARK)
    standin.start()
    return standin


def api(standin: DatabricksStandin) -> Any:
    sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
    return sdk.api_client


def put_code(state: Path, local: Path, name: str, body: str) -> str:
    """A Python file in the workspace under `state`, as a deploy leaves it; its workspace path."""
    local.mkdir(parents=True, exist_ok=True)
    (local / f"{name}.py").write_text(body)
    Workspace(state / "workspace").import_tree(local, WORKSPACE_CODE)
    return f"{WORKSPACE_CODE}/{name}.py"


def python_task(path: str) -> dict[str, Any]:
    return {
        "task_key": "t",
        "existing_cluster_id": DEFAULT_CLUSTER_ID,
        "spark_python_task": {"python_file": path},
    }


def get_run(client: Any, run_id: int) -> dict[str, Any]:
    return client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})


def output(client: Any, run_id: int) -> dict[str, Any]:
    return client.do("GET", "/api/2.2/jobs/runs/get-output", query={"run_id": run_id})


def wait(client: Any, run_id: int, states: tuple[str, ...] = _ENDED) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        run = get_run(client, run_id)
        if run["state"]["life_cycle_state"] in states:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {states}")


def running_one_time_and_job_run(client: Any, path: str) -> tuple[int, int]:
    """A one-time run and a job's run of the file at `path`, both RUNNING: (run id, job run id)."""
    run_id = client.do("POST", "/api/2.2/jobs/runs/submit", body={"tasks": [python_task(path)]})["run_id"]
    job_id = client.do("POST", "/api/2.2/jobs/create", body={"name": "j", "tasks": [python_task(path)]})[
        "job_id"
    ]
    job_run_id = client.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id})["run_id"]
    wait(client, run_id, ("RUNNING",))
    wait(client, job_run_id, ("RUNNING",))
    return run_id, job_run_id


def wait_update(client: Any, pipeline_id: str, update_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        update = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates/{update_id}")["update"]
        if update["state"] in ("COMPLETED", "FAILED", "CANCELED"):
            return update
        time.sleep(0.1)
    raise AssertionError(f"update {update_id} did not end")


def without_host(body: Any, url: str) -> Any:
    """`body` with the stand-in's own address taken out of its links (a restart may change port)."""
    if isinstance(body, dict):
        return {k: without_host(v, url) for k, v in body.items()}
    if isinstance(body, list):
        return [without_host(v, url) for v in body]
    return body.replace(url, "<host>") if isinstance(body, str) else body


def test_runs_jobs_and_pipeline_updates_survive_a_restart_with_their_output_and_pages(tmp_path: Path) -> None:
    state = tmp_path / "standin"
    failing = put_code(
        state,
        tmp_path / "code",
        "fails",
        'print("printed before the failure")\nraise ValueError("planted")\n',
    )
    talking = put_code(state, tmp_path / "code", "talks", 'print("printed by the job task")\n')
    first = start(tmp_path)
    try:
        client = api(first)
        kept = {"run_name": "kept", "tasks": [python_task(failing)], "idempotency_token": "kept-token"}
        submitted = client.do("POST", "/api/2.2/jobs/runs/submit", body=kept)
        run_id = submitted["run_id"]
        job_id = client.do(
            "POST", "/api/2.2/jobs/create", body={"name": "kept", "tasks": [python_task(talking)]}
        )["job_id"]
        dropped = client.do("POST", "/api/2.2/jobs/create", body={"name": "dropped", "tasks": []})["job_id"]
        client.do("POST", "/api/2.2/jobs/delete", body={"job_id": dropped})
        job_run_id = client.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id})["run_id"]
        pipeline_id = client.do("POST", "/api/2.0/pipelines", body={"name": "no_sources", "libraries": []})[
            "pipeline_id"
        ]
        update_id = client.do("POST", f"/api/2.0/pipelines/{pipeline_id}/updates", body={})["update_id"]
        before = {
            "run": wait(client, run_id),
            "output": output(client, run_id),
            "job_run": wait(client, job_run_id),
            "update": wait_update(client, pipeline_id, update_id),
        }
        task_run_id = before["job_run"]["tasks"][0]["run_id"]
        before["task_output"] = output(client, task_run_id)
        before["events"] = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events")["events"]
        before = without_host(before, first.url)
    finally:
        first.stop()

    second = start(tmp_path)
    try:
        client = api(second)
        after = without_host(
            {
                "run": get_run(client, run_id),
                "output": output(client, run_id),
                "job_run": get_run(client, job_run_id),
                "update": client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates/{update_id}")["update"],
                "task_output": output(client, task_run_id),
                "events": client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events")["events"],
            },
            second.url,
        )
        pipeline = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}")
        updates = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates")["updates"]
        job = client.do("GET", "/api/2.2/jobs/get", query={"job_id": job_id})
        run_page = httpx.get(f"{second.url}/standin/runs/{run_id}")
        task_page = httpx.get(f"{second.url}/standin/runs/{task_run_id}")
        # The link Dagster stores for an update, followed as the home page's script follows it.
        link = pipeline_url(second.url, pipeline_id, update_id)
        home = httpx.get(f"{second.url}/")
        script = re.search(r"/\^(#joblist.+?)/\.exec", home.text)
        update_page = httpx.get(f"{second.url}/standin/pipelines/{pipeline_id}/updates/{update_id}")
        new_run = client.do(
            "POST", "/api/2.2/jobs/runs/submit", body={"run_name": "new", "tasks": [python_task(failing)]}
        )["run_id"]
        resubmitted = client.do("POST", "/api/2.2/jobs/runs/submit", body=kept)["run_id"]
        new_job = client.do("POST", "/api/2.2/jobs/create", body={"name": "new", "tasks": []})["job_id"]
        new_event_ids = {
            e["id"] for e in client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events")["events"]
        }
    finally:
        second.stop()

    assert before["run"]["state"]["result_state"] == "FAILED"
    assert "printed before the failure" in before["output"]["logs"]
    assert before["job_run"]["state"]["result_state"] == "SUCCESS"
    assert before["update"]["state"] == "FAILED"
    assert after == before
    assert [u["update_id"] for u in updates] == [update_id]
    assert [u["update_id"] for u in pipeline["latest_updates"]] == [update_id]
    assert job["settings"]["name"] == "kept"
    assert run_page.status_code == 200
    assert "TERMINATED FAILED" in run_page.text
    assert "printed before the failure" in run_page.text
    assert "ValueError: planted" in run_page.text
    assert "printed by the job task" in task_page.text
    assert script
    pattern = script.group(1).replace("\\/", "/")
    match = re.match(pattern, "#" + link.split("#", 1)[1])
    assert match
    assert match.groups() == (pipeline_id, f"/updates/{update_id}")
    assert update_page.status_code == 200
    assert "FAILED" in update_page.text
    assert "has no source files in its libraries" in update_page.text
    assert new_run not in (run_id, job_run_id, task_run_id)
    assert new_run > run_id
    assert resubmitted == run_id, "a retried submit after a restart is the same run"
    assert new_job not in (job_id, dropped)
    assert len(new_event_ids) == len(before["events"])


def test_a_clean_stop_cancels_running_runs_saying_the_standin_stopped(tmp_path: Path) -> None:
    state = tmp_path / "standin"
    sleeper = put_code(state, tmp_path / "code", "sleeps", "import time\ntime.sleep(600)\n")
    first = start(tmp_path)
    try:
        client = api(first)
        first.script_run(RunFault.HANG)
        run_id, job_run_id = running_one_time_and_job_run(client, sleeper)
    finally:
        first.stop()
    second = start(tmp_path)
    try:
        client = api(second)
        run = get_run(client, run_id)
        job_run = get_run(client, job_run_id)
    finally:
        second.stop()

    for found in (run, job_run):
        assert found["state"]["life_cycle_state"] == "TERMINATED"
        assert found["state"]["result_state"] == "CANCELED"
        assert "stand-in stopped while this run was running" in found["state"]["state_message"]


def test_runs_left_running_by_a_killed_standin_come_back_terminated_saying_so(tmp_path: Path) -> None:
    state = tmp_path / "standin"
    sleeper = put_code(
        state,
        tmp_path / "code",
        "sleeps",
        'import time\nprint("started, now sleeping", flush=True)\ntime.sleep(600)\n',
    )
    token = tmp_path / "token"
    token.write_text("the-token")
    command = [sys.executable, "-m", "lakehouse_standins.databricks", "--state-dir", str(state)]
    command += ["--warehouse", str(tmp_path / "absent.duckdb"), "--port", "0", "--token-file", str(token)]
    server = subprocess.Popen([*command, "--spark-remote", NO_SPARK], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout
        url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), url
        config = Config(host=url, token="the-token", retry_timeout_seconds=10)
        client: Any = WorkspaceClient(config=config).api_client
        run_id, job_run_id = running_one_time_and_job_run(client, sleeper)
        logs = [*state.glob("runs/*/task-0-stdout.log"), *state.glob("runs/job-*/*/t/stdout.log")]
        deadline = time.monotonic() + 60
        while not all("sleeping" in log.read_text() for log in logs) or len(logs) < 2:
            assert time.monotonic() < deadline, "the tasks did not start"
            time.sleep(0.1)
            logs = [*state.glob("runs/*/task-0-stdout.log"), *state.glob("runs/job-*/*/t/stdout.log")]
    finally:
        os.kill(server.pid, signal.SIGKILL)  # no clean stop: the runs are left RUNNING
        server.wait(30)

    second = start(tmp_path)
    try:
        client = api(second)
        run, run_output = get_run(client, run_id), output(client, run_id)
        job_run = get_run(client, job_run_id)
        task_output = output(client, job_run["tasks"][0]["run_id"])
        page = httpx.get(f"{second.url}/standin/runs/{run_id}")
    finally:
        second.stop()

    for found in (run, job_run):
        assert found["state"]["life_cycle_state"] == "TERMINATED"
        assert found["state"]["result_state"] == "FAILED"
        assert "stand-in stopped while this run was RUNNING" in found["state"]["state_message"]
    assert job_run["tasks"][0]["state"]["result_state"] == "FAILED"
    assert "stand-in stopped" in run_output["error"]
    assert "started, now sleeping" in run_output["logs"]
    assert "started, now sleeping" in task_output["logs"]
    assert "stand-in stopped while this run was RUNNING" in page.text


def test_a_pipeline_update_left_running_comes_back_failed_with_an_error_event(tmp_path: Path) -> None:
    first = start(tmp_path)
    try:
        client = api(first)
        pipeline_id = client.do("POST", "/api/2.0/pipelines", body={"name": "p", "libraries": []})[
            "pipeline_id"
        ]
    finally:
        first.stop()
    # What a stand-in killed during an update leaves: the update saved while it was RUNNING.
    store = Store(tmp_path / "standin" / "history.sqlite")
    [record] = store.load("pipeline")
    running = {
        "update_id": "u-1", "pipeline_id": pipeline_id, "state": "RUNNING", "cause": "API_CALL",
        "creation_time": 1, "full_refresh": False, "refresh_selection": [], "full_refresh_selection": [],
    }  # fmt: skip
    store.put("pipeline", pipeline_id, {**record, "updates": [running]})
    store.close()

    second = start(tmp_path)
    try:
        client = api(second)
        update = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates/u-1")["update"]
        events = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events")["events"]
        pipeline = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}")
    finally:
        second.stop()

    assert update["state"] == "FAILED"
    assert pipeline["state"] == "FAILED"
    errors = [e["message"] for e in events if e["level"] == "ERROR"]
    assert any("stand-in stopped while this update was RUNNING" in message for message in errors), events


def test_a_run_that_ended_longer_ago_than_a_workspace_keeps_is_forgotten_with_its_folder(
    tmp_path: Path,
) -> None:
    failing = put_code(tmp_path / "standin", tmp_path / "code", "fails", "raise ValueError('planted')\n")
    first = start(tmp_path)
    try:
        client = api(first)
        old, recent = (
            client.do("POST", "/api/2.2/jobs/runs/submit", body={"tasks": [python_task(failing)]})["run_id"]
            for _ in range(2)
        )
        wait(client, old)
        wait(client, recent)
    finally:
        first.stop()
    store = Store(tmp_path / "standin" / "history.sqlite")
    [record] = [r for r in store.load("run") if r["run_id"] == old]
    long_ago = int((time.time() - (RETENTION_DAYS + 1) * 86_400) * 1000)
    store.put("run", old, {**record, "end_time": long_ago})
    store.close()

    second = start(tmp_path)
    try:
        client = api(second)
        kept = get_run(client, recent)
        with pytest.raises(ResourceDoesNotExist, match=f"Run {old} does not exist"):
            get_run(client, old)
    finally:
        second.stop()

    assert kept["state"]["result_state"] == "FAILED"
    assert not Path(record["folder"]).exists()
    assert (tmp_path / "standin" / "runs" / str(recent)).exists()


def test_an_update_older_than_a_workspace_keeps_is_forgotten_with_its_events(tmp_path: Path) -> None:
    first = start(tmp_path)
    try:
        pipeline_id = api(first).do("POST", "/api/2.0/pipelines", body={"name": "p", "libraries": []})[
            "pipeline_id"
        ]
    finally:
        first.stop()
    # Two ended updates with an event each, one started longer ago than a workspace keeps a run.
    store = Store(tmp_path / "standin" / "history.sqlite")
    [record] = store.load("pipeline")
    long_ago = int((time.time() - (RETENTION_DAYS + 1) * 86_400) * 1000)
    updates = [
        {
            "update_id": update_id, "pipeline_id": pipeline_id, "state": "COMPLETED", "cause": "API_CALL",
            "creation_time": created, "full_refresh": False, "refresh_selection": [], "full_refresh_selection": [],
        }
        for update_id, created in (("u-old", long_ago), ("u-new", int(time.time() * 1000)))
    ]  # fmt: skip
    store.put("pipeline", pipeline_id, {**record, "updates": updates})
    for number, update in enumerate(updates, start=1):
        event = {
            "id": f"e-{number}", "event_type": "update_progress", "level": "INFO", "message": update["update_id"],
            "timestamp": "2026-01-01T00:00:00.000Z", "details": {},
            "origin": {"pipeline_id": pipeline_id, "update_id": update["update_id"]},
        }  # fmt: skip
        store.put("pipeline_event", event["id"], event, parent=pipeline_id)
    store.close()

    second = start(tmp_path)
    try:
        client = api(second)
        listed = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates")["updates"]
        events = client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events")["events"]
        with pytest.raises(ResourceDoesNotExist, match="u-old"):
            client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/updates/u-old")
    finally:
        second.stop()

    assert [u["update_id"] for u in listed] == ["u-new"]
    assert [e["message"] for e in events] == ["u-new"]
    store = Store(tmp_path / "standin" / "history.sqlite")
    try:  # gone from the file too, not only from the API
        assert [e["message"] for e in store.load("pipeline_event")] == ["u-new"]
    finally:
        store.close()
