# Databricks notebook source
# MAGIC %md
# MAGIC # Customer tiers
# MAGIC Writes a table: every customer of `customers_table` with a value tier (gold, silver, bronze)
# MAGIC into `gold_customer_tiers_table` (both full Unity Catalog names from widgets), replacing the previous
# MAGIC version. Downstream readers take it from there; Dagster gets the row counts through Pipes.

# COMMAND ----------

# MAGIC %pip install dagster-pipes==1.13.27

# COMMAND ----------

from dagster_pipes import (
    PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader,
    PipesUnityCatalogVolumesMessageWriter,
    open_dagster_pipes,
)
from pyspark.sql import functions as F

# COMMAND ----------

# Pipes as the lakehouse client launches it: context and messages on a Unity Catalog Volume.
with open_dagster_pipes(
    context_loader=PipesUnityCatalogVolumesContextLoader(),
    message_writer=PipesUnityCatalogVolumesMessageWriter(interval=1),
    params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets),
) as pipes:
    customers_table = dbutils.widgets.get("customers_table")
    tiers_table = dbutils.widgets.get("gold_customer_tiers_table")
    dbutils.widgets.text("gold_from", "100")
    dbutils.widgets.text("silver_from", "30")
    gold_from = float(dbutils.widgets.get("gold_from"))
    silver_from = float(dbutils.widgets.get("silver_from"))

    value = F.col("customer_lifetime_value")
    tiers = spark.table(customers_table).select(
        "customer_id",
        value.cast("double").alias("lifetime_value"),
        F.when(value >= gold_from, "gold")
        .when(value >= silver_from, "silver")
        .otherwise("bronze")
        .alias("tier"),
    )
    # The schema is the bundle's to create on a workspace; creating it if missing is harmless there.
    spark.sql(f"create schema if not exists {tiers_table.rsplit('.', 1)[0]}")
    tiers.write.mode("overwrite").saveAsTable(tiers_table)

    counts = {row["tier"]: row["count"] for row in spark.table(tiers_table).groupBy("tier").count().collect()}
    pipes.report_asset_materialization(
        metadata={
            "table": tiers_table,
            "dagster/row_count": sum(counts.values()),
            "customers_per_tier": {"raw_value": counts, "type": "json"},
        }
    )
    pipes.report_asset_check(
        check_name="every_customer_has_a_tier",
        passed=spark.table(tiers_table).where(F.col("tier").isNull()).count() == 0,
        metadata={"tiers": len(counts)},
    )
