"""Every benchmark runs end to end at a tiny scale (no timing assertions: the machine is shared)."""

import json
import re
from pathlib import Path

import pytest
from lakehouse_cli.bench.__main__ import main
from lakehouse_cli.bench.run import ALL
from lakehouse_resources.settings import LakehouseSettings

pytestmark = pytest.mark.slow


def test_tiny_run_writes_results_and_docs(
    local_settings: LakehouseSettings, tmp_path: Path, spark_remote: str
) -> None:
    docs = tmp_path / "benchmarks.md"
    # Every Spark case runs on the session's Spark (one JVM start fewer): this worker's
    # tests run one at a time, and the domains' tables are materialized views each update rewrites.
    args = [
        "--tiny",
        "--bench-dir",
        str(tmp_path / "bench"),
        "--docs",
        str(docs),
        "--spark-remote",
        spark_remote,
        "--domains-spark-remote",
        spark_remote,
        # The inner loop has a test of its own (test_inner_loop_run.py), on another worker.
        "--only",
        *(name for name in ALL if name != "loop"),
    ]
    assert main(args) == 0
    results = json.loads((tmp_path / "bench" / "results-tiny.json").read_text())
    for name in (
        "ingest_2k",
        "incremental_2k",
        "pipeline_2k",
        "defs_dbt_core_20_models",
        "pipes_noop_notebook",
        "pipes_spark_notebook",
        "dev_load",
        "medallion_2k",
        "delta_vs_parquet_2k",
        "bundle_deploy",
    ):
        assert results[name]["medians"], name
    assert results["incremental_2k"]["ratios"]["append_1pct_reload"] > 0
    # The stock peer of the jaffle shop path: a user's own project, run with the defaults a user gets.
    assert results["pipeline_2k"]["vs_stock"]["dagster"] > 0
    stock = tmp_path / "bench" / "work-tiny" / "stock_project"
    for source in (stock / "definitions.py", stock / "project.py"):
        assert not re.search(r"^\s*(from|import) lakehouse", source.read_text(), re.MULTILINE), source
    log = (stock / "last_run.log").read_text()
    assert "multiprocess executor" in log  # the default on an instance with a DAGSTER_HOME
    assert "Unable to do partial parsing" not in log  # the manifest prepared once serves every run
    # The peers' gold equals the domains' (a mismatch raises before results are written).
    assert results["medallion_2k"]["gold"]["eligible_members"]["rows"] > 0
    assert results["medallion_2k"]["vs_spark_job"]["spark_job"] == 1.0
    assert set(results["delta_vs_parquet_2k"]["delta_vs_parquet"]) == {"write", "upsert", "duckdb"}
    assert results["machine"]["cores"] >= 1
    table = docs.read_text()
    assert "| ingest_2k | dagster_asset |" in table
    assert "cores" in table
