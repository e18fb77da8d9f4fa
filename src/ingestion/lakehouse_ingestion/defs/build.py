"""Assemble the ingestion location from its parts."""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource
from dagster_sling import SlingConnectionResource, SlingResource
from lakehouse_resources.automation import apply_lakehouse_policy
from lakehouse_resources.settings import JaffleShopSource, LakehouseSettings
from lakehouse_resources.specs import map_asset_specs

from lakehouse_ingestion.defs.jaffle_shop_files.assets import build_jaffle_shop_files
from lakehouse_ingestion.defs.kaizen_wars.assets import build_kaizen_wars_load
from lakehouse_ingestion.defs.postgres.assets import build_shop_postgres
from lakehouse_ingestion.defs.production.assets import build_jaffle_shop_sqlserver
from lakehouse_ingestion.defs.schedules import ingestion_schedules

# On every ingestion asset: the global lineage's "Materialize all" is refused because the assets
# span code locations, so the UI says here how the whole platform runs from it.
RUN_THE_PLATFORM = (
    'Run the whole platform from the UI: Lineage, filter `code_location:"ingestion"`, then'
    ' "Materialize all"; the automation sensors of the transformation, downstream and domains'
    " locations then run everything downstream (dbt, Python, the Databricks notebooks) as its"
    " inputs update, and the domains' bronze to gold as their landing Volumes receive files."
)


def with_run_the_platform(spec: dg.AssetSpec) -> dg.AssetSpec:
    return spec.replace_attributes(description=f"{spec.description or ''}\n\n{RUN_THE_PLATFORM}".strip())


# The raw tables land here on Databricks (<env>_catalog.raw); replications name it per stream.
WAREHOUSE_SCHEMA = "raw"


def _connection(name: str, kind: str, **properties: Any) -> SlingConnectionResource:
    """A Sling connection with the properties Sling documents for its type.

    SlingConnectionResource accepts any property (it is a PermissiveConfig) but declares only
    name, type and connection_string, so the others go through one typed mapping.
    """
    return SlingConnectionResource(name=name, type=kind, **properties)


def _warehouse_connection(settings: LakehouseSettings) -> SlingConnectionResource:
    if settings.is_local:
        return _connection("WAREHOUSE", "duckdb", instance=str(settings.duckdb_path))
    # Secrets go in as EnvVar so the location's snapshot (and the UI) shows the variable's name,
    # never its value; the settings object has already checked that it is set.
    return _connection(
        "WAREHOUSE",
        "databricks",
        host=settings.databricks_hostname,
        token=dg.EnvVar("DATABRICKS_TOKEN"),
        http_path=settings.databricks_http_path,
        catalog=settings.catalog,
        schema=WAREHOUSE_SCHEMA,
    )


def sling_resource(settings: LakehouseSettings) -> SlingResource:
    """The connections replications use, switched by settings: `WAREHOUSE` and the sources."""
    connections = [SlingConnectionResource(name="LOCAL", type="file"), _warehouse_connection(settings)]
    if settings.jaffle_shop_source is JaffleShopSource.SQLSERVER:
        connections.append(
            SlingConnectionResource(
                name="SQL_SERVER", type="sqlserver", connection_string=dg.EnvVar("LAKEHOUSE_SQLSERVER_URL")
            )
        )
    if settings.postgres_url:
        connections.append(
            SlingConnectionResource(
                name="POSTGRES", type="postgres", connection_string=dg.EnvVar("LAKEHOUSE_POSTGRES_URL")
            )
        )
    return SlingResource(connections=connections)


def build_ingestion_defs(settings: LakehouseSettings) -> dg.Definitions:
    settings.check_ingestion()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    jaffle_shop = (
        build_jaffle_shop_sqlserver(settings)
        if settings.jaffle_shop_source is JaffleShopSource.SQLSERVER
        else build_jaffle_shop_files(settings)
    )
    assets = [jaffle_shop, build_kaizen_wars_load(settings)]
    # The PostgreSQL source is optional: without LAKEHOUSE_POSTGRES_URL its assets are not loaded.
    if settings.postgres_url:
        assets.append(build_shop_postgres(settings))
    defs = dg.Definitions(
        assets=assets,
        resources={"sling": sling_resource(settings), "dlt": DagsterDltResource()},
    )
    return apply_lakehouse_policy(
        dg.Definitions.merge(map_asset_specs(defs, with_run_the_platform), ingestion_schedules(settings)),
        location="ingestion",
        settings=settings,
    )
