"""The run-failure sensor: one notification per failed run, with its assets, error and link."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import dagster as dg
import pytest
from lakehouse_resources.alerts import (
    LogNotifier,
    RunFailureAlert,
    WebhookNotifier,
    build_run_failure_sensor,
    notifier_from_settings,
)
from lakehouse_resources.settings import get_settings

UI = "http://127.0.0.1:3999"
BROKEN = dg.AssetKey(["analytics", "broken"])


@dg.asset(key=BROKEN)
def broken() -> None:
    raise ValueError("the warehouse table is gone")


class Recorder:
    def __init__(self) -> None:
        self.alerts: list[RunFailureAlert] = []

    def notify(self, alert: RunFailureAlert) -> None:
        self.alerts.append(alert)


def run_sensor_twice_around_a_failed_run(sensor: dg.SensorDefinition) -> str:
    """Start the sensor, fail a run, then evaluate twice, each time from the previous cursor."""
    instance = dg.DagsterInstance.ephemeral()
    cursor = sensor.evaluate_tick(dg.build_sensor_context(instance=instance)).cursor
    result = dg.materialize([broken], instance=instance, raise_on_error=False)
    assert not result.success
    for _ in range(2):
        cursor = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor)).cursor
    return result.run_id


def test_a_failed_run_is_reported_once_with_its_asset_error_and_link() -> None:
    recorder = Recorder()
    run_id = run_sensor_twice_around_a_failed_run(build_run_failure_sensor("downstream", recorder, UI))
    assert len(recorder.alerts) == 1
    alert = recorder.alerts[0]
    assert alert.run_id == run_id
    assert alert.assets == ("analytics/broken",)
    assert "the warehouse table is gone" in alert.error
    assert alert.run_url == f"{UI}/runs/{run_id}"
    assert alert.location == "downstream"


class Webhook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Webhook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/lakehouse"
    finally:
        server.shutdown()
        server.server_close()


def test_with_a_webhook_configured_the_failure_is_posted_once(
    clean_env: pytest.MonkeyPatch, webhook: str
) -> None:
    clean_env.setenv("LAKEHOUSE_ALERT_WEBHOOK_URL", webhook)
    notifier = notifier_from_settings(get_settings())
    assert isinstance(notifier, WebhookNotifier)
    run_id = run_sensor_twice_around_a_failed_run(build_run_failure_sensor("transformation", notifier, UI))
    assert len(Webhook.received) == 1
    body = Webhook.received[0]
    assert body["run_url"] == f"{UI}/runs/{run_id}"
    assert body["assets"] == ["analytics/broken"]
    assert "the warehouse table is gone" in body["text"]


def test_without_a_webhook_the_failure_is_a_log_line(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = notifier_from_settings(get_settings())
    assert isinstance(notifier, LogNotifier)
    with caplog.at_level("ERROR", logger="lakehouse.alerts"):
        run_id = run_sensor_twice_around_a_failed_run(build_run_failure_sensor("ingestion", notifier, UI))
    lines = [record.getMessage() for record in caplog.records if record.name == "lakehouse.alerts"]
    assert len(lines) == 1
    assert f"{UI}/runs/{run_id}" in lines[0]
    assert "analytics/broken" in lines[0]
