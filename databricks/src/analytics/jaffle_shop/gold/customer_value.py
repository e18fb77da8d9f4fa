# Databricks notebook source
# MAGIC %md
# MAGIC # Customer value
# MAGIC Summarises the customers mart for Dagster through Pipes: how many customers have at least
# MAGIC `min_orders` orders and what they are worth. Launched by the lakehouse Databricks client, which
# MAGIC passes the Pipes bootstrap, the widgets `customers_table` (a full Unity Catalog name) and
# MAGIC `min_orders`, and user env vars in the Pipes extras.

# COMMAND ----------

# MAGIC %pip install dagster-pipes==1.13.27

# COMMAND ----------

import os

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
    # User env vars arrive in the Pipes extras in every compute mode (a job cluster also has them
    # as real env vars); applying them here makes the rest of the notebook mode-agnostic.
    os.environ.update(pipes.extras.get("env", {}))
    segment = os.environ.get("LAKEHOUSE_SEGMENT", "all")
    customers_table = dbutils.widgets.get("customers_table")
    dbutils.widgets.text("min_orders", "1")
    min_orders = int(dbutils.widgets.get("min_orders"))

    # A missing table fails here with Spark's TABLE_OR_VIEW_NOT_FOUND, which fails the run.
    value = F.col("customer_lifetime_value")
    summary = (
        spark.table(customers_table)
        .where(F.col("number_of_orders") >= min_orders)
        .agg(
            F.count(F.lit(1)).alias("customers"),
            F.coalesce(F.sum(value), F.lit(0)).cast("double").alias("total_value"),
            F.count(F.when(value < 0, 1)).alias("negative"),
        )
        .first()
    )
    customers, total_value, negative = summary["customers"], summary["total_value"], summary["negative"]
    pipes.report_asset_materialization(
        metadata={
            "status": "ok",
            "source_table": customers_table,
            "customers": customers,
            "total_lifetime_value": float(total_value),
            "min_orders": min_orders,
            "segment": segment,
        }
    )
    pipes.report_asset_check(
        check_name="customers_have_value",
        passed=customers > 0 and negative == 0,
        metadata={"customers": customers, "negative_values": negative},
    )
