"""Assemble the downstream location from its parts."""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.warehouse import DuckDBWarehouse

from lakehouse_downstream.defs.analytics.segments import customer_segments, segments_cover_every_customer


def build_downstream_defs(settings: LakehouseSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[customer_segments],
        asset_checks=[segments_cover_every_customer],
        resources={"warehouse": DuckDBWarehouse(path=str(settings.duckdb_path))},
    )
