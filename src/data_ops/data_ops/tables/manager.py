"""One table manager for workspace and local tables; callers never see the format.

The format follows the session's default data source, the workspace's own setting: Delta on
Databricks (MERGE INTO, DESCRIBE HISTORY, transactions in the log), Spark's Parquet elsewhere, where
`VersionedParquetStore` gives the same guarantees: every write goes to a new folder and the table is
switched to it in one metastore operation, so a failed or cancelled write leaves the table as it
was, and the versions are the history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
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


class TableManager:
    def __init__(self, spark: Any) -> None:
        self.spark = spark
        default_format = str(spark.conf.get("spark.sql.sources.default", "parquet")).lower()
        self.store: _Store = DeltaStore(spark) if default_format == "delta" else VersionedParquetStore(spark)

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
            self.store.create(name, schema)

    def overwrite(self, df: DataFrame, table: TableName | str) -> Commit:
        name = _name(table)
        self.ensure_schema(name)
        return self._logged(name, self.store.overwrite(df, name, exists=self.exists(name)))

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
        return self._logged(name, self.store.merge(df, name, list(keys), delete_missing=delete_missing))

    def history(self, table: TableName | str) -> list[Commit]:
        name = _name(table)
        if not self.exists(name):
            raise TableError(f"history of {name}: no such table")
        return self.store.history(name)

    def _logged(self, name: TableName, commit: Commit) -> Commit:
        emit("commit", {"table": str(name), **commit.model_dump()})
        return commit


class _Store:
    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def create(self, name: TableName, schema: StructType) -> None:
        raise NotImplementedError

    def overwrite(self, df: DataFrame, name: TableName, *, exists: bool) -> Commit:
        raise NotImplementedError

    def merge(self, df: DataFrame, name: TableName, keys: list[str], *, delete_missing: bool) -> Commit:
        raise NotImplementedError

    def history(self, name: TableName) -> list[Commit]:
        raise NotImplementedError


class DeltaStore(_Store):
    """Databricks: Delta tables, the workspace default."""

    def create(self, name: TableName, schema: StructType) -> None:
        self.spark.createDataFrame([], schema).write.format("delta").saveAsTable(str(name))

    def overwrite(self, df: DataFrame, name: TableName, *, exists: bool) -> Commit:
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(str(name))
        return self.history(name)[0]

    def merge(self, df: DataFrame, name: TableName, keys: list[str], *, delete_missing: bool) -> Commit:
        on = " AND ".join(f"target.`{key}` <=> source.`{key}`" for key in keys)
        merge = df.alias("source").mergeInto(str(name), F.expr(on)).whenMatched().updateAll()
        merge = merge.whenNotMatched().insertAll()
        if delete_missing:
            merge = merge.whenNotMatchedBySource().delete()
        merge.merge()
        return self.history(name)[0]

    def history(self, name: TableName) -> list[Commit]:
        rows = self.spark.sql(f"DESCRIBE HISTORY {name}").collect()
        return [
            Commit(
                version=int(row["version"]),
                timestamp=str(row["timestamp"]),
                operation=str(row["operation"]),
                output_rows=_int_or_none((row["operationMetrics"] or {}).get("numOutputRows")),
            )
            for row in rows
        ]


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


HISTORY_PROPERTY = "data_ops.history"
_KEPT_HISTORY = 50


class VersionedParquetStore(_Store):
    """Parquet tables whose every version is its own folder `<schema location>/<table>/v<N>`.

    Writing a version never touches the current one; `ALTER TABLE ... SET LOCATION` makes it
    current in one metastore operation (a schema change re-creates the entry instead). A merge
    reads the current version and writes the next, so it never reads and overwrites one folder.
    """

    def create(self, name: TableName, schema: StructType) -> None:
        location = self._version_path(name, 0)
        self.spark.createDataFrame([], schema).write.format("parquet").mode("overwrite").save(location)
        self._register(
            name,
            location,
            Commit(version=0, timestamp=self._now(), operation="CREATE TABLE", output_rows=0),
            [],
        )

    def overwrite(self, df: DataFrame, name: TableName, *, exists: bool) -> Commit:
        return self._write_version(
            df, name, "CREATE OR REPLACE TABLE AS SELECT" if not exists else "WRITE", exists
        )

    def merge(self, df: DataFrame, name: TableName, keys: list[str], *, delete_missing: bool) -> Commit:
        current = self.spark.read.table(str(name))
        missing = [key for key in keys if key not in current.columns or key not in df.columns]
        if missing:
            raise TableError(
                f"merge into {name}: key column(s) {missing} missing from the table or the source"
            )
        if delete_missing:  # every row the table keeps is one of the source's
            merged = df
        else:
            kept = current.join(
                df.select(*keys), on=[current[key].eqNullSafe(df[key]) for key in keys], how="left_anti"
            )
            merged = kept.unionByName(df, allowMissingColumns=True)
        return self._write_version(merged, name, "MERGE", exists=True)

    def history(self, name: TableName) -> list[Commit]:
        return [Commit.model_validate(entry) for entry in self._history(name)]

    # -- internals ---------------------------------------------------------------------------------
    def _write_version(self, df: DataFrame, name: TableName, operation: str, exists: bool) -> Commit:
        previous = self._history(name) if exists else []
        version = (previous[0]["version"] + 1) if previous else 0
        location = self._version_path(name, version)
        # A leftover folder of an attempt that died before the switch is not a version: replace it.
        df.write.format("parquet").mode("overwrite").save(location)
        rows = self.spark.read.parquet(location).count()
        commit = Commit(version=version, timestamp=self._now(), operation=operation, output_rows=rows)
        self._register(name, location, commit, previous, exists=exists)
        return commit

    def _register(
        self,
        name: TableName,
        location: str,
        commit: Commit,
        previous: list[dict[str, Any]],
        *,
        exists: bool = False,
    ) -> None:
        history = [commit.model_dump(), *previous][:_KEPT_HISTORY]
        properties = _properties({HISTORY_PROPERTY: _json(history)})
        new_schema = self.spark.read.parquet(location).schema
        if exists and self.spark.read.table(str(name)).schema == new_schema:
            self.spark.sql(f"ALTER TABLE {name} SET LOCATION '{location}'")
            self.spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES {properties}")
        else:
            if exists:
                log.info(
                    "%s: schema changed, re-creating its catalog entry at version %d", name, commit.version
                )
                self.spark.sql(f"DROP TABLE {name}")
            self.spark.sql(
                f"CREATE TABLE {name} USING parquet LOCATION '{location}' TBLPROPERTIES {properties}"
            )
        self.spark.sql(f"REFRESH TABLE {name}")

    def _history(self, name: TableName) -> list[dict[str, Any]]:
        rows = self.spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
        for row in rows:
            if row["key"] == HISTORY_PROPERTY:
                return list(json.loads(row["value"]))
        return []

    def _version_path(self, name: TableName, version: int) -> str:
        rows = self.spark.sql(f"DESCRIBE SCHEMA EXTENDED {name.namespace}").collect()
        location = next(str(row[1]) for row in rows if str(row[0]).lower() == "location")
        return f"{location.rstrip('/')}/{name.table}/v{version:06d}"

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _properties(values: dict[str, str]) -> str:
    items = ", ".join(
        f"'{key}' = '{value.replace(chr(39), chr(92) + chr(39))}'" for key, value in values.items()
    )
    return f"({items})"
