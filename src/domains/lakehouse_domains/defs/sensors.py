"""A continuous job in production: a sensor reads its state and alerts when it stopped or struggles."""

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
        runs = list(client.jobs.list_runs(job_id=job.job_id, limit=5))
        active = [r for r in runs if r.end_time in (None, 0)]
        last = runs[0] if runs else None
        last_state = (
            last.state.result_state.value if last and last.state and last.state.result_state else None
        )
        alerts: list[str] = []
        seen = int(context.cursor or 0)
        if active and active[0].tasks:
            logs = client.jobs.get_run_output(active[0].tasks[0].run_id or 0).logs or ""
            alerts = [line for line in logs.splitlines() if line.startswith(ALERT_TAG)]
            context.update_cursor(str(len(alerts)))
            alerts = alerts[seen:]
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
