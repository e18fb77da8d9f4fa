"""The inner-loop benchmark end to end at its smallest: one round on the sample feeds, on the session's
Spark (the member tables it rewrites are materialized views, and this worker runs one test at a time)."""

import json
from pathlib import Path

import pytest
from cli_support import require_cli
from lakehouse_cli.bench.__main__ import main
from lakehouse_cli.bench.inner_loop import SELECTION
from lakehouse_resources.settings import LakehouseSettings

pytestmark = [pytest.mark.slow, pytest.mark.databricks_cli]


def test_the_loop_redeploys_the_edit_and_rematerializes_the_silver_tables(
    local_settings: LakehouseSettings, tmp_path: Path, spark_remote: str
) -> None:
    require_cli()
    # The benchmark itself raises when the redeploy did not upload the edit or a case left other
    # row counts than the first; here, what the record says.
    args = ["--tiny", "--only", "loop", "--bench-dir", str(tmp_path / "bench")]
    assert main([*args, "--domains-spark-remote", spark_remote]) == 0
    result = json.loads((tmp_path / "bench" / "results-tiny.json").read_text())["inner_loop"]
    assert set(result["medians"]) == {"lakehouse_cli", "direct_update"}
    assert result["selection"] == SELECTION
    assert result["silver_rows"]
    assert all(rows > 0 for rows in result["silver_rows"].values())
    assert result["deploy"].startswith("bundle deploy: databricks CLI")
    phases = result["cli_phases"]
    assert {"join_standins", "definitions_and_redeploy", "update_spark_pipelines_run"} <= set(phases)
    assert sum(phases.values()) == pytest.approx(result["medians"]["lakehouse_cli"], rel=0.01)
