"""Dagster Pipes for a job's Python task: open when an orchestrator started the run, else nothing.

The bundle attaches `dagster-pipes` to every job (databricks/resources/generate.py), so it is imported
only here and only when the run carries Pipes' bootstrap; a run started from the Databricks UI
needs neither.
"""

from __future__ import annotations

import contextlib
from typing import Any

from data_ops.tables import Commit


def orchestrated(argv: list[str]) -> bool:
    return any(arg.startswith("--dagster-pipes-context") for arg in argv)


def open_pipes(argv: list[str]) -> contextlib.AbstractContextManager[Any]:
    """A Pipes context over Unity Catalog Volumes when `argv` has the bootstrap, else `None`."""
    if not orchestrated(argv):
        return contextlib.nullcontext(None)
    from dagster_pipes import (
        PipesCliArgsParamsLoader,
        PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter,
        open_dagster_pipes,
    )

    return open_dagster_pipes(
        params_loader=PipesCliArgsParamsLoader(),
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
    )


def report_commit(pipes: Any, table: object, commit: Commit) -> None:
    """The table manager's commit as the asset's materialization (nothing when not orchestrated)."""
    if pipes is not None:
        pipes.report_asset_materialization(
            metadata={
                "dagster/row_count": commit.output_rows or 0,
                "table": str(table),
                "table_version": commit.version,
                "operation": commit.operation,
            }
        )
