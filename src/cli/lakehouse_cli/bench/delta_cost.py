"""What Delta costs against the Spark Parquet tables it replaced, on the same data and server.

Cases, interleaved per round (`timing.interleaved`), each the median of its rounds:
- `write_parquet` / `write_delta`: `rows` claim lines written as a new table (`saveAsTable`);
- `upsert_parquet` / `upsert_delta`: a tenth of the rows changed plus 1% new ones, upserted on the
  key. Delta is the table manager's `MERGE INTO`; Parquet is what the replaced versioned store did:
  the current rows whose keys the change lacks, plus the change, written as the next version;
- `duckdb_parquet` / `duckdb_delta`: DuckDB creates the bridge's view over the table
  (`read_parquet` before, `delta_scan` now) and sums the amounts per member through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakehouse_cli.bench.timing import interleaved, summarize, timed

SCHEMA = "bench_delta_cost"


def run(work: Path, rows: int, repeat: int, spark_remote: str | None = None) -> dict[str, Any]:
    from contextlib import nullcontext

    from lakehouse_standins.databricks.spark_runtime import SparkRuntime

    runtime = SparkRuntime(work / "delta_cost_spark") if spark_remote is None else nullcontext()
    with runtime as owned:
        remote = spark_remote or owned.remote()  # type: ignore[union-attr]
        return _measure(remote, work, rows, repeat)


def _measure(remote: str, work: Path, rows: int, repeat: int) -> dict[str, Any]:
    import duckdb
    from data_ops.tables import TableManager
    from lakehouse_resources.tools import install_duckdb_extensions
    from lakehouse_standins.databricks.bridge import duckdb_reader
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.remote(remote).create()
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS spark_catalog.{SCHEMA}")
    members = max(rows // 10, 1)
    lines = spark.range(rows).select(
        F.col("id").alias("claim_line_id"),
        (F.col("id") % members).alias("member_id"),
        ((F.col("id") * 7) % 100_000 / 100).alias("paid_amount"),
    )
    change = lines.where(F.col("claim_line_id") % 10 == 0).withColumn("paid_amount", F.col("paid_amount") + 1)
    change = change.unionByName(
        spark.range(rows, rows + max(rows // 100, 1)).select(
            F.col("id").alias("claim_line_id"),
            (F.col("id") % members).alias("member_id"),
            F.lit(1.0).alias("paid_amount"),
        )
    )
    manager = TableManager(spark)
    version = [0]

    def table(fmt: str) -> str:
        return f"spark_catalog.{SCHEMA}.claims_{fmt}"

    def write(fmt: str) -> float:
        return timed(lambda: lines.write.format(fmt).mode("overwrite").saveAsTable(table(fmt)))

    def upsert_parquet() -> float:
        # Untimed: the table as it was before each round's upsert.
        lines.write.format("parquet").mode("overwrite").saveAsTable(table("parquet"))
        version[0] += 1
        target = f"{table('parquet')}_v{version[0]}"

        def rewrite() -> None:
            current = spark.read.table(table("parquet"))
            kept = current.join(change.select("claim_line_id"), "claim_line_id", "left_anti")
            kept.unionByName(change).write.format("parquet").mode("overwrite").saveAsTable(target)

        seconds = timed(rewrite)
        spark.sql(f"DROP TABLE {target}")
        return seconds

    def upsert_delta() -> float:
        lines.write.format("delta").mode("overwrite").saveAsTable(table("delta"))
        return timed(lambda: manager.merge(change, table("delta"), ["claim_line_id"]))

    install_duckdb_extensions()
    warehouse = work / "delta_cost.duckdb"

    def through_duckdb(fmt: str) -> float:
        rows = spark.sql(f"DESCRIBE TABLE EXTENDED {table(fmt)}").where("col_name = 'Location'").collect()
        folder = Path(str(rows[0]["data_type"]).removeprefix("file:"))
        with duckdb.connect(str(warehouse)) as con:

            def read() -> None:
                con.execute(f"create or replace view claims_{fmt} as select * from {duckdb_reader(folder)}")
                con.execute(f"select member_id, sum(paid_amount) from claims_{fmt} group by 1").fetchall()

            return timed(read)

    cases = {
        "write_parquet": lambda: write("parquet"),
        "write_delta": lambda: write("delta"),
        "upsert_parquet": upsert_parquet,
        "upsert_delta": upsert_delta,
        "duckdb_parquet": lambda: through_duckdb("parquet"),
        "duckdb_delta": lambda: through_duckdb("delta"),
    }
    try:
        times = interleaved(cases, repeat, warmup=True)
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{SCHEMA} CASCADE")
        spark.stop()
    result = summarize(times, "write_parquet", rows=rows)
    medians: dict[str, float] = result["medians"]  # type: ignore[assignment]
    result["delta_vs_parquet"] = {
        step: medians[f"{step}_delta"] / medians[f"{step}_parquet"] for step in ("write", "upsert", "duckdb")
    }
    return result
