"""Run-failure notifications: a log line locally, a webhook POST where one is configured.

`notifier_from_settings` decides which; `build_run_failure_sensor` turns a location's failed runs
into one notification each, with the run's assets, its error and a link to the run in the UI.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

import dagster as dg

from lakehouse_resources.settings import LakehouseSettings

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

logger = logging.getLogger("lakehouse.alerts")

WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RunFailureAlert:
    location: str
    job_name: str
    run_id: str
    assets: tuple[str, ...]
    error: str
    run_url: str

    def text(self) -> str:
        assets = ", ".join(self.assets) or "no assets"
        return f"Run {self.run_id} of {self.job_name} ({self.location}) failed [{assets}]: {self.error} {self.run_url}"


class Notifier(Protocol):
    def notify(self, alert: RunFailureAlert) -> None: ...


@dataclass(frozen=True)
class LogNotifier:
    def notify(self, alert: RunFailureAlert) -> None:
        logger.error(alert.text())


@dataclass(frozen=True)
class WebhookNotifier:
    url: str
    timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS

    def notify(self, alert: RunFailureAlert) -> None:
        # `text` suits Slack/Teams-style incoming webhooks; the fields suit everything else.
        body = json.dumps({"text": alert.text(), **asdict(alert)}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        # A failed POST raises, so the sensor tick shows the error instead of losing it silently.
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            response.read()


def notifier_from_settings(settings: LakehouseSettings) -> Notifier:
    if settings.alert_webhook_url:
        return WebhookNotifier(url=settings.alert_webhook_url)
    return LogNotifier()


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def failure_message(failure: dg.DagsterEvent, step_failures: Sequence[dg.DagsterEvent]) -> str:
    """The steps' errors where there are any, else the run's own (e.g. a launch failure)."""
    errors = []
    for event in step_failures:
        error = event.step_failure_data.error
        errors.append(f"{event.step_key}: {root_cause(error) if error else event.message}")
    if errors:
        return "; ".join(errors)
    data = failure.job_failure_data
    if data is not None and data.error is not None:
        return root_cause(data.error)
    return failure.message or "unknown error"


def root_cause(error: SerializableErrorInfo) -> str:
    # Dagster wraps the asset's own exception ("Error occurred while executing op ..."); the
    # innermost cause is the one that says what went wrong.
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def failed_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[str, ...]:
    """The assets the run planned to materialize (a job over all its assets has no selection)."""
    keys = set(run.asset_selection or ())
    if not keys:
        planned = instance.get_records_for_run(
            run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        keys = {record.asset_key for record in planned if record.asset_key is not None}
    return tuple(sorted(key.to_user_string() for key in keys))


def alert_from_context(context: dg.RunFailureSensorContext, location: str, ui_url: str) -> RunFailureAlert:
    run = context.dagster_run
    return RunFailureAlert(
        location=location,
        job_name=run.job_name,
        run_id=run.run_id,
        assets=failed_assets(context.instance, run),
        error=failure_message(context.failure_event, context.get_step_failure_events()),
        run_url=run_url(ui_url, run.run_id),
    )


def build_run_failure_sensor(location: str, notifier: Notifier, ui_url: str) -> dg.SensorDefinition:
    """`<location>_run_failure_alerts`: one notification per failed run of this location's jobs."""

    @dg.run_failure_sensor(
        name=f"{location}_run_failure_alerts",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Reports each failed run of the {location} location with its assets, error and link.",
    )
    def _alert(context: dg.RunFailureSensorContext) -> None:
        notifier.notify(alert_from_context(context, location, ui_url))

    return _alert
