# Databricks notebook source
# MAGIC %md
# MAGIC # Customer value
# MAGIC Summarises `marts.customers` for Dagster through Pipes: how many customers have at least
# MAGIC `min_orders` orders and what they are worth. Launched by the lakehouse Databricks client, which
# MAGIC passes the Pipes bootstrap, `min_orders` as a widget and user env vars in the Pipes extras.

# COMMAND ----------

import os

import duckdb
from dagster_pipes import (
    PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader,
    open_dagster_pipes,
)
from lakehouse_pipes import PromptVolumesMessageWriter, table_exists

TABLE = "marts.customers"

# COMMAND ----------

# The message writer's interval bounds how stale Dagster's view is while the notebook runs; the
# last chunk is written when the session closes whatever the interval.
with open_dagster_pipes(
    context_loader=PipesUnityCatalogVolumesContextLoader(),
    message_writer=PromptVolumesMessageWriter(interval=1),
    params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets),
) as pipes:
    # User env vars arrive in the Pipes extras in every compute mode (a job cluster also has them
    # as real env vars); applying them here makes the rest of the notebook mode-agnostic.
    os.environ.update(pipes.extras.get("env", {}))
    segment = os.environ.get("LAKEHOUSE_SEGMENT", "all")
    dbutils.widgets.text("min_orders", "1")
    min_orders = int(dbutils.widgets.get("min_orders"))
    warehouse = os.environ["LAKEHOUSE_DUCKDB_PATH"]

    with duckdb.connect(warehouse, read_only=True) as con:
        if not table_exists(con, TABLE):
            pipes.log.warning(f"{TABLE} is missing from {warehouse}: build the jaffle_shop marts first")
            pipes.report_asset_materialization(
                metadata={"status": "source table missing", "source_table": TABLE, "customers": 0}
            )
            pipes.report_asset_check(
                check_name="customers_have_value",
                passed=False,
                metadata={"reason": f"{TABLE} does not exist in the warehouse"},
            )
        else:
            customers, total_value, negative = con.execute(
                f"""
                select count(*), coalesce(sum(customer_lifetime_value), 0),
                       count(*) filter (where customer_lifetime_value < 0)
                from {TABLE} where number_of_orders >= ?
                """,
                [min_orders],
            ).fetchone()
            pipes.report_asset_materialization(
                metadata={
                    "status": "ok",
                    "source_table": TABLE,
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
