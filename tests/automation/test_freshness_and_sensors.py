"""Freshness policies on every asset, and each location's sensors on when `dg dev` starts."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
from automation_support import Lakehouse
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy
from lakehouse_resources.automation import DEFAULT_FRESHNESS

LOCATIONS = ("ingestion", "transformation", "downstream")


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


def test_the_seeds_freshness_windows_win_over_the_default(lakehouse: Lakehouse) -> None:
    policies = freshness(lakehouse)
    # seed 002: the dlt load tolerates a 1-minute lag
    assert window(policies["raw/fact_virtual"]) == (timedelta(minutes=1), None)
    # the notebooks' freshness_fail_minutes in their YAML
    assert window(policies["analytics/analytics_jaffle_shop_gold_customer_value"]) == (
        timedelta(minutes=1440),
        None,
    )
    assert window(policies["analytics/analytics_kaizen_wars_gold_fact_virtual_revenue"]) == (
        timedelta(minutes=60),
        None,
    )
    assert policies["jaffle_shop/customers"] == DEFAULT_FRESHNESS
    assert window(DEFAULT_FRESHNESS) == (timedelta(hours=24), timedelta(hours=12))


@pytest.mark.parametrize("location", LOCATIONS)
def test_each_location_runs_its_own_automation_and_failure_sensors_by_default(
    lakehouse: Lakehouse, location: str
) -> None:
    sensors = {sensor.name: sensor for sensor in lakehouse.locations[location].sensors or []}
    automation = {
        name for name, s in sensors.items() if isinstance(s, dg.AutomationConditionSensorDefinition)
    }
    assert automation, location
    assert all(name.startswith(f"{location}_") for name in automation)
    assert f"{location}_run_failure_alerts" in sensors
    for name in [*automation, f"{location}_run_failure_alerts"]:
        assert sensors[name].default_status is dg.DefaultSensorStatus.RUNNING, name


def test_automation_sensors_are_split_by_kind(lakehouse: Lakehouse) -> None:
    names = {
        sensor.name
        for defs in lakehouse.locations.values()
        for sensor in defs.sensors or []
        if isinstance(sensor, dg.AutomationConditionSensorDefinition)
    }
    assert names == {
        "ingestion_automation",
        "transformation_dbt_automation",
        "downstream_databricks_automation",
        "downstream_automation",
    }


def test_ingestion_assets_are_left_to_their_schedules(lakehouse: Lakehouse) -> None:
    graph = lakehouse.locations["ingestion"].resolve_asset_graph()
    assert {
        key: graph.get(key).automation_condition for key in graph.materializable_asset_keys
    } == dict.fromkeys(graph.materializable_asset_keys)
