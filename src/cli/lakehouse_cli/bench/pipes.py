"""Databricks Pipes round trip on the local stand-in for a notebook that does nothing.

No `from __future__ import annotations`: Dagster resolves the asset's resource annotation.

Overhead = the Dagster step's wall time minus the stand-in's own run time (submit to process
end), i.e. what the client adds: Volume set-up and clean-up, submit, polling, message reading.
"""

import os
from pathlib import Path

from lakehouse_cli.bench.timing import median, timed

NOOP_NOTEBOOK = """# Databricks notebook source
from dagster_pipes import (PipesDatabricksNotebookWidgetsParamsLoader,
    PipesUnityCatalogVolumesContextLoader, PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
        params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets)) as pipes:
    pipes.report_asset_materialization(metadata={"status": "ok"})
"""


def run(work: Path, repeat: int) -> dict[str, object]:
    import dagster as dg
    from lakehouse_resources.databricks import (
        DatabricksTaskSpec,
        LakehouseDatabricksClient,
        databricks_client_from_settings,
    )
    from lakehouse_resources.settings import get_settings
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse

    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"):
        os.environ.pop(name, None)
    code = work / "notebooks"
    code.mkdir(parents=True, exist_ok=True)
    (code / "noop.py").write_text(NOOP_NOTEBOOK)
    warehouse = write_sample_warehouse(work / "pipes_warehouse.duckdb")
    task = DatabricksTaskSpec.notebook(str(code / "noop.py"))

    @dg.asset(name="noop")
    def noop(context: dg.AssetExecutionContext, databricks: LakehouseDatabricksClient):
        yield from databricks.run(context=context, task=task).get_results()

    round_trip: list[float] = []
    run_time: list[float] = []
    with DatabricksStandin(work / "standin", warehouse, code_roots=[code]) as standin:
        settings = get_settings(databricks_standin_port=int(standin.url.rsplit(":", 1)[1]))
        client = databricks_client_from_settings(settings, token=standin.token, token_file=None)
        for _ in range(repeat + 1):
            seconds = timed(lambda: dg.materialize([noop], resources={"databricks": client}))
            last = standin.runs[-1]
            round_trip.append(seconds)
            run_time.append((last.end_time - last.start_time) / 1000)
    round_trip, run_time = round_trip[1:], run_time[1:]  # the first run imports and warms up
    overhead = [trip - own for trip, own in zip(round_trip, run_time, strict=True)]
    return {
        "times": {"round_trip": round_trip, "standin_run": run_time, "overhead": overhead},
        "baseline": "standin_run",
        "medians": {
            "round_trip": median(round_trip),
            "standin_run": median(run_time),
            "overhead": median(overhead),
        },
        "ratios": {},
    }
