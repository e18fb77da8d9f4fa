# Databricks notebook source
# MAGIC %md
# MAGIC # Customer value
# MAGIC Summarises `marts.customers` for Dagster through Pipes: how many customers have at least
# MAGIC `min_orders` orders and what they are worth. Launched by the lakehouse Databricks client, which
# MAGIC passes the Pipes bootstrap, `min_orders` as a widget and user env vars in the Pipes extras.

# COMMAND ----------

import io
import json
import os
import threading
from contextlib import contextmanager

import duckdb
from dagster_pipes import (
    PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader,
    PipesBufferedFilesystemMessageWriterChannel,
    PipesUnityCatalogVolumesMessageWriter,
    open_dagster_pipes,
)

TABLE = "marts.customers"


class PromptVolumesMessageWriter(PipesUnityCatalogVolumesMessageWriter):
    """The Volumes message writer, minus ~2 s per run.

    The stock channel's loop sleeps a full second between checks and once more after its last
    upload, so closing Pipes takes 1-2 s; this channel waits on an event and closes in one write.
    """

    def make_channel(self, params):
        return _PromptChannel(params["path"], self.interval)


class _PromptChannel(PipesBufferedFilesystemMessageWriterChannel):
    def __init__(self, path, interval):
        super().__init__(path, interval=interval)
        self.every, self.index = interval, 1

    @contextmanager
    def buffered_upload_loop(self):
        closed = threading.Event()

        def loop():
            while not closed.wait(self.every):
                self.upload_pending()
            self.upload_pending()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            closed.set()
            thread.join(60)

    def upload_pending(self):
        messages = self.flush_messages()
        if messages:
            self.upload_messages_chunk(io.StringIO("\n".join(json.dumps(m) for m in messages)), self.index)
            self.index += 1


# COMMAND ----------


def table_exists(con, qualified):
    schema, name = qualified.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


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
