"""Code location `ingestion`: Sling replications and dlt loads into the warehouse's raw schema."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    # Imports and settings are resolved here, when Dagster builds the location, not at import.
    from lakehouse_resources.settings import get_settings

    from lakehouse_ingestion.defs.build import build_ingestion_defs

    return build_ingestion_defs(get_settings())
