"""Databricks Pipes round trip on the local stand-in for a notebook that does nothing.

No `from __future__ import annotations`: Dagster resolves the asset's resource annotation.

Overhead = the Dagster step's wall time minus the stand-in's own run time (submit to process
end), i.e. what the client adds: Volume set-up and clean-up, submit, polling, message reading.
"""

import os
from pathlib import Path

from lakehouse_cli.bench.timing import median, timed

NOOP_NOTEBOOK = """# Databricks notebook source
# MAGIC %pip install dagster-pipes

# COMMAND ----------

from dagster_pipes import (PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader, PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
        params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets)) as pipes:
    pipes.report_asset_materialization(metadata={"status": "ok"})
"""


SPARK_NOOP_NOTEBOOK = """# Databricks notebook source
# MAGIC %pip install dagster-pipes

# COMMAND ----------

from dagster_pipes import (PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader, PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
        params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets)) as pipes:
    rows = spark.sql("select 1 as one").collect()
    pipes.report_asset_materialization(metadata={"status": "ok", "rows": len(rows)})
"""


def resident_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(work: Path, repeat: int, spark_remote: str | None = None) -> dict[str, dict[str, object]]:
    """`pipes_noop_notebook` (Pipes only) and `pipes_spark_notebook` (a no-op Spark query, with the
    cold first task, the stand-in's and Spark's resident memory and the bridge's cost).

    With `spark_remote` (a Connect server already up, e.g. the test session's) the stand-in starts
    no Spark of its own, and the first task's time and the JVM's memory are not reported."""
    import dagster as dg
    from lakehouse_resources.databricks import (
        DatabricksTaskSpec,
        LakehouseDatabricksClient,
        databricks_client_from_settings,
    )
    from lakehouse_resources.settings import get_settings
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.bridge import WarehouseBridge
    from lakehouse_standins.databricks.sample import write_sample_warehouse
    from lakehouse_standins.databricks.workspace import USER_NAME

    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"):
        os.environ.pop(name, None)
    code = work / "notebooks"
    code.mkdir(parents=True, exist_ok=True)
    (code / "noop.py").write_text(NOOP_NOTEBOOK)
    (code / "spark_noop.py").write_text(SPARK_NOOP_NOTEBOOK)
    warehouse = write_sample_warehouse(work / "pipes_warehouse.duckdb")
    # Where the notebooks are imported into the stand-in's workspace, as a deploy would put them.
    workspace_folder = f"/Workspace/Users/{USER_NAME}/bench"

    def asset(name: str) -> dg.AssetsDefinition:
        task = DatabricksTaskSpec.notebook(f"{workspace_folder}/{name}")

        @dg.asset(name=name)
        def _asset(context: dg.AssetExecutionContext, databricks: LakehouseDatabricksClient):
            yield from databricks.run(context=context, task=task).get_results()

        return _asset

    results: dict[str, dict[str, object]] = {}
    with DatabricksStandin(
        work / "standin", warehouse, spark_dir=work / "spark", spark_remote=spark_remote
    ) as standin:
        standin.workspace.import_tree(code, workspace_folder)
        settings = get_settings(databricks_standin_port=int(standin.url.rsplit(":", 1)[1]))
        client = databricks_client_from_settings(settings, token=standin.token, token_file=None)

        def measure(notebook: dg.AssetsDefinition) -> tuple[list[float], list[float]]:
            round_trip, run_time = [], []
            for _ in range(repeat + 1):
                seconds = timed(lambda: dg.materialize([notebook], resources={"databricks": client}))
                last = standin.runs[-1]
                round_trip.append(seconds)
                run_time.append((last.end_time - last.start_time) / 1000)
            return round_trip[1:], run_time[1:]  # the first run imports and warms up

        # Spark starts in the background with the stand-in: the first task waits for it.
        spark_noop = asset("spark_noop")
        cold = timed(lambda: dg.materialize([spark_noop], resources={"databricks": client}))
        own_spark = spark_remote is None
        extra = {"cold_first_task": [cold]} if own_spark else None
        results["pipes_spark_notebook"] = _summary(*measure(spark_noop), extra=extra)
        results["pipes_noop_notebook"] = _summary(*measure(asset("noop")))
        pid = standin.spark.pid
        memory = {"standin_process": resident_mib(os.getpid())}
        if own_spark and pid:
            memory["spark_jvm"] = resident_mib(pid)
        results["pipes_spark_notebook"]["memory_mib"] = memory
        # The bridge's copy of the warehouse into Spark, and Spark's tables back as DuckDB views.
        remote = standin.spark.remote()
        bridge = WarehouseBridge(warehouse, work / "bridge")
        first_copy = timed(lambda: bridge.to_spark(remote))
        os.utime(warehouse)  # the warehouse changed (as after a dbt run): copy again, refresh in Spark
        next_copy = timed(lambda: bridge.to_spark(remote))
        to_duckdb = timed(lambda: bridge.to_duckdb(remote))
        results["pipes_spark_notebook"]["bridge_seconds"] = {
            "to_spark_first": first_copy,
            "to_spark_after_a_change": next_copy,
            "to_duckdb": to_duckdb,
        }
    return results


def _summary(
    round_trip: list[float], run_time: list[float], extra: dict[str, list[float]] | None = None
) -> dict[str, object]:
    overhead = [trip - own for trip, own in zip(round_trip, run_time, strict=True)]
    times = {"round_trip": round_trip, "standin_run": run_time, "overhead": overhead, **(extra or {})}
    return {
        "times": times,
        "baseline": "standin_run",
        "medians": {name: median(values) for name, values in times.items()},
        "ratios": {},
    }
