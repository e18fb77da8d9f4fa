"""Run what the bundle deployed: a job (run-now, with the Pipes bootstrap) or a pipeline update.

Both are found by their deployed name when they run, never when Definitions load. A name that is not
deployed fails with the command that deploys it. Pipeline events are read raw: the SDK's
`PipelineEvent` has no `details`, where `flow_progress` carries rows and expectation counts.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.pipes.client import PipesClientCompletedInvocation
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from lakehouse_resources.databricks.run_follower import (
    DatabricksRunError,
    RunFollower,
    ended,
    read_retrying,
)
from lakehouse_resources.databricks.volumes import VolumesContextInjector, VolumesMessageReader
from lakehouse_resources.platform.targets import BundleTarget, short_user_name

UPDATE_ENDED = ("COMPLETED", "FAILED", "CANCELED")


class NotDeployedError(DatabricksRunError):
    """The job or pipeline has no deployment under its policy name in this workspace."""


def deploy_hint(target: str) -> str:
    if target == "local":
        return "`uv run lakehouse bundle deploy --target local` (task dev and task pipeline deploy it too)"
    return f"`databricks bundle deploy -t {target}` in databricks/"


def workspace_name(client: WorkspaceClient, target: BundleTarget, deployed: str) -> str:
    """A deployed name as the workspace shows it: `mode: development` (dev) puts each developer's
    copy under `[dev <short user name>] `, as the Databricks CLI does (asked at run time, never at load)."""
    prefix = target.presets.get("name_prefix")
    if prefix is None and target.mode == "development":
        prefix = f"[dev {short_user_name(client.current_user.me().user_name or '')}] "
    return f"{prefix or ''}{deployed}"


def find_job(client: WorkspaceClient, name: str, target: str) -> jobs.BaseJob:
    found = list(client.jobs.list(name=name, expand_tasks=True))
    if not found:
        raise NotDeployedError(
            f"Databricks job {name} is not deployed to {client.config.host}: deploy it with {deploy_hint(target)}"
        )
    if len(found) > 1:
        ids = ", ".join(str(job.job_id) for job in found)
        raise DatabricksRunError(
            f"Databricks job name {name} is used by {len(found)} jobs ({ids}); expected one"
        )
    return found[0]


def find_pipeline(client: WorkspaceClient, name: str, target: str) -> str:
    quoted = name.replace("'", "''")
    found = [p for p in client.pipelines.list_pipelines(filter=f"name LIKE '{quoted}'") if p.name == name]
    if not found:
        raise NotDeployedError(
            f"Databricks pipeline {name} is not deployed to {client.config.host}: deploy it with {deploy_hint(target)}"
        )
    return found[0].pipeline_id or ""


# ---- pipelines -------------------------------------------------------------------------------


@dataclass
class FlowResult:
    """One dataset's outcome in an update, from its flow_progress events."""

    table: str
    num_output_rows: int | None = None
    dropped_records: int = 0
    expectations: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (passed, failed)


def _event_pages(
    client: WorkspaceClient, pipeline_id: str, order: str, page_size: int
) -> Iterator[list[dict[str, Any]]]:
    """A pipeline's events page by page in `order` ("asc" or "desc" by timestamp). The next pages are
    asked with the page token alone (and max_results): the API refuses a token beside order_by or filter."""
    page: str | None = None
    while True:
        query: dict[str, Any] = {"max_results": page_size}
        query.update({"page_token": page} if page else {"order_by": f"timestamp {order}"})
        body = client.api_client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events", query=query)
        assert isinstance(body, dict)
        yield body.get("events") or []
        page = body.get("next_page_token")
        if not page:
            return


def pipeline_events(
    client: WorkspaceClient, pipeline_id: str, page_size: int = 250
) -> Iterator[dict[str, Any]]:
    """A pipeline's events, oldest first."""
    for events in _event_pages(client, pipeline_id, "asc", page_size):
        yield from events


def events_since(
    client: WorkspaceClient,
    pipeline_id: str,
    last_seen: str | None,
    *,
    page_size: int = 250,
    max_pages: int = 8,
) -> list[dict[str, Any]]:
    """The events after the one with id `last_seen`, oldest first, read newest first so a long-running
    pipeline's log is not read from its start at every call. Without `last_seen`, or when that event
    is no longer in the log, at most `max_pages` pages of the newest events."""
    newest: list[dict[str, Any]] = []
    for events in itertools.islice(_event_pages(client, pipeline_id, "desc", page_size), max_pages):
        for event in events:
            if last_seen is not None and event.get("id") == last_seen:
                return newest[::-1]
            newest.append(event)
    return newest[::-1]


def dataset_identity(name: str) -> str:
    """A dataset's full name as events and specs may write it: `catalog.schema.table`, no quotes, lower case."""
    return name.replace("`", "").lower()


def flow_progress(
    events: Iterable[Mapping[str, Any]],
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(dataset's full name, origin, flow_progress) of each event reporting a named dataset's progress:
    a flow's own name (which a second pipeline, or another flow into the same table, could also use)
    never stands for a dataset."""
    for event in events:
        origin = event.get("origin") or {}
        progress = (event.get("details") or {}).get("flow_progress") or {}
        name = origin.get("dataset_name")
        if name and progress:
            yield dataset_identity(str(name)), origin, progress


def flow_results(events: list[dict[str, Any]], update_id: str) -> dict[str, FlowResult]:
    """Rows and expectation counts per dataset of one update, keyed by the dataset's full name.

    Only events of that update that name their dataset count (`flow_progress`), and the counts of
    every flow into one dataset add up."""
    results: dict[str, FlowResult] = {}
    for name, origin, progress in flow_progress(events):
        if origin.get("update_id") != update_id:
            continue
        result = results.setdefault(name, FlowResult(name))
        rows = (progress.get("metrics") or {}).get("num_output_rows")
        if rows is not None:
            result.num_output_rows = int(rows)
        quality = progress.get("data_quality") or {}
        result.dropped_records += int(quality.get("dropped_records") or 0)
        for rule in quality.get("expectations") or []:
            passed, failed = result.expectations.get(rule["name"], (0, 0))
            result.expectations[rule["name"]] = (
                passed + int(rule.get("passed_records") or 0),
                failed + int(rule.get("failed_records") or 0),
            )
    return results


def run_pipeline_update(
    client: WorkspaceClient,
    pipeline_id: str,
    *,
    log: Callable[[str], None],
    full_refresh: bool = False,
    poll_interval_seconds: float = 1.0,
    timeout_seconds: float = 3600,
) -> tuple[str, str]:
    """Start an update, follow it to its end (stopping it on interrupt or timeout); (update_id, state)."""
    update_id = (
        client.pipelines.start_update(pipeline_id, full_refresh=full_refresh, cause=None).update_id or ""
    )
    deadline = time.monotonic() + timeout_seconds
    seen = None
    try:
        while True:
            info = read_retrying(
                f"pipeline update {update_id}",
                lambda: client.pipelines.get_update(pipeline_id, update_id),
                deadline,
                log,
                poll_interval_seconds,
            ).update
            state = info.state.value if info and info.state else "UNKNOWN"
            if state != seen:
                log(f"Pipeline {pipeline_id} update {update_id} is {state}")
                seen = state
            if state in UPDATE_ENDED:
                return update_id, state
            if time.monotonic() > deadline:
                raise DatabricksRunError(
                    f"Pipeline update {update_id} did not finish within {timeout_seconds:g} s"
                )
            time.sleep(poll_interval_seconds)
    except BaseException:
        client.pipelines.stop(pipeline_id)
        raise


def update_error(events: list[dict[str, Any]], update_id: str) -> str:
    errors = [
        str(e.get("message") or "")
        for e in events
        if e.get("level") == "ERROR" and (e.get("origin") or {}).get("update_id") == update_id
    ]
    return errors[-1] if errors else "no error event"


def pipeline_url(host: str, pipeline_id: str, update_id: str) -> str:
    return f"{host.rstrip('/')}/#joblist/pipelines/{pipeline_id}/updates/{update_id}"


# ---- jobs ------------------------------------------------------------------------------------


def _with_pipes(task: jobs.Task, cli_args: Mapping[str, str]) -> list[str]:
    params = list(task.spark_python_task.parameters or []) if task.spark_python_task else []
    flags = set(cli_args)
    kept = [p for p in params if p.split("=", 1)[0] not in flags]
    return [*kept, *(item for pair in cli_args.items() for item in pair)]


def run_job_with_pipes(
    context: dg.AssetExecutionContext,
    client: WorkspaceClient,
    job: jobs.BaseJob,
    *,
    volume_path: str,
    poll_interval_seconds: float = 1.0,
    message_interval_seconds: float = 1.0,
    message_grace_seconds: float = 5.0,
    timeout_seconds: float = 3600,
    python_params: Mapping[str, str] | None = None,
) -> tuple[PipesClientCompletedInvocation, jobs.Run]:
    """run-now of a deployed job with the Pipes context and message paths added to its parameters.

    Python tasks get them as `--dagster-pipes-*` arguments after their own parameters (run-now's
    `python_params` replace a task's list, so the deployed list is sent back with them); notebook tasks
    as widgets. `python_params` overrides single `--name=value` parameters for this run only.
    """
    label = context.run.run_id.split("-")[0]
    injector = VolumesContextInjector(client=client, volume_path=volume_path, label=label)
    reader = VolumesMessageReader(
        client=client,
        volume_path=volume_path,
        label=label,
        interval=message_interval_seconds,
        grace_seconds=message_grace_seconds,
    )
    settings = job.settings or jobs.JobSettings()
    tasks = settings.tasks or []
    run: jobs.Run | None = None
    with dg.open_pipes_session(context=context, context_injector=injector, message_reader=reader) as session:
        cli_args = session.get_bootstrap_cli_arguments()
        pythons = [t for t in tasks if t.spark_python_task]
        python = pythons[0] if len(pythons) == 1 else None
        body: dict[str, Any] = {"job_id": job.job_id, "idempotency_token": uuid.uuid4().hex}
        if len(pythons) > 1:
            # run-now's python_params replace every Python task's parameters with one list.
            context.log.warning(
                f"Databricks job {settings.name} has {len(pythons)} Python tasks: their parameters are"
                " kept and Pipes reaches none of them (only the run link is reported)"
            )
        if python is not None:
            params = _with_pipes(python, cli_args)
            for name, value in (python_params or {}).items():
                params = [p for p in params if p.split("=", 1)[0] != name] + [f"{name}={value}"]
            body["python_params"] = params
        if any(t.notebook_task for t in tasks):
            body["notebook_params"] = dict(session.get_bootstrap_env_vars())
        follower = RunFollower(client, context.log, poll_interval_seconds, kind="Databricks job run")
        run_id, run = follower.start_and_wait(
            f"run job {settings.name}", lambda: _run_now(client, body), timeout_seconds, reader.abandon
        )
        state = run.state or jobs.RunState()
        if state.result_state is not jobs.RunResultState.SUCCESS:
            reader.abandon()
            raise DatabricksRunError(
                f"Databricks job {settings.name} run {run_id} ended {ended(state)}:"
                f" {state.state_message or 'no message'} (run page: {run.run_page_url})"
            )
    metadata: dict[str, Any] = {"databricks_job_id": dg.MetadataValue.int(job.job_id or 0)}
    if run.run_id:
        metadata["databricks_run_id"] = dg.MetadataValue.int(run.run_id)
    if run.run_page_url:
        metadata["databricks_run_url"] = dg.MetadataValue.url(run.run_page_url)
    return PipesClientCompletedInvocation(session, metadata=metadata), run


def _run_now(client: WorkspaceClient, body: dict[str, Any]) -> int:
    answer = client.api_client.do("POST", "/api/2.2/jobs/run-now", body=body)
    assert isinstance(answer, dict)
    return int(answer["run_id"])
