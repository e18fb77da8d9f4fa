"""A local dbt Cloud (Administrative API v2) that really runs dbt-core against the DuckDB warehouse.

    with DbtCloudStandin(StandinConfig(project_dir=..., work_dir=..., duckdb_path=...)) as standin:
        standin.url              # access URL for DbtCloudCredentials
        standin.recorder         # every request, and scripted HTTP faults
        standin.add_run_fault(RunFault("failing_test"))

`python -m lakehouse_standins.dbt_cloud` serves it for `task dev` with the project's settings.
"""

from __future__ import annotations

from lakehouse_standins.dbt_cloud.runner import RunFault, RunFaultKind
from lakehouse_standins.dbt_cloud.server import DbtCloudStandin, api_fault
from lakehouse_standins.dbt_cloud.store import RunStatus, StandinConfig

__all__ = ["DbtCloudStandin", "RunFault", "RunFaultKind", "RunStatus", "StandinConfig", "api_fault"]
