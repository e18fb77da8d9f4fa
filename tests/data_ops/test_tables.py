"""The table manager on local Spark with Delta Lake: versions, merge on keys, time travel and
restore, and failures that change nothing."""

from __future__ import annotations

import pytest
from data_ops.errors import TableError
from data_ops.tables import TableManager
from pyspark.errors import PySparkException
from pyspark.sql import functions as F

SCHEMA = "member_id STRING, plan STRING, premium DOUBLE"


def _rows(spark, table: str) -> list[tuple]:
    return sorted(tuple(row) for row in spark.read.table(table).collect())


def test_create_overwrite_and_history(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.history"
    manager.create(table, spark.createDataFrame([], SCHEMA).schema)
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0)], SCHEMA), table)
    manager.overwrite(spark.createDataFrame([("m1", "gold", 11.0), ("m2", "silver", 5.0)], SCHEMA), table)
    assert _rows(spark, table) == [("m1", "gold", 11.0), ("m2", "silver", 5.0)]
    history = manager.history(table)
    # Delta's own operation names, as DESCRIBE HISTORY gives them on a workspace.
    assert [(c.version, c.operation, c.output_rows) for c in history] == [
        (2, "CREATE OR REPLACE TABLE AS SELECT", 2),
        (1, "CREATE OR REPLACE TABLE AS SELECT", 1),
        (0, "CREATE TABLE AS SELECT", 0),
    ]
    detail = spark.sql("DESCRIBE DETAIL spark_catalog.tables_test.`history`").first()
    assert detail["format"] == "delta"


def test_time_travel_and_restore_behave_as_on_a_workspace(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.travel"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0)], SCHEMA), table)
    manager.merge(spark.createDataFrame([("m2", "silver", 5.0)], SCHEMA), table, ["member_id"])
    assert _rows(spark, table) == [("m1", "gold", 10.0), ("m2", "silver", 5.0)]
    old = spark.sql(f"SELECT * FROM {table} VERSION AS OF 0").collect()
    assert sorted(tuple(row) for row in old) == [("m1", "gold", 10.0)]
    spark.sql(f"RESTORE TABLE {table} TO VERSION AS OF 0")
    assert _rows(spark, table) == [("m1", "gold", 10.0)]
    assert [c.operation for c in manager.history(table)] == [
        "RESTORE",
        "MERGE",
        "CREATE OR REPLACE TABLE AS SELECT",
    ]


def test_merge_with_delete_missing_leaves_a_full_recompute(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.recomputed"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0), ("m2", "silver", 5.0)], SCHEMA), table)
    recomputed = spark.createDataFrame([("m2", "silver", 6.0), ("m3", "gold", 1.0)], SCHEMA)
    manager.merge(recomputed, table, ["member_id"], delete_missing=True)
    assert _rows(spark, table) == [("m2", "silver", 6.0), ("m3", "gold", 1.0)]


def test_merge_upserts_and_a_rerun_changes_nothing(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.merged"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0), ("m2", "silver", 5.0)], SCHEMA), table)
    update = spark.createDataFrame([("m2", "gold", 7.5), ("m3", "bronze", 1.0)], SCHEMA)
    manager.merge(update, table, ["member_id"])
    expected = [("m1", "gold", 10.0), ("m2", "gold", 7.5), ("m3", "bronze", 1.0)]
    assert _rows(spark, table) == expected
    manager.merge(update, table, ["member_id"])
    assert _rows(spark, table) == expected
    history = manager.history(table)
    assert [c.operation for c in history][:2] == ["MERGE", "MERGE"]
    assert history[0].output_rows == 2  # the second merge rewrote its two rows, and only them


def test_merge_rejects_duplicate_source_keys(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.dupes"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0)], SCHEMA), table)
    duplicated = spark.createDataFrame([("m1", "gold", 1.0), ("m1", "silver", 2.0)], SCHEMA)
    with pytest.raises(TableError, match=r"keys \['member_id'\] more than once.*'m1'"):
        manager.merge(duplicated, table, ["member_id"])
    assert _rows(spark, table) == [("m1", "gold", 10.0)]


def test_a_write_that_fails_midway_leaves_the_table_and_history_as_they_were(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.atomic"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0)], SCHEMA), table)
    exploding = spark.range(1000).select(
        F.when(F.col("id") == 999, F.raise_error(F.lit("boom")))
        .otherwise(F.col("id").cast("string"))
        .alias("member_id"),
        F.lit("gold").alias("plan"),
        F.lit(1.0).alias("premium"),
    )
    with pytest.raises(PySparkException, match="boom"):
        manager.overwrite(exploding, table)
    with pytest.raises(PySparkException, match="boom"):
        manager.merge(exploding, table, ["member_id"])
    assert _rows(spark, table) == [("m1", "gold", 10.0)]
    assert [c.version for c in manager.history(table)] == [0]


def test_a_schema_change_gets_a_new_version_with_the_new_columns(spark) -> None:
    manager = TableManager(spark)
    table = "spark_catalog.tables_test.evolving"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0)], SCHEMA), table)
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0, "NY")], SCHEMA + ", state STRING"), table)
    assert spark.read.table(table).columns == ["member_id", "plan", "premium", "state"]
    assert [c.version for c in manager.history(table)] == [1, 0]


def test_duckdb_reads_the_current_delta_version_through_the_bridge(spark, spark_remote, tmp_path) -> None:
    import duckdb
    from lakehouse_standins.databricks.bridge import WarehouseBridge

    manager = TableManager(spark)
    table = "spark_catalog.tables_test.bridged"
    manager.overwrite(spark.createDataFrame([("m1", "gold", 10.0), ("m2", "gold", 5.0)], SCHEMA), table)
    manager.merge(spark.createDataFrame([("m2", "silver", 6.0)], SCHEMA), table, ["member_id"])
    warehouse = tmp_path / "warehouse.duckdb"
    assert "tables_test.bridged" in WarehouseBridge(warehouse, tmp_path / "bridge").to_duckdb(spark_remote)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT member_id, plan, premium FROM tables_test.bridged ORDER BY 1").fetchall()
        reader = con.execute(
            "SELECT sql FROM duckdb_views() WHERE schema_name = 'tables_test' AND view_name = 'bridged'"
        ).fetchone()
    assert rows == [("m1", "gold", 10.0), ("m2", "silver", 6.0)]
    assert reader is not None
    assert "delta_scan" in reader[0]  # read in place, no copy
