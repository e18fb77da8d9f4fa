"""Continuous work in production, which Databricks runs and Dagster only observes (docs/operations.md).

A continuous job: a sensor reads its state and alerts when it stopped or its stream monitor alerts.
A continuous pipeline: a sensor reports each table its flows wrote since the last tick as a
materialization (so what depends on it runs), and alerts when no update is running.
"""

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from lakehouse_resources.alerts import RunFailureAlert, notifier_from_settings
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.platform.specs import LoadedSpec, PipelineSpec
from lakehouse_resources.platform.targets import BundleTarget
from lakehouse_resources.settings import Environment, LakehouseSettings

from lakehouse_domains.defs.assets import asset_key

ALERT_TAG = "STREAM_MONITOR_ALERT"


def stream_problem(active_runs: int, last_state: str | None, alert_lines: Sequence[str]) -> str | None:
    """Why a continuous job needs a human, or None: no active run, or the monitor raised alerts."""
    if active_runs == 0:
        return f"no active run (the last run ended {last_state or 'never started'})"
    if alert_lines:
        return f"{len(alert_lines)} {ALERT_TAG} line(s), the last: {alert_lines[-1]}"
    return None


def new_alerts(cursor: str | None, run_id: int, alert_lines: Sequence[str]) -> tuple[list[str], str]:
    """The alert lines of `run_id` not seen before, and the cursor to keep: alerts seen per run id,
    so a new run's alerts are never hidden by an older run's count, and each is seen once."""
    seen: dict[str, int] = json.loads(cursor) if cursor and cursor.startswith("{") else {}
    new = list(alert_lines[seen.get(str(run_id), 0) :])
    return new, json.dumps({str(run_id): len(alert_lines)})


def _on_in_production(settings: LakehouseSettings) -> dg.DefaultSensorStatus:
    """Continuous work runs only in production; elsewhere Dagster runs it (a pipeline) or a person
    starts it (the stream job), and the sensor is turned on by hand."""
    return (
        dg.DefaultSensorStatus.RUNNING if settings.env is Environment.PROD else dg.DefaultSensorStatus.STOPPED
    )


def stream_state_sensor(
    spec: LoadedSpec, target: BundleTarget, settings: LakehouseSettings
) -> dg.SensorDefinition:
    name = spec.name.deployed(target.name)
    notifier = notifier_from_settings(settings)

    @dg.sensor(
        name=f"{spec.key}_stream_state",
        minimum_interval_seconds=300,
        default_status=_on_in_production(settings),
        description=f"Alerts when the continuous Databricks job {name} stops or its stream monitor alerts.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, databricks_workspace: LakehouseDatabricksClient
    ) -> dg.SkipReason:
        from lakehouse_resources.databricks.deployed import find_job, workspace_name

        client = databricks_workspace.workspace_client()
        job = find_job(client, workspace_name(client, target, name), target.name)
        # Only active runs, with their tasks (a task's run id is where its output is read).
        active = list(
            itertools.islice(
                client.jobs.list_runs(job_id=job.job_id, active_only=True, expand_tasks=True, limit=5), 5
            )
        )
        last = active[0] if active else next(iter(client.jobs.list_runs(job_id=job.job_id, limit=1)), None)
        last_state = (
            last.state.result_state.value if last and last.state and last.state.result_state else None
        )
        alerts: list[str] = []
        if active and active[0].tasks:
            logs = client.jobs.get_run_output(active[0].tasks[0].run_id or 0).logs or ""
            lines = [line for line in logs.splitlines() if line.startswith(ALERT_TAG)]
            alerts, cursor = new_alerts(context.cursor, active[0].run_id or 0, lines)
            context.update_cursor(cursor)
        problem = stream_problem(len(active), last_state, alerts)
        if problem is None:
            return dg.SkipReason(f"{name}: running, no new alert")
        run = active[0] if active else last
        notifier.notify(
            RunFailureAlert(
                location="domains",
                job_name=name,
                run_id=str(run.run_id if run else "-"),
                assets=(),
                error=problem,
                run_url=(run.run_page_url if run else None) or "",
            )
        )
        return dg.SkipReason(f"{name}: alerted - {problem}")

    return _sensor


def rows_written(
    events: Sequence[Mapping[str, Any]], tables: Mapping[str, dg.AssetKey]
) -> dict[dg.AssetKey, tuple[int, str]]:
    """Per table of `tables` (full name -> key) its flows reported in `events`: the rows written,
    summed (a continuous flow reports each batch's rows), and the last update that wrote them."""
    from lakehouse_resources.databricks.deployed import flow_progress

    written: dict[dg.AssetKey, tuple[int, str]] = {}
    for name, origin, progress in flow_progress(events):
        rows = (progress.get("metrics") or {}).get("num_output_rows")
        key = tables.get(name)
        if key is None or rows is None:
            continue
        total, _ = written.get(key, (0, ""))
        written[key] = (total + int(rows), str(origin.get("update_id") or ""))
    return written


def pipeline_state_sensor(
    spec: LoadedSpec, target: BundleTarget, settings: LakehouseSettings
) -> dg.SensorDefinition:
    body = spec.spec
    assert isinstance(body, PipelineSpec)
    name = spec.name.deployed(target.name)
    notifier = notifier_from_settings(settings)
    names = {
        str(target.namespace.resolve(spec.table_name(d), target.name)): asset_key(spec.table_name(d))
        for d in body.datasets
    }

    @dg.sensor(
        name=f"{spec.key}_pipeline_state",
        minimum_interval_seconds=300,
        default_status=_on_in_production(settings),
        description=(
            f"Reports the tables the continuous Databricks pipeline {name} wrote since the last tick,"
            " and alerts when no update is running."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, databricks_workspace: LakehouseDatabricksClient
    ) -> dg.SensorResult:
        from lakehouse_resources.databricks.deployed import (
            UPDATE_ENDED,
            dataset_identity,
            events_since,
            find_pipeline,
            pipeline_url,
            workspace_name,
        )

        tables = {dataset_identity(table): key for table, key in names.items()}

        client = databricks_workspace.workspace_client()
        pipeline_id = find_pipeline(client, workspace_name(client, target, name), target.name)
        # The cursor is the last event seen: each write is reported once, however often the sensor runs.
        events = events_since(client, pipeline_id, context.cursor or None)
        host = client.config.host or ""
        materializations = [
            dg.AssetMaterialization(
                asset_key=key,
                description=f"Written by the continuous pipeline {name}",
                metadata={
                    "rows_written_since_last_tick": dg.MetadataValue.int(rows),
                    "databricks_update_id": update_id,
                    "databricks_pipeline_url": dg.MetadataValue.url(
                        pipeline_url(host, pipeline_id, update_id)
                    ),
                },
            )
            for key, (rows, update_id) in rows_written(events, tables).items()
        ]
        latest = (client.pipelines.get(pipeline_id).latest_updates or [None])[0]
        state = latest.state.value if latest and latest.state else None
        summary = f"{name}: {len(materializations)} table(s) written since the last tick"
        if state is None or state in UPDATE_ENDED:
            problem = f"no update running (the last update {'ended ' + state if state else 'never started'})"
            notifier.notify(
                RunFailureAlert(
                    location="domains",
                    job_name=name,
                    run_id=(latest.update_id if latest else None) or "-",
                    assets=tuple(key.to_user_string() for key in tables.values()),
                    error=problem,
                    run_url=pipeline_url(host, pipeline_id, latest.update_id or "") if latest else "",
                )
            )
            summary += f"; alerted - {problem}"
        return dg.SensorResult(
            asset_events=materializations,
            cursor=str(events[-1].get("id")) if events else context.cursor,
            skip_reason=None if materializations else summary,
        )

    return _sensor
