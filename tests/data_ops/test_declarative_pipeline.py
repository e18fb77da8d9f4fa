"""The member pipelines run unchanged under open-source `spark-pipelines`, one pipeline per layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from data_ops.log import parse_events
from lakehouse_cli.bench.medallion_feeds import generate
from medallion_conf import spec_datasets
from pipeline_files import BUNDLE_SRC

SCHEMA = "spark_catalog.member_enrollment_sdp"


def run_pipeline(folder: Path, layer: str, configuration: dict[str, str], remote: str) -> str:
    """Write a pipeline spec for one layer's files and run it; the run's output."""
    root = folder / layer
    root.mkdir()
    (root / "src").symlink_to(BUNDLE_SRC)
    spec = {
        "name": f"member_enrollment_{layer}",
        "catalog": "spark_catalog",
        "database": SCHEMA.split(".")[1],
        "storage": (root / "storage").as_uri(),
        "configuration": configuration,
        "libraries": [{"glob": {"include": f"src/member/enrollment/{layer}/**"}}],
    }
    (root / "spark-pipeline.yml").write_text(json.dumps(spec))  # YAML is a superset of JSON
    result = subprocess.run(
        [sys.executable, "-m", "pyspark.pipelines.cli", "run", "--spec", str(root / "spark-pipeline.yml")],
        env={**os.environ, "SPARK_REMOTE": remote}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_bronze_then_silver_pipelines_write_tables_and_report_expectations(
    spark, spark_remote, tmp_path
) -> None:
    feeds = generate(tmp_path / "landing", rows=600)
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    configuration = {
        "lakehouse.landing_root": str(tmp_path / "landing" / "member" / "enrollment" / "landing")
    }
    for domain, _, dataset in spec_datasets():
        if domain == "member" and dataset["layer"] != "gold":
            layer, name = dataset["layer"], dataset["name"]
            configuration[f"lakehouse.table.{layer}.{name}"] = f"{SCHEMA}.{layer}_{name}"
            configuration[f"lakehouse.expectations.{layer}.{name}"] = json.dumps(
                dataset.get("expectations", [])
            )
    output = run_pipeline(tmp_path, "bronze", configuration, spark_remote)
    output += run_pipeline(tmp_path, "silver", configuration, spark_remote)

    reported = {
        (report["dataset"].rsplit(".", 1)[-1], result["name"]): result["failed_records"]
        for report in parse_events(output, "expectations")
        for result in report["expectations"]
    }
    assert {key: value for key, value in reported.items() if value} == {
        key: value
        for key, value in feeds.expected_failures.items()
        if key[0] in ("bronze_members", "silver_demographics", "silver_enrollment", "silver_eligibility")
    }
    demographics = spark.sql(
        f"SELECT count(*) AS n, count(DISTINCT member_id) AS d FROM {SCHEMA}.silver_demographics"
    ).collect()[0]
    assert demographics.n == demographics.d > 0
    born_later = spark.sql(
        f"SELECT count(*) AS n FROM {SCHEMA}.silver_demographics WHERE birth_date > current_date()"
    ).collect()[0]
    assert born_later.n == 0
