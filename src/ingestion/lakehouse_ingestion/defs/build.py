"""Assemble the ingestion location from its parts."""

from __future__ import annotations

import dagster as dg
from dagster_dlt import DagsterDltResource
from dagster_sling import SlingConnectionResource, SlingResource
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_ingestion.defs.jaffle_shop_files.assets import build_jaffle_shop_files
from lakehouse_ingestion.defs.kaizen_wars.assets import build_kaizen_wars_load


def sling_resource(settings: LakehouseSettings) -> SlingResource:
    """The `WAREHOUSE` connection that replications target, switched by settings."""
    return SlingResource(
        connections=[
            SlingConnectionResource(name="LOCAL", type="file"),
            SlingConnectionResource(name="WAREHOUSE", type="duckdb", instance=str(settings.duckdb_path)),  # pyright: ignore[reportCallIssue]
        ]
    )


def build_ingestion_defs(settings: LakehouseSettings) -> dg.Definitions:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return dg.Definitions(
        assets=[build_jaffle_shop_files(settings), build_kaizen_wars_load(settings)],
        resources={"sling": sling_resource(settings), "dlt": DagsterDltResource()},
    )
