"""The bridge between the local DuckDB warehouse and the stand-in's Spark, in both directions.

On a workspace every tool writes Unity Catalog tables. Locally Sling, dlt and dbt write DuckDB,
and Spark writes its own Hive warehouse, so the stand-in makes each side see the other's tables
under the names the `local` target gives them (`lakehouse_resources.platform.catalog`):

- DuckDB -> Spark, before a task: every table of the bridged schemas (raw, staging, marts) is
  copied to one Parquet file under `<bridge_dir>/<schema>/<table>/` and registered as an external
  table `spark_catalog.<catalog>_<schema>.<table>`. A copy, not a live read: Spark has no DuckDB
  reader, and a copy taken while the task's asset holds the `duckdb_warehouse` pool is consistent.
  It is skipped while the warehouse file has not changed since the last copy.
- Spark -> DuckDB, after a task succeeds: every table in Spark's managed warehouse
  (`<warehouse>/<database>.db/<table>/`, a Delta table) gets a DuckDB view `<database>.<table>`
  over `delta_scan` (DuckDB's Delta extension, shipped in a PyPI package), so analysts and
  downstream assets read the table's current version in place, with no copy.

Tasks that touch DuckDB run while their asset holds the `duckdb_warehouse` pool (limit 1), so the
bridge's read-only copy and its view writes never meet another writer from the pipeline; a lock
held by something else (an analyst's session) is retried, then named in the run's error.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
from lakehouse_resources.paths import repo_root
from lakehouse_resources.platform.catalog import local_rule
from lakehouse_resources.platform.naming import NamespaceRule, TableName
from lakehouse_resources.tools import install_duckdb_extensions

from lakehouse_standins.databricks.spark_runtime import private_session

BRIDGED_SCHEMAS = ("raw", "staging", "marts")
_LOCK_WAIT_SECONDS = 30.0
# One catalog per Spark server, however many bridges talk to it (the tests run several stand-ins
# on one server): two bridges registering the same name at once would collide. A lock per server,
# so a bridge retrying an unreachable server never holds up the bridges of another.
_CATALOG_LOCKS: dict[str, threading.Lock] = {}
_CATALOG_LOCKS_GUARD = threading.Lock()


def _catalog_lock(spark_remote: str) -> threading.Lock:
    with _CATALOG_LOCKS_GUARD:
        return _CATALOG_LOCKS.setdefault(spark_remote, threading.Lock())


class BridgeError(RuntimeError):
    """The warehouse could not be bridged; the run fails with this message."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class WarehouseBridge:
    def __init__(
        self,
        warehouse_path: Path,
        bridge_dir: Path,
        *,
        catalog: str = "main",
        schemas: Sequence[str] = BRIDGED_SCHEMAS,
        rule: NamespaceRule | None = None,
    ) -> None:
        self.warehouse_path = Path(warehouse_path)
        self.bridge_dir = Path(bridge_dir).absolute()
        self.catalog = catalog
        self.schemas = tuple(schemas)
        # The local target's rule (the bundle's targets overlay): main.marts.x -> spark_catalog.main_marts.x
        self.rule = rule or local_rule(repo_root())
        self._copied: tuple[object, ...] | None = None
        # Tables registered in Spark by this bridge, with the columns they were registered with.
        self._registered: dict[str, str] = {}
        self._lock = threading.Lock()

    def _fingerprint(self) -> tuple[object, ...]:
        stats = []
        for path in (self.warehouse_path, Path(f"{self.warehouse_path}.wal")):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                stats.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(stats)

    @contextlib.contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                con = duckdb.connect(str(self.warehouse_path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise BridgeError(
                        f"The local warehouse {self.warehouse_path} is not available: {exc}"
                    ) from exc
                time.sleep(0.5)
        try:
            yield con
        finally:
            con.close()

    def to_spark(self, spark_remote: str) -> list[str]:
        """Copy the bridged DuckDB tables to Parquet and register them in Spark; the names registered."""
        with self._lock:
            if not self.warehouse_path.exists() or self._fingerprint() == self._copied:
                return []
            fingerprint = self._fingerprint()
            with self._connect(read_only=True) as con:
                tables = self._export(con)
            try:
                with _catalog_lock(spark_remote):
                    self._register(spark_remote, tables)
            except Exception as exc:  # a Spark error: the run fails naming it, the stand-in lives on
                raise BridgeError(f"The warehouse tables could not be registered in Spark: {exc}") from exc
            self._copied = fingerprint
            return [str(name) for name, _, _ in tables]

    def _export(self, con: duckdb.DuckDBPyConnection) -> list[tuple[TableName, Path, str]]:
        placeholders = ", ".join("?" for _ in self.schemas)
        found = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = current_database() and table_schema in ({placeholders}) "
            "order by 1, 2",
            list(self.schemas),
        ).fetchall()
        exported = []
        for schema, table in found:
            if table.startswith("_"):  # dlt's bookkeeping (_dlt_loads, ...), not data
                continue
            folder = self.bridge_dir / schema / table
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / ".part-0.parquet.tmp"
            con.execute(
                f"copy (select * from {_quote(schema)}.{_quote(table)}) "
                f"to {_sql_string(str(partial))} (format parquet)"
            )
            os.replace(partial, folder / "part-0.parquet")
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            name = self.rule.resolve_table(TableName(self.catalog, schema, table))
            exported.append((name, folder, repr(columns)))
        return exported

    def _register(self, spark_remote: str, tables: list[tuple[TableName, Path, str]]) -> None:
        spark = private_session(spark_remote)
        try:
            kinds: dict[str, dict[str, str]] = {}
            for name, folder, columns in tables:
                if self._registered.get(str(name)) == columns:
                    # Same columns, new file at the same place: Spark only forgets its file listing.
                    spark.sql(f"refresh table {name}")
                    continue
                database = f"{name.catalog}.{name.schema}"
                if name.schema not in kinds:
                    spark.sql(f"create database if not exists {database}")
                    kinds[name.schema] = {t.name: t.tableType for t in spark.catalog.listTables(database)}
                kind = kinds[name.schema].get(name.table)
                if kind == "MANAGED":
                    continue  # Spark's own table of that name wins; never drop its data
                if kind is not None:
                    spark.sql(f"drop table {name}")  # external: drops the name, not the files
                spark.sql(f"create table {name} using parquet location {_sql_string(str(folder))}")
                self._registered[str(name)] = columns
        finally:
            spark.stop()

    def to_duckdb(self, spark_remote: str) -> list[str]:
        """Create or refresh a DuckDB view over every table Spark manages; the views' names."""
        try:
            tables = _managed_tables(spark_remote)
        except Exception as exc:
            raise BridgeError(f"Spark's tables could not be listed: {exc}") from exc
        if not tables:
            return []
        install_duckdb_extensions()
        with self._lock, self._connect(read_only=False) as con:
            for database, name, folder in tables:
                con.execute(f"create schema if not exists {_quote(database)}")
                con.execute(
                    f"create or replace view {_quote(database)}.{_quote(name)} as select * from {duckdb_reader(folder)}"
                )
            con.close()
            # Our own write must not make the next task copy every table again.
            if self._copied is not None:
                self._copied = self._fingerprint()
        return [f"{database}.{name}" for database, name, _ in tables]


def duckdb_reader(folder: Path) -> str:
    """The DuckDB table function that reads a Spark table's folder as its format needs."""
    if (folder / "_delta_log").is_dir():
        return f"delta_scan({_sql_string(str(folder))})"
    # A table someone created `USING parquet` on purpose: its files as they are.
    files = _sql_string(str(folder / "**" / "*.parquet"))
    return f"read_parquet({files}, hive_partitioning = true)"


def _managed_tables(spark_remote: str) -> list[tuple[str, str, Path]]:
    spark = private_session(spark_remote)
    try:
        warehouse = spark.conf.get("spark.sql.warehouse.dir") or ""
    finally:
        spark.stop()
    root = Path(warehouse.removeprefix("file:"))
    return [
        (database.name.removesuffix(".db"), table.name, table)
        for database in sorted(root.glob("*.db"))
        for table in sorted(database.iterdir())
        if (table / "_delta_log").is_dir() or (table.is_dir() and any(table.rglob("*.parquet")))
    ]
