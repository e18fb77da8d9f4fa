"""The page a run's `run_page_url` opens: `<host>/#job/runs/<id>` for a one-time run and
`<host>/#job/<job>/run/<id>` for a deployed job's run (or task run), as a workspace gives them.

A browser never sends the `#fragment`, so `/` serves a small page whose script follows the fragment
to `/standin/runs/<id>`, a plain page with the run's state, output, error and stdout. Without a
fragment, `/` lists the runs. Pages are read-only and need no token (a workspace's UI uses a login,
not the API token); the API itself stays behind the token.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from lakehouse_standins.databricks.deployed_jobs import DeployedJobs, JobRun, TaskRun
from lakehouse_standins.databricks.jobs import Jobs
from lakehouse_standins.databricks.runs import Run

_FOLLOW_FRAGMENT = """<script>
const match = /^#job\\/(?:runs|\\d+\\/run)\\/(\\d+)/.exec(window.location.hash);
if (match) window.location.replace("/standin/runs/" + match[1]);
</script>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    style = "body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em;overflow:auto}"
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{body}</body></html>",
        status_code=status,
    )


def _section(heading: str, text: Any) -> str:
    if text in (None, ""):
        return ""
    shown = text if isinstance(text, str) else json.dumps(text, indent=2)
    return f"<h2>{heading}</h2><pre>{html.escape(shown)}</pre>"


def _state(run: Run | JobRun | TaskRun) -> str:
    return f"{run.life_cycle_state} {run.result_state or ''}".strip()


def _output_sections(output: dict) -> str:
    """What runs/get-output answers for a task: its result, error, trace and stdout."""
    return (
        _section("Result", (output.get("notebook_output") or {}).get("result"))
        + _section("Error", output.get("error"))
        + _section("Error trace", output.get("error_trace"))
        + _section("Output (stdout)", output.get("logs"))
    )


def render_run(run: Run) -> HTMLResponse:
    output = run.output
    body = (
        f"<h1>Run {run.run_id}: {html.escape(run.run_name)}</h1>"
        f"<p>State: <b>{html.escape(_state(run))}</b> {html.escape(run.state_message)}</p>"
        + _output_sections(output)
        + _section("Tasks", [{k: v for k, v in task.items() if k != "notebook_task"} for task in run.tasks])
        + "<p><a href='/'>All runs</a></p>"
    )
    return _page(f"Run {run.run_id}", body)


def _render_job_run(job_run: JobRun) -> HTMLResponse:
    tasks = "".join(
        f"<li><a href='/standin/runs/{task.run_id}'>{html.escape(task.key)}</a>:"
        f" {html.escape(_state(task))} {html.escape(task.state_message)}</li>"
        for task in job_run.tasks
    )
    body = (
        f"<h1>Run {job_run.run_id} of job {job_run.job_id}: {html.escape(job_run.run_name)}</h1>"
        f"<p>State: <b>{html.escape(_state(job_run))}</b>"
        f" {html.escape(job_run.state_message)}</p><h2>Tasks</h2><ul>{tasks}</ul><p><a href='/'>All runs</a></p>"
    )
    return _page(f"Run {job_run.run_id}", body)


def _render_task_run(job_run: JobRun, task: TaskRun) -> HTMLResponse:
    output = task.outcome.output() if task.outcome else {}
    body = (
        f"<h1>Task {html.escape(task.key)} of run <a href='/standin/runs/{job_run.run_id}'>{job_run.run_id}</a></h1>"
        f"<p>State: <b>{html.escape(_state(task))}</b>"
        f" {html.escape(task.state_message)}</p>" + _output_sections(output)
    )
    return _page(f"Task run {task.run_id}", body)


def routes(jobs: Jobs, deployed: DeployedJobs | None = None) -> list[Route]:
    async def home(request: Request) -> HTMLResponse:
        rows = "".join(
            f"<li><a href='/standin/runs/{run.run_id}'>{run.run_id}</a> {html.escape(run.run_name)}:"
            f" {html.escape(_state(run))}</li>"
            for run in sorted(jobs.runs.values(), key=lambda r: r.run_id, reverse=True)
        )
        return _page("Databricks stand-in", f"{_FOLLOW_FRAGMENT}<h1>Runs</h1><ul>{rows}</ul>")

    async def run_page(request: Request) -> HTMLResponse:
        run_id = request.path_params["run_id"]
        if run := jobs.runs.get(run_id):
            return render_run(run)
        if deployed and (job_run := deployed.runs.get(run_id)):
            return _render_job_run(job_run)
        if deployed and (found := deployed.task_runs.get(run_id)):
            return _render_task_run(*found)
        return _page("Run not found", "<h1>Run not found</h1>", status=404)

    return [Route("/", home), Route("/standin/runs/{run_id:int}", run_page)]
