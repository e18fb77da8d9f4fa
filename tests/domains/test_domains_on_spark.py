"""Materializing the domains location's assets on the stand-in and the local Spark, through Dagster:
the stream join with lowered thresholds alerts and fails its blocking check; a pipeline update
reports rows, the update link and its expectation checks."""

import copy
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from cli_support import require_cli
from lakehouse_cli.bundle import build_resources, deploy_bundle, upload_sample_feeds
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.workspace import USER_NAME
from lakehouse_standins.http import Fault
from lakehouse_standins.local import databricks_standin

STREAM = dg.AssetKey(["template_domain", "template_source", "staging", "impression_clicks"])
STREAM_JOB_KEY = "template_domain_template_source_staging_low_latency_stream_join_simple"
EVENTS = dg.AssetKey(["template_domain", "template_source", "raw", "events"])
COUNTS = dg.AssetKey(["template_domain", "template_source", "staging", "event_counts"])
# Every micro-batch takes longer than 1 ms: each one alerts. Two batches, however slow the machine.
LOWERED = {
    "--max_trigger_execution_ms": "1",
    "--max_batches": "2",
    "--max_seconds": "300",
    "--trigger_interval": "2 seconds",
}


@pytest.fixture
def standin(local_settings: LakehouseSettings, spark_remote: str) -> Iterator[DatabricksStandin]:
    with databricks_standin(local_settings, local_settings.databricks_standin_port, spark_remote) as standin:
        yield standin


def deploy_to_standin(settings: LakehouseSettings, lowered: bool = False) -> None:
    """The bundle as the real Databricks CLI deploys it; lowered thresholds need our own deployer,
    which deploys resources changed here (the CLI deploys the bundle as it is)."""
    root = settings.root / "databricks"
    client = databricks_client_from_settings(settings).workspace_client()
    if lowered:
        built = copy.deepcopy(build_resources(root, "local", user_name=USER_NAME))
        task = built["resources"]["jobs"][STREAM_JOB_KEY]["tasks"][0]["spark_python_task"]
        kept = [p for p in task["parameters"] if p.split("=", 1)[0] not in LOWERED]
        task["parameters"] = kept + [f"{k}={v}" for k, v in LOWERED.items()]
        deploy_bundle(client, root, "local", cli=None, token=None, built=built)
    else:
        cli = require_cli()
        deploy_bundle(
            client,
            root,
            "local",
            cli=cli,
            token=settings.standin_token,
            local_state=settings.state_dir / "cli",
        )
    upload_sample_feeds(client, root, load_bundle(root).target("local"))


def test_the_stream_join_alerts_and_fails_its_blocking_check(
    local_settings: LakehouseSettings, standin: DatabricksStandin
) -> None:
    deploy_to_standin(local_settings, lowered=True)
    defs = build_domains_defs(local_settings)
    result = dg.materialize([defs.resolve_assets_def(STREAM)], selection=[STREAM], raise_on_error=False)
    (materialization,) = result.asset_materializations_for_node(STREAM_JOB_KEY)
    metadata: dict[str, Any] = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["micro_batches"] >= 2
    assert metadata["alerts"] >= 2
    assert metadata["max_trigger_execution_ms"] > 1
    # A bounded run over a known input: 2 batches of 250 impressions and 125 clicks, 125 joined each.
    assert metadata["stream_run"] == "bounded: 2 micro-batches of a fixed input, the table replaced"
    assert (metadata["dagster/row_count"], metadata["input_rows"]) == (250, 750)
    assert str(metadata["databricks_run_url"]).startswith(standin.url)
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("stream_healthy", False)
    assert "trigger_execution_ms" in str(check.metadata["reasons"].value)
    # The check is blocking: the step fails, so nothing downstream runs on an unhealthy stream.
    assert not result.success


@pytest.mark.databricks_cli
def test_a_pipeline_update_materializes_its_tables_with_rows_and_checks(
    local_settings: LakehouseSettings, standin: DatabricksStandin
) -> None:
    deploy_to_standin(local_settings)
    # One server error while following the update: read again, as for job runs.
    flaky = standin.recorder.add_fault(Fault("GET", "/api/2.0/pipelines/*/updates/*", status=500, times=1))
    defs = build_domains_defs(local_settings)
    result = dg.materialize([defs.resolve_assets_def(EVENTS)], selection=[EVENTS, COUNTS])
    assert flaky.hits == 1
    rows = {
        event.asset_key: event.materialization.metadata["dagster/row_count"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key
    }
    # Six landed events, one without an id (dropped); three event types.
    assert rows == {EVENTS: 5, COUNTS: 3}
    # Each table's columns with their types, read from Unity Catalog's tables API after the update.
    schemas = {
        event.asset_key: event.materialization.metadata["dagster/column_schema"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key
    }
    counts = {column.name: column.type for column in schemas[COUNTS].columns}  # type: ignore[union-attr]
    assert counts["event_type"] == "string"
    assert counts["events"] == "bigint"
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("has_event_id", True)
