"""Deployed medallion pipelines on the Databricks stand-in report the library's own counts.

What a workspace's event log gives an orchestrator (`flow_progress.data_quality`), the stand-in
gives from what `data_ops` counted: dropped rows included, which the output table alone cannot say.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from lakehouse_cli.bundle import build_resources, upload_sample_feeds
from lakehouse_cli.bundle_deploy import deploy
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.databricks.workspace import USER_NAME
from lakehouse_standins.local import bundle_volumes
from testsupport import REPO

BUNDLE = REPO / "databricks"
TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}


@pytest.fixture
def sdk(tmp_path: Path, spark_remote: str, local_settings: LakehouseSettings) -> Iterator[WorkspaceClient]:
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(
        tmp_path / "standin",
        warehouse,
        known_volumes=sorted(bundle_volumes(local_settings)),
        spark_remote=spark_remote,
    ) as standin:
        # The pipelines' sources, where a deploy syncs them (`${workspace.file_path}/src`).
        file_path = load_bundle(BUNDLE).target("local").interpolate("${workspace.file_path}", USER_NAME)
        standin.workspace.import_tree(BUNDLE / "src", f"{file_path}/src")
        yield WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))


def pipeline_events(sdk: WorkspaceClient, pipeline_id: str) -> list[dict]:
    events, page = [], None
    while True:
        query = {"max_results": 250, **({"page_token": page} if page else {})}
        body = sdk.api_client.do("GET", f"/api/2.0/pipelines/{pipeline_id}/events", query=query)
        assert isinstance(body, dict)
        events += body.get("events") or []
        page = body.get("next_page_token")
        if not page:
            return events


def update_state(sdk: WorkspaceClient, pipeline_id: str, update_id: str) -> str:
    info = sdk.pipelines.get_update(pipeline_id, update_id).update
    assert info is not None
    assert info.state is not None
    return info.state.value


def update(sdk: WorkspaceClient, name: str) -> tuple[str, list[dict]]:
    [pipeline] = [p for p in sdk.pipelines.list_pipelines() if p.name == name]
    assert pipeline.pipeline_id
    update_id = sdk.pipelines.start_update(pipeline.pipeline_id).update_id
    assert update_id
    while (state := update_state(sdk, pipeline.pipeline_id, update_id)) not in TERMINAL:
        time.sleep(1)
    # The raw events, as an orchestrator reads them: the SDK's event class has no `details`.
    events = pipeline_events(sdk, pipeline.pipeline_id)
    events = [event for event in events if (event.get("origin") or {}).get("update_id") == update_id]
    return state, events


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def spark_client_warnings() -> Iterator[list[str]]:
    """What the Spark Connect client logs at WARNING in this process (the stand-in's own sessions)."""
    handler = _Warnings()
    client_logger = logging.getLogger("pyspark.sql.connect.logging")
    client_logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        client_logger.removeHandler(handler)


def test_silver_update_reports_passed_failed_and_dropped_as_the_library_counted(
    sdk: WorkspaceClient, spark_client_warnings: list[str]
) -> None:
    deploy(sdk, build_resources(BUNDLE, "local", user_name=USER_NAME), bundle="lakehouse", target="local")
    upload_sample_feeds(sdk, BUNDLE, load_bundle(BUNDLE).target("local"))
    state, _ = update(sdk, "member_enrollment_bronze_members_local")
    assert state == "COMPLETED"
    state, events = update(sdk, "member_enrollment_silver_member_profile_local")
    assert state == "COMPLETED"
    # The stand-in counts rows over short sessions it stops at once; results released after the
    # stop used to log "ReleaseExecute failed ... Session was closed" once per query.
    time.sleep(1)  # releases run on the client's thread pool
    assert not [message for message in spark_client_warnings if "ReleaseExecute" in message]
    quality = {
        event["origin"]["flow_name"].rsplit(".", 1)[-1]: event["details"]["flow_progress"]["data_quality"]
        for event in events
        if "data_quality" in event.get("details", {}).get("flow_progress", {})
    }
    demographics = quality["silver_demographics"]
    assert demographics["dropped_records"] == 2
    failed = {rule["name"]: rule["failed_records"] for rule in demographics["expectations"]}
    assert failed == {"member_id_format": 0, "birth_date_in_past": 2, "known_gender": 3}
    assert quality["silver_enrollment"]["dropped_records"] == 2
