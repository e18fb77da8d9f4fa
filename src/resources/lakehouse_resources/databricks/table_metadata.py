"""A Databricks table's columns as Dagster metadata, read from Unity Catalog after a run.

Run time only (never while Definitions load). A table the catalog cannot describe leaves the
materialization as it is, with a warning: the run itself succeeded.
"""

from __future__ import annotations

import logging
from typing import Any

import dagster as dg
from databricks.sdk import WorkspaceClient

log = logging.getLogger(__name__)
COLUMN_SCHEMA = "dagster/column_schema"


def table_schema(client: WorkspaceClient, full_name: str) -> dg.TableSchema | None:
    """`GET /api/2.1/unity-catalog/tables/{full_name}`'s columns, or None when it cannot be read."""
    try:
        info = client.tables.get(full_name)
    except Exception as exc:  # a missing grant or a dropped table must not fail a finished run
        log.warning("could not read the columns of %s: %s", full_name, exc)
        return None
    return dg.TableSchema(
        columns=[dg.TableColumn(column.name or "", column.type_text or "") for column in info.columns or []]
    )


def with_table_schema(client: WorkspaceClient, result: Any) -> Any:
    """A materialization naming its `table` gets that table's columns; anything else is returned as is."""
    if not isinstance(result, dg.MaterializeResult):
        return result
    metadata = dict(result.metadata or {})
    table = metadata.get("table")
    table_name = table.value if isinstance(table, dg.TextMetadataValue) else table
    if not isinstance(table_name, str) or COLUMN_SCHEMA in metadata:
        return result
    schema = table_schema(client, table_name)
    if schema is None:
        return result
    return dg.MaterializeResult(
        asset_key=result.asset_key,
        metadata={**metadata, COLUMN_SCHEMA: dg.MetadataValue.table_schema(schema)},
        check_results=result.check_results,
        data_version=result.data_version,
        tags=result.tags,
    )
