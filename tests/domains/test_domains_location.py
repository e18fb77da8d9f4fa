"""The `domains` location: assets from the bundle's specs, loading with no network and no CLI, and a
job that is not deployed failing the step with the command that deploys it."""

import shutil
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from lakehouse_cli.bundle import deploy_bundle
from lakehouse_cli.main import main
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_domains.defs.sensors import stream_problem
from lakehouse_resources.alerts import root_cause
from lakehouse_resources.automation import DEFAULT_FRESHNESS
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.settings import LakehouseSettings, get_settings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse

STREAM_JOB_KEY = "template_domain_template_source_staging_low_latency_stream_join_simple"
STREAM = dg.AssetKey(["template_domain", "template_source", "staging", "impression_clicks"])
BASE = dg.AssetKey(["finance", "erp", "base", "postings"])
RAW = dg.AssetKey(["finance", "erp", "raw", "postings"])


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"loading Definitions opened a connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_definitions_load_with_no_network_and_no_databricks_cli(
    clean_env: pytest.MonkeyPatch, no_network: None, tmp_path: Path
) -> None:
    assert shutil.which("databricks") is None or True  # whatever is installed, PATH below has none
    clean_env.setenv("PATH", str(tmp_path))
    defs = build_domains_defs(get_settings())
    graph = defs.resolve_asset_graph()
    assert STREAM in graph.materializable_asset_keys
    assert graph.get(BASE).parent_keys == {RAW}


def test_assets_carry_group_tags_kinds_and_blocking_checks(clean_env: pytest.MonkeyPatch) -> None:
    defs = build_domains_defs(get_settings())
    graph = defs.resolve_asset_graph()
    base = graph.get(BASE)
    assert base.group_name == "finance"
    assert {k: v for k, v in base.tags.items() if k in ("layer", "source")} == {
        "layer": "base",
        "source": "erp",
    }
    assert {"spark", "databricks"} <= set(base.kinds)
    assert base.metadata["table"] == "spark_catalog.finance_erp.base_postings"
    assert base.automation_condition is not None  # the lakehouse policy applies
    checks = {
        spec.name: spec
        for asset in (defs.resolve_all_asset_specs() and defs.assets) or []
        if isinstance(asset, dg.AssetsDefinition)
        for spec in asset.check_specs
    }
    assert checks["has_amount"].blocking  # drop
    assert checks["balance_is_known"].blocking  # fail
    assert not checks["known_currency"].blocking  # warn
    assert checks["stream_healthy"].blocking
    assert checks["stream_healthy"].asset_key == STREAM
    # Locally the stream join is a bounded full refresh (its rows do not grow with the wall clock).
    assert str(graph.get(STREAM).metadata["stream_run"]).startswith("bounded: a full refresh")


def production(env: pytest.MonkeyPatch) -> None:
    """The environment of a production code server (no credentials: loading calls nothing)."""
    env.setenv("LAKEHOUSE_ENV", "prod")
    env.setenv("DATABRICKS_HOST", "https://example.cloud.databricks.com")
    env.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/x")


def test_production_names_the_prod_tables(clean_env: pytest.MonkeyPatch) -> None:
    production(clean_env)
    graph = build_domains_defs(get_settings()).resolve_asset_graph()
    node = graph.get(BASE)
    assert node.metadata["table"] == "finance.erp.base_postings"
    assert node.metadata["databricks_resource"] == "finance_erp_final_core_streaming_full_stack_prod"
    assert str(graph.get(STREAM).metadata["stream_run"]).startswith("unbounded: appends until cancelled")


def test_stream_problem_decision() -> None:
    assert stream_problem(0, "FAILED", []) == "no active run (the last run ended FAILED)"
    assert stream_problem(1, None, []) is None
    assert "2 STREAM_MONITOR_ALERT" in (stream_problem(1, None, ["a", "b"]) or "")


@pytest.fixture
def empty_standin(tmp_path: Path, local_settings: LakehouseSettings) -> Iterator[DatabricksStandin]:
    """A stand-in where the settings look for one, with nothing deployed."""
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    port = local_settings.databricks_standin_port
    with DatabricksStandin(
        tmp_path / "standin",
        warehouse,
        port=port,
        token=local_settings.standin_token,
        spark_remote="sc://127.0.0.1:9",
    ) as standin:
        yield standin


def test_a_job_that_is_not_deployed_fails_the_step_naming_it_and_the_deploy_command(
    local_settings: LakehouseSettings, empty_standin: DatabricksStandin
) -> None:
    defs = build_domains_defs(local_settings)
    result = dg.materialize([defs.resolve_assets_def(STREAM)], selection=[STREAM], raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data
    assert failure.step_failure_data.error
    message = root_cause(failure.step_failure_data.error)
    assert (
        "template_domain_template_source_staging_low_latency_stream_join_simple_local is not deployed"
        in message
    )
    assert "lakehouse bundle deploy --target local" in message


def test_the_stream_state_sensor_alerts_when_the_continuous_job_has_no_active_run(
    local_settings: LakehouseSettings, empty_standin: DatabricksStandin, caplog: pytest.LogCaptureFixture
) -> None:
    client = databricks_client_from_settings(local_settings)
    deploy_bundle(
        client.workspace_client(), local_settings.root / "databricks", "local", cli=None, token=None
    )
    defs = build_domains_defs(local_settings)
    sensor = defs.resolve_sensor_def(f"{STREAM_JOB_KEY}_stream_state")
    # Off outside production: a local continuous job is deployed paused.
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    with dg.build_sensor_context(resources={"databricks_workspace": client}) as context:
        result = sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert "alerted - no active run" in (result.skip_message or "")
    assert f"{STREAM_JOB_KEY}_local" in caplog.text


def test_bundle_deploy_needs_a_running_standin(
    local_settings: LakehouseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "deploy", "--target", "local"]) == 1
    assert "No Databricks stand-in answers" in capsys.readouterr().err


def test_alerts_are_counted_per_run_and_seen_once() -> None:
    from lakehouse_domains.defs.sensors import new_alerts

    first, cursor = new_alerts(None, 7, ["A1", "A2"])
    assert first == ["A1", "A2"]
    again, cursor = new_alerts(cursor, 7, ["A1", "A2", "A3"])
    assert again == ["A3"]
    # a new run's first alert is new, however many the run before had
    fresh, cursor = new_alerts(cursor, 8, ["B1"])
    assert fresh == ["B1"]
    assert new_alerts(cursor, 8, ["B1"])[0] == []
    assert new_alerts("3", 8, ["B1"])[0] == ["B1"]  # the old count-only cursor is read as nothing seen


def test_a_specs_freshness_is_its_assets_policy_where_schedules_run(clean_env: pytest.MonkeyPatch) -> None:
    """fact_virtual_revenue's spec asks for an hour (its input lands every 5 minutes); locally, with
    the schedules off, the lakehouse's daily default stands in for it (automation._fits_local)."""
    revenue = dg.AssetKey(["analytics", "kaizen_wars", "gold", "fact_virtual_revenue"])
    local = build_domains_defs(get_settings()).resolve_asset_graph().get(revenue).freshness_policy
    assert local == DEFAULT_FRESHNESS
    production(clean_env)
    prod = build_domains_defs(get_settings()).resolve_asset_graph().get(revenue).freshness_policy
    assert prod == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(minutes=60), warn_window=timedelta(minutes=30)
    )
