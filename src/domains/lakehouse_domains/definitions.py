"""Code location `domains`: the Databricks platform's jobs and pipelines, from the bundle's specs."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    # Imports and settings are resolved here, when Dagster builds the location, not at import.
    from lakehouse_resources.settings import get_settings

    from lakehouse_domains.defs.build import build_domains_defs

    return build_domains_defs(get_settings())
