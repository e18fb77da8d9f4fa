"""Row counts of the tables a pipeline update wrote, for `flow_progress`' `num_output_rows`.

A managed Delta table's rows are the sum of its files' `numRecords` statistics, read with delta-rs
from the table's log in milliseconds. Counting through Spark instead first refreshes each table's
snapshot on the server: 2-3 s of every update on two cores (bench/inner_loop.py). A table outside
the warehouse folder, without statistics or with deletion vectors is counted by Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def row_counts(spark: Any, tables: list[str]) -> dict[str, int]:
    """Rows of each of `tables` that exists in the session's catalog (a folder left behind by a
    dropped table, or by a Spark started anew, is not a table)."""
    existing = [table for table in tables if spark.catalog.tableExists(table)]
    if not existing:
        return {}
    warehouse = Path((spark.conf.get("spark.sql.warehouse.dir") or "").removeprefix("file:"))
    counts: dict[str, int] = {}
    for table in existing:
        rows = logged_rows(managed_folder(warehouse, table))
        if rows is not None:
            counts[table] = rows
    return counts | counted_by_spark(spark, [table for table in existing if table not in counts])


def managed_folder(warehouse: Path, table: str) -> Path | None:
    """Where Spark keeps a managed table of its session catalog: `<warehouse>/<schema>.db/<table>`."""
    parts = table.replace("`", "").split(".")
    if len(parts) == 2:
        parts = ["spark_catalog", *parts]
    if len(parts) != 3 or parts[0] != "spark_catalog" or not str(warehouse):
        return None
    return warehouse / f"{parts[1].lower()}.db" / parts[2].lower()


def logged_rows(folder: Path | None) -> int | None:
    """The sum of the table's files' `numRecords`, or None when its log cannot say."""
    if folder is None or not (folder / "_delta_log").is_dir():
        return None
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    try:
        table = DeltaTable(str(folder))
        if "deletionVectors" in (table.protocol().reader_features or []):
            return None  # a file's numRecords still counts the rows its deletion vector hides
        actions = table.get_add_actions(flatten=True)
    except DeltaError:  # a protocol delta-rs does not read (Spark still does)
        return None
    if "num_records" not in actions.column_names:
        return None
    records = actions.column("num_records").to_pylist()
    if any(value is None for value in records):
        return None
    return sum(int(value) for value in records)


def counted_by_spark(spark: Any, tables: list[str]) -> dict[str, int]:
    """Every table's rows in one query (a count each would be a job and a round trip each)."""
    if not tables:
        return {}
    query = " UNION ALL ".join(
        f"SELECT {index} AS table_index, count(1) AS table_rows FROM {table}"
        for index, table in enumerate(tables)
    )
    return {tables[int(row["table_index"])]: int(row["table_rows"]) for row in spark.sql(query).collect()}
