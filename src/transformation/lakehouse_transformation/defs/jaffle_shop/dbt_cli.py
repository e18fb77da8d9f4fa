"""DbtCliResource without the two set-up costs a local `dbt build` step does not need.

Profiled on the benchmark machine, dagster-dbt's `cli()` spent longer before and after dbt than
dbt itself took: `dbt --version` in a subprocess (a second dbt start-up, ~2-6 s under load) to
learn a version the installed dbt-core package already states, and an in-process dbt adapter
(~3 s of macro parsing) that only `fetch_row_counts()`/`fetch_column_metadata()` use. Locally the
row counts come from a short-lived DuckDB connection (row_counts.py), so the adapter is skipped;
elsewhere it is kept for `fetch_row_counts()`.
"""

from __future__ import annotations

import shutil
import sys
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging.version import Version


class LakehouseDbtCli(DbtCliResource):
    core_adapter: bool = True

    @cached_property
    def _cli_version(self) -> Version:
        # Only when the executable is this environment's dbt is the package version its version.
        executable = shutil.which(self.dbt_executable)
        if executable and Path(executable).parent == Path(sys.executable).parent:
            try:
                return Version(version("dbt-core"))
            except PackageNotFoundError:
                pass
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return super()._initialize_dbt_core_adapter(args) if self.core_adapter else None


def lakehouse_dbt_cli(dbt: DbtCliResource, *, core_adapter: bool) -> LakehouseDbtCli:
    """The run's configured resource, same fields, with the shortcuts above."""
    fields = {name: getattr(dbt, name) for name in DbtCliResource.model_fields}
    return LakehouseDbtCli(**fields, core_adapter=core_adapter)
