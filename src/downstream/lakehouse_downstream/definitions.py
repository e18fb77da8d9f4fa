"""Code location `downstream`: Python analytics on the DuckDB warehouse (Databricks work is in `domains`)."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    # Imports and settings are resolved here, when Dagster builds the location, not at import.
    from lakehouse_resources.settings import get_settings

    from lakehouse_downstream.defs.build import build_downstream_defs

    return build_downstream_defs(get_settings())
