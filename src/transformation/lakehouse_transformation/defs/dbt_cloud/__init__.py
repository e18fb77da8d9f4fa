"""kaizen_wars, run as a dbt Cloud job through dagster-dbt's cloud_v2 client.

`build_dbt_cloud_defs(settings)` is the entry point; it reads the workspace state that
`prepare_dbt_cloud_state` (`lakehouse dbt-cloud prepare`) wrote. In local the workspace is the
stand-in. Nothing here reads settings, builds definitions or calls dbt Cloud at import or load.
"""

from __future__ import annotations

from lakehouse_transformation.defs.dbt_cloud.definitions import build_dbt_cloud_defs
from lakehouse_transformation.defs.dbt_cloud.workspace import prepare_dbt_cloud_state

__all__ = ["build_dbt_cloud_defs", "prepare_dbt_cloud_state"]
