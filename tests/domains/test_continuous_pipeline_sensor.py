"""The continuous pipeline in production: Databricks runs it, and a sensor reports what its flows
wrote, each write once, and alerts when no update runs (docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from lakehouse_domains.defs.assets import asset_key
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_domains.defs.sensors import rows_written
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import bundle_for
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.store import Store
from testsupport import NO_SPARK, REPO

KEY = "template_domain_template_source_staging_basic_continuous"
SENSOR = f"{KEY}_pipeline_state"
SPECS = load_specs(bundle_for(REPO).root)
LOCAL = bundle_for(REPO).target("local")
[CONTINUOUS] = [spec for spec in SPECS.pipelines if spec.key == KEY]
TABLES = {
    str(LOCAL.namespace.resolve(CONTINUOUS.table_name(d), "local")): asset_key(CONTINUOUS.table_name(d))
    for d in CONTINUOUS.spec.datasets
}


def progress(number: int, table: str, update_id: str, rows: int | None) -> dict[str, Any]:
    metrics = {} if rows is None else {"num_output_rows": rows}
    return {
        "id": f"e-{number:04d}", "event_type": "flow_progress", "level": "INFO", "message": "",
        "timestamp": f"2026-12-07T00:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
        "origin": {"pipeline_id": "p", "update_id": update_id, "dataset_name": table, "flow_name": table},
        "details": {"flow_progress": {"status": "RUNNING", "metrics": metrics}},
    }  # fmt: skip


def test_rows_are_summed_per_table_and_only_the_pipelines_own_tables_count() -> None:
    table, key = next(iter(TABLES.items()))
    events = [
        progress(1, table, "u-1", 10),
        progress(2, table, "u-1", None),
        progress(3, table.upper(), "u-2", 5),  # events may spell the name in other case
        progress(4, "other_catalog.s.t", "u-2", 99),
    ]
    from lakehouse_resources.databricks.deployed import dataset_identity

    written = rows_written(events, {dataset_identity(name): key for name, key in TABLES.items()})
    assert written == {key: (15, "u-2")}


def test_the_sensor_reports_each_write_once_and_alerts_when_no_update_runs(
    local_settings: LakehouseSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def standin() -> DatabricksStandin:
        return DatabricksStandin(
            tmp_path / "standin",
            tmp_path / "absent.duckdb",
            port=local_settings.databricks_standin_port,
            token=local_settings.standin_token,
            spark_remote=NO_SPARK,
        )

    client = databricks_client_from_settings(local_settings)
    with standin():
        created = client.workspace_client().api_client.do(
            "POST", "/api/2.0/pipelines", body={"name": f"{KEY}_local", "libraries": []}
        )
        assert isinstance(created, dict)
        pipeline_id = created["pipeline_id"]
    # What a continuous update leaves in the log: progress of both tables among many other events
    # (more than a page), the last update ended.
    store = Store(tmp_path / "standin" / "history.sqlite")
    [record] = store.load("pipeline")
    update = {
        "update_id": "u-1", "pipeline_id": pipeline_id, "state": "COMPLETED", "cause": "API_CALL",
        "creation_time": int(time.time() * 1000), "full_refresh": False, "refresh_selection": [], "full_refresh_selection": [],
    }  # fmt: skip
    store.put("pipeline", pipeline_id, {**record, "updates": [update]})
    (raw, raw_key), (counts, counts_key) = TABLES.items()
    events = [progress(1, raw, "u-1", 7), progress(2, counts, "u-1", 3)]
    events += [{**progress(n, raw, "u-1", None), "event_type": "cluster_resources"} for n in range(3, 400)]
    events += [progress(400, raw, "u-1", 2)]
    for event in events:
        event["origin"]["pipeline_id"] = pipeline_id
        store.put("pipeline_event", event["id"], event, parent=pipeline_id)
    store.close()

    sensor = build_domains_defs(local_settings).resolve_sensor_def(SENSOR)
    # Off outside production, where Dagster runs the pipeline itself.
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    with standin(), dg.build_sensor_context(resources={"databricks_workspace": client}) as context:
        first = sensor(context)
        assert isinstance(first, dg.SensorResult)
        context.update_cursor(first.cursor)
        second = sensor(context)

    reported = {
        event.asset_key: event.metadata["rows_written_since_last_tick"].value
        for event in first.asset_events
        if isinstance(event, dg.AssetMaterialization)
    }
    assert reported == {raw_key: 9, counts_key: 3}
    assert first.cursor == "e-0400"
    # Nothing new since: nothing reported twice, and the alert names the pipeline and its state.
    assert isinstance(second, dg.SensorResult)
    assert not second.asset_events
    assert "no update running (the last update ended COMPLETED)" in str(second.skip_reason)
    assert f"{KEY}_local" in caplog.text
