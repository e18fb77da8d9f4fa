"""kaizen_wars, run as a dbt Cloud job through dagster-dbt's cloud_v2 client.

`build_dbt_cloud_defs(settings)` is the entry point; in local the workspace is the stand-in
(`python -m lakehouse_standins.dbt_cloud`). Nothing here reads settings or builds definitions at import.
"""

from __future__ import annotations

from lakehouse_transformation.defs.dbt_cloud.definitions import build_dbt_cloud_defs
from lakehouse_transformation.defs.dbt_cloud.workspace import prepare_dbt_cloud_state

__all__ = ["build_dbt_cloud_defs", "prepare_dbt_cloud_state"]
