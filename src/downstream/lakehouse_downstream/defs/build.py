"""Assemble the downstream location from its parts."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from lakehouse_resources.automation import apply_lakehouse_policy
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.warehouse import DuckDBWarehouse

from lakehouse_downstream.components import DatabricksNotebookJobs
from lakehouse_downstream.defs.analytics.customer_tiers import (
    CUSTOMER_TIERS_TABLE,
    customer_tier_summary_asset,
)
from lakehouse_downstream.defs.analytics.fact_virtual import fact_virtual_count
from lakehouse_downstream.defs.analytics.segments import customer_segments, segments_cover_every_customer

NOTEBOOK_JOBS = Path(__file__).parent / "databricks_notebooks" / "defs.yaml"


def build_downstream_defs(settings: LakehouseSettings) -> dg.Definitions:
    notebooks = DatabricksNotebookJobs.from_yaml_file(NOTEBOOK_JOBS).definitions(settings.table_name)
    analytics = dg.Definitions(
        assets=[
            customer_segments,
            fact_virtual_count,
            customer_tier_summary_asset(settings.table_name(CUSTOMER_TIERS_TABLE)),
        ],
        asset_checks=[segments_cover_every_customer],
    )
    defs = dg.Definitions.merge(
        analytics,
        notebooks,
        dg.Definitions(
            resources={
                "warehouse": DuckDBWarehouse(path=str(settings.duckdb_path)),
                "databricks": databricks_client_from_settings(settings),
            }
        ),
    )
    return apply_lakehouse_policy(defs, location="downstream", settings=settings)
