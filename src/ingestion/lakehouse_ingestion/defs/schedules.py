"""Schedules for the ingestion assets; everything downstream follows by automation conditions.

Jobs select assets by key, so a renamed op or a swapped source (CSV files locally, SQL Server in
prod) keeps its schedule as long as it produces the same raw tables.
"""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL
from lakehouse_resources.settings import LakehouseSettings

KAIZEN_WARS_DLT_JOB = "kaizen_wars_dlt_load"
KAIZEN_WARS_DLT_SCHEDULE = "kaizen_wars_dlt_schedule"
KAIZEN_WARS_DLT_CRON = "*/5 * * * *"  # seed 002

JAFFLE_SHOP_RAW_JOB = "jaffle_shop_raw_replication"
JAFFLE_SHOP_RAW_SCHEDULE = "jaffle_shop_raw_schedule"
# The shop's exports change a few times a day; hourly keeps the marts within the daily freshness
# default with room for a failed run or two.
JAFFLE_SHOP_RAW_CRON = "0 * * * *"


def ingestion_schedules(settings: LakehouseSettings) -> dg.Definitions:
    # Deployed environments ingest on their own; a local `dg dev` waits for a developer to turn a
    # schedule on (or materialize by hand), so starting the UI does not start loading data.
    status = dg.DefaultScheduleStatus.STOPPED if settings.is_local else dg.DefaultScheduleStatus.RUNNING
    dlt_job = dg.define_asset_job(
        KAIZEN_WARS_DLT_JOB,
        selection=dg.AssetSelection.assets(RAW_FACT_VIRTUAL),
        description="The Kaizen Wars dlt load into raw.",
    )
    raw_job = dg.define_asset_job(
        JAFFLE_SHOP_RAW_JOB,
        selection=dg.AssetSelection.assets(*JAFFLE_SHOP_RAW),
        description="The jaffle shop raw tables (CSV files locally, SQL Server in prod).",
    )
    return dg.Definitions(
        jobs=[dlt_job, raw_job],
        schedules=[
            dg.ScheduleDefinition(
                name=KAIZEN_WARS_DLT_SCHEDULE,
                job=dlt_job,
                cron_schedule=KAIZEN_WARS_DLT_CRON,
                execution_timezone="UTC",
                default_status=status,
            ),
            dg.ScheduleDefinition(
                name=JAFFLE_SHOP_RAW_SCHEDULE,
                job=raw_job,
                cron_schedule=JAFFLE_SHOP_RAW_CRON,
                execution_timezone="UTC",
                default_status=status,
            ),
        ],
    )
