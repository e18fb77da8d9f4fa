"""Ingestion schedules: when they tick and which assets their runs materialize."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from automation_support import Lakehouse
from dagster._utils.schedules import cron_string_iterator
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL

START = datetime(2026, 3, 1, 12, 2, 30, tzinfo=UTC)


def schedule(lakehouse: Lakehouse, name: str) -> dg.ScheduleDefinition:
    schedules = {s.name: s for s in lakehouse.locations["ingestion"].schedules or []}
    definition = schedules[name]
    assert isinstance(definition, dg.ScheduleDefinition)
    return definition


def ticks(definition: dg.ScheduleDefinition, count: int) -> list[str]:
    # The same iterator the scheduler daemon uses to find a schedule's next ticks.
    assert isinstance(definition.cron_schedule, str)
    times = cron_string_iterator(START.timestamp(), definition.cron_schedule, definition.execution_timezone)
    return [next(times).strftime("%H:%M") for _ in range(count)]


def selected_assets(lakehouse: Lakehouse, definition: dg.ScheduleDefinition) -> set[dg.AssetKey]:
    job = lakehouse.locations["ingestion"].resolve_job_def(definition.job_name)
    return set(job.asset_layer.selected_asset_keys)


def test_the_dlt_load_runs_every_five_minutes_and_loads_fact_virtual(lakehouse: Lakehouse) -> None:
    dlt = schedule(lakehouse, "kaizen_wars_dlt_schedule")
    assert ticks(dlt, 4) == ["12:05", "12:10", "12:15", "12:20"]
    assert selected_assets(lakehouse, dlt) == {RAW_FACT_VIRTUAL}


def test_the_jaffle_shop_replication_runs_hourly_and_loads_the_raw_tables(lakehouse: Lakehouse) -> None:
    csv = schedule(lakehouse, "jaffle_shop_raw_schedule")
    assert ticks(csv, 3) == ["13:00", "14:00", "15:00"]
    assert selected_assets(lakehouse, csv) == set(JAFFLE_SHOP_RAW)


def test_a_tick_requests_one_run_of_the_scheduled_job(lakehouse: Lakehouse) -> None:
    dlt = schedule(lakehouse, "kaizen_wars_dlt_schedule")
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    ) as context:
        result = dlt.evaluate_tick(context)
    assert result.run_requests is not None
    assert [request.job_name or dlt.job_name for request in result.run_requests] == ["kaizen_wars_dlt_load"]


def test_local_schedules_wait_for_a_developer_to_turn_them_on(lakehouse: Lakehouse) -> None:
    for definition in lakehouse.locations["ingestion"].schedules or []:
        assert isinstance(definition, dg.ScheduleDefinition)
        assert definition.default_status is dg.DefaultScheduleStatus.STOPPED
