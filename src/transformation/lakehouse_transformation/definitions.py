"""Code location `transformation`: dbt Core (jaffle_shop) and dbt Cloud (kaizen_wars) assets."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    # Imports and settings are resolved here, when Dagster builds the location, not at import.
    from lakehouse_resources.settings import get_settings

    from lakehouse_transformation.defs.build import build_transformation_defs

    return build_transformation_defs(get_settings())
