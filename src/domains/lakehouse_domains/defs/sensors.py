"""A continuous job in production: a sensor reads its state and alerts when it stopped or struggles."""

import itertools
import json
from collections.abc import Sequence

import dagster as dg
from lakehouse_resources.alerts import RunFailureAlert, notifier_from_settings
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.platform.specs import LoadedSpec
from lakehouse_resources.platform.targets import BundleTarget
from lakehouse_resources.settings import Environment, LakehouseSettings

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


def stream_state_sensor(
    spec: LoadedSpec, target: BundleTarget, settings: LakehouseSettings
) -> dg.SensorDefinition:
    name = spec.name.deployed(target.name)
    notifier = notifier_from_settings(settings)

    @dg.sensor(
        name=f"{spec.key}_stream_state",
        minimum_interval_seconds=300,
        # Running in production, where the job runs continuously; elsewhere turn it on by hand.
        default_status=dg.DefaultSensorStatus.RUNNING
        if settings.env is Environment.PROD
        else dg.DefaultSensorStatus.STOPPED,
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
