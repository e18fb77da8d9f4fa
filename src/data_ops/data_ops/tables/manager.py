"""One table manager for workspace and local tables: every table is a Delta table.

On a workspace Delta is the default; locally the stand-in's Spark loads delta-spark with Delta's
session extension and catalog, so the same statements run in both places: `saveAsTable` in Delta
format (a failed or cancelled write leaves the previous version current), `MERGE INTO`, and
`DESCRIBE HISTORY` for the commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType

from data_ops.config import TableName
from data_ops.errors import TableError
from data_ops.log import emit, get_logger

log = get_logger(__name__)


class Commit(BaseModel):
    """One version of a table, newest first in `history`."""

    version: int
    timestamp: str
    operation: str
    output_rows: int | None = None


def _name(table: TableName | str) -> TableName:
    return table if isinstance(table, TableName) else TableName.parse(table)


def check_unique_keys(df: DataFrame, keys: Sequence[str], what: str) -> None:
    """A merge source must hold each key once, as Delta's MERGE demands."""
    duplicates = df.groupBy(*keys).count().where("count > 1").limit(3).collect()
    if duplicates:
        sample = ", ".join(str({key: row[key] for key in keys}) for row in duplicates)
        raise TableError(
            f"merge into {what}: the source holds keys {list(keys)} more than once, e.g. {sample}"
        )


def merge_statement(table: str, source_view: str, keys: Sequence[str], *, delete_missing: bool) -> str:
    """`MERGE INTO` matching on every key null-safely; updates and inserts every column."""
    on = " AND ".join(f"target.`{key}` <=> source.`{key}`" for key in keys)
    statement = (
        f"MERGE INTO {table} AS target USING {source_view} AS source ON {on} "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    return statement + (" WHEN NOT MATCHED BY SOURCE THEN DELETE" if delete_missing else "")


class TableManager:
    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def exists(self, table: TableName | str) -> bool:
        return bool(self.spark.catalog.tableExists(str(_name(table))))

    def ensure_schema(self, table: TableName | str) -> None:
        name = _name(table)
        if not self.spark.catalog.databaseExists(name.namespace):
            self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS {name.namespace}")

    def create(self, table: TableName | str, schema: StructType) -> None:
        """Create an empty table with `schema` unless it exists."""
        name = _name(table)
        self.ensure_schema(name)
        if not self.exists(name):
            self.spark.createDataFrame([], schema).write.format("delta").saveAsTable(str(name))

    def overwrite(self, df: DataFrame, table: TableName | str) -> Commit:
        name = _name(table)
        self.ensure_schema(name)
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(str(name))
        return self._logged(name)

    def merge(
        self, df: DataFrame, table: TableName | str, keys: Sequence[str], *, delete_missing: bool = False
    ) -> Commit:
        """Upsert on `keys`: matched rows replaced, new rows inserted; a re-run changes nothing.

        `delete_missing` also deletes the rows whose key the source no longer has (MERGE's `WHEN NOT
        MATCHED BY SOURCE THEN DELETE`): for a table recomputed whole from its inputs, such as a gold
        aggregate, so a group that left the input leaves the table too."""
        name = _name(table)
        if not keys:
            raise TableError(f"merge into {name}: no keys given")
        check_unique_keys(df, keys, str(name))
        if not self.exists(name):
            return self.overwrite(df, name)
        missing = sorted(
            set(keys) - set(df.columns) | set(keys) - set(self.spark.read.table(str(name)).columns)
        )
        if missing:
            raise TableError(
                f"merge into {name}: key column(s) {missing} missing from the table or the source"
            )
        # SQL, not DataFrame.mergeInto: its condition cannot name the target by an alias. The view's
        # name is unique, so two merges in one session never read each other's source.
        view = f"merge_source_{uuid.uuid4().hex}"
        df.createOrReplaceTempView(view)
        try:
            self.spark.sql(merge_statement(name.quoted, view, keys, delete_missing=delete_missing))
        finally:
            self.spark.catalog.dropTempView(view)
        return self._logged(name)

    def history(self, table: TableName | str) -> list[Commit]:
        name = _name(table)
        if not self.exists(name):
            raise TableError(f"history of {name}: no such table")
        rows = self.spark.sql(f"DESCRIBE HISTORY {name.quoted}").collect()
        return [
            Commit(
                version=int(row["version"]),
                timestamp=str(row["timestamp"]),
                operation=str(row["operation"]),
                output_rows=_output_rows(row["operationMetrics"] or {}),
            )
            for row in rows
        ]

    def _logged(self, name: TableName) -> Commit:
        commit = self.history(name)[0]
        emit("commit", {"table": str(name), **commit.model_dump()})
        return commit


def _output_rows(metrics: dict[str, str]) -> int | None:
    """Rows the commit left written: a write's numOutputRows; a merge's inserted plus updated."""
    if "numOutputRows" in metrics:
        return int(metrics["numOutputRows"])
    parts = [metrics.get(key) for key in ("numTargetRowsInserted", "numTargetRowsUpdated")]
    return sum(int(part) for part in parts if part is not None) if any(parts) else None
