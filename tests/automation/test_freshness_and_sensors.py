"""Freshness policies on every asset, and each location's sensors on when `dg dev` starts."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from automation_support import Lakehouse
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView
from dagster._core.definitions.freshness import FreshnessState, TimeWindowFreshnessPolicy
from dagster._core.definitions.freshness_evaluator import FRESHNESS_EVALUATORS_BY_POLICY_TYPE
from dagster._core.test_utils import freeze_time
from dagster._utils.schedules import cron_string_iterator
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.asset_keys import RAW_FACT_VIRTUAL
from lakehouse_resources.automation import DEFAULT_FRESHNESS, apply_lakehouse_policy
from lakehouse_resources.settings import get_settings

LOCATIONS = ("ingestion", "transformation", "downstream", "domains")


def freshness(lakehouse: Lakehouse) -> dict[str, dg.FreshnessPolicy | None]:
    policies: dict[str, dg.FreshnessPolicy | None] = {}
    for defs in lakehouse.locations.values():
        graph = defs.resolve_asset_graph()
        policies |= {
            key.to_user_string(): graph.get(key).freshness_policy for key in graph.materializable_asset_keys
        }
    return policies


def window(policy: dg.FreshnessPolicy | None) -> tuple[timedelta, timedelta | None]:
    assert isinstance(policy, TimeWindowFreshnessPolicy)
    warn = policy.warn_window.to_timedelta() if policy.warn_window else None
    return policy.fail_window.to_timedelta(), warn


def test_every_materializable_asset_has_a_freshness_policy(lakehouse: Lakehouse) -> None:
    policies = freshness(lakehouse)
    assert len(policies) >= 15
    assert [key for key, policy in policies.items() if policy is None] == []


def test_locally_no_window_is_shorter_than_the_default(lakehouse: Lakehouse) -> None:
    # The schedules are off locally, so the seeds' minutes-long windows would fail right after a run.
    policies = freshness(lakehouse)
    assert window(policies["raw/fact_virtual"]) == (timedelta(hours=24), timedelta(hours=12))
    assert window(policies["analytics/kaizen_wars/gold/fact_virtual_revenue"]) == (
        timedelta(hours=24),
        timedelta(hours=12),
    )
    assert window(policies["analytics/jaffle_shop/gold/customer_value"]) == (
        timedelta(hours=24),
        timedelta(hours=12),
    )
    assert policies["jaffle_shop/customers"] == DEFAULT_FRESHNESS


def test_where_schedules_run_the_seed_window_fits_the_schedule(tmp_path: Path) -> None:
    settings = get_settings(
        env="dev",
        duckdb_path_override=tmp_path / "warehouse.duckdb",
        databricks_host="https://dbc-0000.cloud.databricks.com",
        databricks_http_path="/sql/1.0/warehouses/0000",
        databricks_token="dapi-test",
    )
    defs = build_ingestion_defs(settings)
    graph = defs.resolve_asset_graph()
    for schedule in defs.schedules or []:
        assert isinstance(schedule, dg.ScheduleDefinition)
        assert schedule.default_status is dg.DefaultScheduleStatus.RUNNING
        assert isinstance(schedule.cron_schedule, str)
        ticks = cron_string_iterator(0, schedule.cron_schedule, schedule.execution_timezone)
        first, second = next(ticks), next(ticks)
        interval = second - first
        for key in defs.resolve_job_def(schedule.job_name).asset_layer.selected_asset_keys:
            fail, _ = window(graph.get(key).freshness_policy)
            assert fail > interval, (key, fail, interval)
    # seed 002: every 5 minutes, at most 1 minute late
    assert window(graph.get(RAW_FACT_VIRTUAL).freshness_policy) == (
        timedelta(minutes=6),
        timedelta(minutes=5),
    )


def test_nothing_is_stale_minutes_after_a_full_run(lakehouse: Lakehouse) -> None:
    """What the UI shows half an hour after `task pipeline` on a fresh clone: no failed freshness."""
    defs = lakehouse.graph()
    graph = defs.resolve_asset_graph()
    instance = dg.DagsterInstance.ephemeral()
    for key in graph.materializable_asset_keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))

    async def states() -> dict[str, FreshnessState]:
        view = AssetGraphView.for_test(defs, instance)
        result = {}
        for key in graph.materializable_asset_keys:
            node = graph.get(key)
            assert node.freshness_policy is not None, key
            evaluator = FRESHNESS_EVALUATORS_BY_POLICY_TYPE[type(node.freshness_policy)]()
            result[key.to_user_string()] = await evaluator.evaluate_freshness(context=view, node=node)
        return result

    with freeze_time(datetime.now(UTC) + timedelta(minutes=30)):
        found = asyncio.run(states())
    assert {key: state for key, state in found.items() if state is not FreshnessState.PASS} == {}


@pytest.mark.parametrize("location", LOCATIONS)
def test_each_location_runs_its_failure_sensor_and_automation_where_there_is_work(
    lakehouse: Lakehouse, location: str
) -> None:
    defs = lakehouse.locations[location]
    sensors = {sensor.name: sensor for sensor in defs.sensors or []}
    automation = [s for s in sensors.values() if isinstance(s, dg.AutomationConditionSensorDefinition)]
    graph = defs.resolve_asset_graph()
    for sensor in automation:
        assert sensor.name.startswith(f"{location}_")
        assert sensor.default_status is dg.DefaultSensorStatus.RUNNING, sensor.name
        # A sensor with no conditioned asset never ticks: every one has work.
        targets = sensor.asset_selection.resolve(graph)
        assert any(graph.get(key).automation_condition for key in targets), sensor.name
    assert sensors[f"{location}_run_failure_alerts"].default_status is dg.DefaultSensorStatus.RUNNING


def test_automation_sensors_are_split_by_kind(lakehouse: Lakehouse) -> None:
    names = {
        sensor.name
        for defs in lakehouse.locations.values()
        for sensor in defs.sensors or []
        if isinstance(sensor, dg.AutomationConditionSensorDefinition)
    }
    # Ingestion has none: its assets are started by schedules or by a user in the UI.
    assert names == {
        "transformation_dbt_automation",
        "downstream_automation",
        "domains_databricks_automation",
    }


def test_ingestion_assets_are_left_to_their_schedules(lakehouse: Lakehouse) -> None:
    graph = lakehouse.locations["ingestion"].resolve_asset_graph()
    assert {
        key: graph.get(key).automation_condition for key in graph.materializable_asset_keys
    } == dict.fromkeys(graph.materializable_asset_keys)


def test_loading_the_locations_prints_no_preview_or_deprecation_warning(tmp_path: Path) -> None:
    from lakehouse_downstream.defs.build import build_downstream_defs
    from lakehouse_transformation.defs.jaffle_shop.build import build_jaffle_shop_defs

    settings = get_settings(env="local", duckdb_path_override=tmp_path / "warehouse.duckdb")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for defs in (
            build_ingestion_defs(settings),
            build_downstream_defs(settings),
            apply_lakehouse_policy(
                build_jaffle_shop_defs(settings), location="transformation", settings=settings
            ),
        ):
            defs.get_repository_def()
    # Preview and beta warnings are noise wherever they are raised; deprecations are ours to fix
    # when our code is the caller (a library's own are filtered in pyproject.toml).
    noise = [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
        for w in caught
        if issubclass(w.category, dg.PreviewWarning | dg.BetaWarning)
        or (issubclass(w.category, DeprecationWarning) and "/site-packages/" not in w.filename)
    ]
    assert noise == []
