"""The stand-in counts a pipeline's tables from their Delta logs, and through Spark where a log
cannot say; either way the figure is the table's rows as Spark counts them."""

from pathlib import Path

from lakehouse_standins.databricks.spark_runtime import private_session
from lakehouse_standins.databricks.table_rows import logged_rows, managed_folder, row_counts

SCHEMA = "spark_catalog.table_rows_test"


def test_a_managed_table_lives_in_its_schema_folder_of_the_warehouse() -> None:
    warehouse = Path("/w")
    assert managed_folder(warehouse, "spark_catalog.Member.Silver_X") == warehouse / "member.db" / "silver_x"
    assert managed_folder(warehouse, "`member`.`silver_x`") == warehouse / "member.db" / "silver_x"
    assert managed_folder(warehouse, "main.member.silver_x") is None  # another catalog: Spark counts it
    assert logged_rows(None) is None


def test_a_folder_without_a_delta_log_has_no_logged_rows(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "part-0.parquet").write_bytes(b"")
    assert logged_rows(tmp_path / "t") is None


def test_rows_from_the_log_equal_sparks_count_and_deletion_vectors_go_to_spark(spark_remote: str) -> None:
    spark = private_session(spark_remote)
    try:
        spark.sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        spark.sql(f"CREATE SCHEMA {SCHEMA}")
        appended, deleted = f"{SCHEMA}.appended", f"{SCHEMA}.deleted"
        spark.range(1_000).write.format("delta").saveAsTable(appended)
        spark.range(234).write.format("delta").mode("append").saveAsTable(appended)
        spark.range(500).write.format("delta").saveAsTable(deleted)
        spark.sql(f"ALTER TABLE {deleted} SET TBLPROPERTIES ('delta.enableDeletionVectors' = true)")
        spark.sql(f"DELETE FROM {deleted} WHERE id < 100")
        warehouse = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:"))

        assert logged_rows(managed_folder(warehouse, appended)) == 1_234
        # A file's numRecords still counts the rows its deletion vector hides: the log cannot say.
        assert logged_rows(managed_folder(warehouse, deleted)) is None
        counts = row_counts(spark, [appended, deleted, f"{SCHEMA}.never_written"])
        assert counts == {appended: 1_234, deleted: 400}
        assert counts == {table: spark.table(table).count() for table in (appended, deleted)}
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        spark.stop()
