"""The pages the stand-in's links open, as a workspace's UI does: `<host>/#job/runs/<id>` (a one-time
run), `<host>/#job/<job>/run/<id>` (a deployed job's run or task run) and
`<host>/#joblist/pipelines/<id>/updates/<update_id>` (a pipeline update, pipeline_page.py).

A browser never sends the `#fragment`, so `/` serves a small page whose script follows the fragment
to `/standin/runs/<id>` or `/standin/pipelines/<id>/updates/<update_id>`: plain pages with the
state, each task's output, error and stdout. Without a fragment, `/` lists the runs and pipelines.
Pages are read-only and need no token (a workspace's UI uses a login, not the API token); the API
itself stays behind the token. Runs and updates outlive a restart (store.py), and so do their pages.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from lakehouse_standins.databricks.deployed_jobs import DeployedJobs
from lakehouse_standins.databricks.job_runs import JobRun, TaskRun
from lakehouse_standins.databricks.jobs import Jobs
from lakehouse_standins.databricks.pipeline_page import render_pipeline, render_update, update_path
from lakehouse_standins.databricks.pipelines import Pipelines
from lakehouse_standins.databricks.run_html import page, section
from lakehouse_standins.databricks.runs import Run
from lakehouse_standins.databricks.tasks import TASK_TYPES

_FOLLOW_FRAGMENT = """<script>
const match = /^#job\\/(?:runs|\\d+\\/run)\\/(\\d+)/.exec(window.location.hash);
if (match) window.location.replace("/standin/runs/" + match[1]);
const update = /^#joblist\\/pipelines\\/([\\w-]+)(\\/updates\\/[\\w-]+)?/.exec(window.location.hash);
if (update) window.location.replace("/standin/pipelines/" + update[1] + (update[2] || ""));
</script>"""
_STDERR_LINES = 200
_PARAMETER_CHARS = 120


def _state(run: Run | JobRun | TaskRun) -> str:
    return f"{run.life_cycle_state} {run.result_state or ''}".strip()


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000)) if ms else "-"


def _header(run: Run | JobRun | TaskRun) -> str:
    took = f", {(run.end_time - run.start_time) / 1000:.1f} s" if run.end_time and run.start_time else ""
    return (
        f"<p>State: <b>{html.escape(_state(run))}</b> {html.escape(run.state_message)}</p>"
        f"<p>Started {_when(run.start_time)}, ended {_when(run.end_time)}{took}</p>"
    )


def _task_table(tasks: list[dict[str, Any]]) -> str:
    """What each task runs, where, with which parameters (long values cut), as a run page lists it."""
    rows = []
    for task in tasks:
        kind = next((k for k in TASK_TYPES if k in task), "")
        spec = task.get(kind) or {}
        what = spec.get("notebook_path") or spec.get("python_file") or spec.get("entry_point") or ""
        params = spec.get("base_parameters") or spec.get("parameters") or {}
        items = params.items() if isinstance(params, dict) else enumerate(params)
        shown = "\n".join(f"{k}: {str(v)[:_PARAMETER_CHARS]}" for k, v in items)
        compute = task.get("existing_cluster_id") or ("new cluster" if task.get("new_cluster") else "")
        compute = compute or (
            f"serverless ({task['environment_key']})" if task.get("environment_key") else ""
        )
        rows.append(
            "<tr>"
            + "".join(f"<td>{html.escape(str(v))}</td>" for v in (task.get("task_key"), kind, what, compute))
            + f"<td><pre>{html.escape(shown)}</pre></td></tr>"
        )
    head = "<tr><th>Task</th><th>Type</th><th>Runs</th><th>Compute</th><th>Parameters</th></tr>"
    return f"<h2>Tasks</h2><table>{head}{''.join(rows)}</table>"


def _output_sections(output: dict[str, Any], stderr: Path | None) -> str:
    """What runs/get-output answers for a task (result, error, trace, stdout), and its stderr."""
    errors = (
        stderr.read_text(errors="replace").splitlines()[-_STDERR_LINES:] if stderr and stderr.exists() else []
    )
    return (
        section("Result", (output.get("notebook_output") or {}).get("result"))
        + section("Error", output.get("error"))
        + section("Error trace", output.get("error_trace"))
        + section("Output (stdout)", output.get("logs"))
        + section("Standard error", "\n".join(errors))
    )


def render_run(run: Run) -> HTMLResponse:
    stderr = run.folder / "task-0-stderr.log" if len(run.tasks) == 1 else None
    body = (
        f"<h1>Run {run.run_id}: {html.escape(run.run_name)}</h1>"
        + _header(run)
        + _task_table(run.tasks)
        + _output_sections(run.output, stderr)
        + "<p><a href='/'>All runs</a></p>"
    )
    return page(f"Run {run.run_id}", body)


def _render_job_run(job_run: JobRun) -> HTMLResponse:
    tasks = "".join(
        f"<li><a href='/standin/runs/{task.run_id}'>{html.escape(task.key)}</a>:"
        f" {html.escape(_state(task))} {html.escape(task.state_message)}</li>"
        for task in job_run.tasks
    )
    body = (
        f"<h1>Run {job_run.run_id} of job {job_run.job_id}: {html.escape(job_run.run_name)}</h1>"
        + _header(job_run)
        + f"<h2>Tasks</h2><ul>{tasks}</ul><p><a href='/'>All runs</a></p>"
    )
    return page(f"Run {job_run.run_id}", body)


def _render_task_run(job_run: JobRun, task: TaskRun) -> HTMLResponse:
    output = task.outcome.output() if task.outcome else {}
    body = (
        f"<h1>Task {html.escape(task.key)} of run <a href='/standin/runs/{job_run.run_id}'>{job_run.run_id}</a></h1>"
        + _header(task)
        + _task_table([task.task])
        + _output_sections(output, job_run.folder / task.key / "stderr.log")
    )
    return page(f"Task run {task.run_id}", body)


def _home(jobs: Jobs, deployed: DeployedJobs | None, pipelines: Pipelines | None) -> HTMLResponse:
    runs: list[Run | JobRun] = [*jobs.runs.values(), *(deployed.runs.values() if deployed else [])]
    rows = "".join(
        f"<li><a href='/standin/runs/{run.run_id}'>{run.run_id}</a> {html.escape(run.run_name)}:"
        f" {html.escape(_state(run))}</li>"
        for run in sorted(runs, key=lambda r: r.start_time, reverse=True)
    )
    updates = "".join(
        f"<li><a href='{update_path(record, update)}'>{html.escape(record.name)}</a>"
        f" {update.update_id}: {html.escape(update.state)}</li>"
        for record in (pipelines.pipelines.values() if pipelines else [])
        for update in reversed(record.updates)
    )
    body = f"{_FOLLOW_FRAGMENT}<h1>Runs</h1><ul>{rows}</ul><h1>Pipeline updates</h1><ul>{updates}</ul>"
    return page("Databricks stand-in", body)


def routes(
    jobs: Jobs, deployed: DeployedJobs | None = None, pipelines: Pipelines | None = None
) -> list[Route]:
    async def home(request: Request) -> HTMLResponse:
        return _home(jobs, deployed, pipelines)

    async def run_page(request: Request) -> HTMLResponse:
        run_id = request.path_params["run_id"]
        if run := jobs.runs.get(run_id):
            return render_run(run)
        if deployed and (job_run := deployed.runs.get(run_id)):
            return _render_job_run(job_run)
        if deployed and (found := deployed.task_runs.get(run_id)):
            return _render_task_run(*found)
        return page("Run not found", "<h1>Run not found</h1>", status=404)

    async def pipeline_page(request: Request) -> HTMLResponse:
        record = pipelines.pipelines.get(request.path_params["pipeline_id"]) if pipelines else None
        if pipelines is None or record is None:
            return page("Pipeline not found", "<h1>Pipeline not found</h1>", status=404)
        update_id = request.path_params.get("update_id")
        if update_id is None:
            return render_pipeline(record)
        update = next((u for u in record.updates if u.update_id == update_id), None)
        if update is None:
            return page("Update not found", "<h1>Update not found</h1>", status=404)
        return render_update(pipelines, record, update)

    return [
        Route("/", home),
        Route("/standin/runs/{run_id:int}", run_page),
        Route("/standin/pipelines/{pipeline_id}", pipeline_page),
        Route("/standin/pipelines/{pipeline_id}/updates/{update_id}", pipeline_page),
    ]
