"""Assemble the downstream location: Python assets on the DuckDB warehouse.

Databricks notebooks and Python tasks are bundle specs (`databricks/specs`), run by the `domains`
location like every other Databricks job.
"""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.automation import apply_lakehouse_policy
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.warehouse import DuckDBWarehouse

from lakehouse_downstream.defs.analytics.customer_tiers import (
    CUSTOMER_TIERS_NAME,
    customer_tier_summary_asset,
)
from lakehouse_downstream.defs.analytics.fact_virtual import fact_virtual_count
from lakehouse_downstream.defs.analytics.segments import customer_segments, segments_cover_every_customer


def build_downstream_defs(settings: LakehouseSettings) -> dg.Definitions:
    analytics = dg.Definitions(
        assets=[
            customer_segments,
            fact_virtual_count,
            customer_tier_summary_asset(str(settings.bundle_target.table_name(CUSTOMER_TIERS_NAME))),
        ],
        asset_checks=[segments_cover_every_customer],
    )
    defs = dg.Definitions.merge(
        analytics,
        dg.Definitions(resources={"warehouse": DuckDBWarehouse(path=str(settings.duckdb_path))}),
    )
    return apply_lakehouse_policy(defs, location="downstream", settings=settings)
