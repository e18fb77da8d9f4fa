"""The YAML-declared Databricks jobs: naming policy, declaration errors, and a real run on the stand-in."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from lakehouse_downstream.components import DatabricksNotebookJobs
from lakehouse_downstream.defs.analytics.customer_tiers import CUSTOMER_TIER_SUMMARY
from lakehouse_downstream.defs.build import NOTEBOOK_JOBS, build_downstream_defs
from lakehouse_resources.settings import DatabricksCompute, LakehouseSettings, get_settings
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.local import databricks_standin
from testsupport import DEPLOYED_NOTEBOOKS, REPO, deploy_notebooks


def test_declared_jobs_follow_the_naming_policy_and_carry_their_policies() -> None:
    jobs = DatabricksNotebookJobs.from_yaml_file(NOTEBOOK_JOBS).jobs
    assert {job.compute for job in jobs} >= {DatabricksCompute.SERVERLESS, DatabricksCompute.EXISTING_CLUSTER}
    assets = (
        DatabricksNotebookJobs.from_yaml_file(NOTEBOOK_JOBS).definitions(lambda t: f"cat.{t}").assets or []
    )
    specs = {
        spec.key: spec for asset in assets if isinstance(asset, dg.AssetsDefinition) for spec in asset.specs
    }
    checks = {
        check.asset_key: check.name
        for asset in assets
        if isinstance(asset, dg.AssetsDefinition)
        for check in asset.check_specs
    }
    assert len(specs) == len(jobs)
    for job in jobs:
        assert job.name == f"{job.domain}_{job.source}_{job.layer}_{job.asset}"
        spec = specs[dg.AssetKey([job.domain, job.name])]
        assert spec.freshness_policy is not None
        assert spec.automation_condition is not None
        assert {dep.asset_key.to_user_string() for dep in spec.deps} == set(job.deps)
        assert [checks[spec.key]] == job.checks


def test_a_bad_declaration_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "defs.yaml"
    bad.write_text(
        "attributes:\n  jobs:\n    - domain: analytics\n      source: x\n      layer: platinum\n      asset: y\n"
    )
    with pytest.raises(ValueError, match=rf"{bad}.*layer"):
        DatabricksNotebookJobs.from_yaml_file(bad)


def test_the_same_name_declared_twice_is_rejected(tmp_path: Path) -> None:
    job = "    - {domain: a, source: b, layer: gold, asset: c, path: n}\n"
    twice = tmp_path / "defs.yaml"
    twice.write_text("attributes:\n  jobs:\n" + job + job)
    with pytest.raises(ValueError, match="a_b_gold_c"):
        DatabricksNotebookJobs.from_yaml_file(twice).definitions(str)


@pytest.mark.slow
def test_declared_notebook_and_python_job_materialize_on_the_standin(
    local_settings: LakehouseSettings, clean_env: pytest.MonkeyPatch, spark_remote: str
) -> None:
    local_settings.state_dir.mkdir(parents=True, exist_ok=True)
    write_sample_warehouse(local_settings.duckdb_path)
    with databricks_standin(local_settings, port=0, spark_remote=spark_remote) as standin:
        deploy_notebooks(standin)  # what `databricks bundle deploy -t local` syncs
        # the local graph pointed at "any workspace that speaks the API", as a user would
        url = standin.url
        clean_env.setenv("DATABRICKS_HOST", url)
        clean_env.setenv("DATABRICKS_TOKEN", local_settings.standin_token)  # the token it requires
        clean_env.setenv("DATABRICKS_CLUSTER_ID", "standin-cluster")
        settings = get_settings()
        defs = build_downstream_defs(settings)
        jobs = DatabricksNotebookJobs.from_yaml_file(NOTEBOOK_JOBS).jobs
        selection = [job.key for job in jobs] + [CUSTOMER_TIER_SUMMARY]
        result = dg.materialize(
            [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
            resources=dict(defs.resources or {}),
            selection=selection,
            instance=dg.DagsterInstance.ephemeral(),
        )
        submitted = [r.json() for r in standin.recorder.matching("POST", "/api/2.*/jobs/runs/submit")]
    assert result.success
    for event in result.get_asset_materialization_events():
        if event.asset_key == CUSTOMER_TIER_SUMMARY:
            continue
        metadata = event.materialization.metadata
        assert isinstance(metadata["databricks_run_url"], dg.UrlMetadataValue)
        assert metadata["databricks_run_url"].value.startswith(url)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) == len(jobs)
    # compute as declared: the notebook on serverless, the Python task on the existing cluster
    # (a serverless notebook task names no cluster at all; Databricks picks serverless compute)
    tasks = [body["tasks"][0] for body in submitted]
    notebook = next(
        task for task in tasks if task.get("notebook_task", {}).get("notebook_path", "").endswith("value")
    )
    python = next(task for task in tasks if "spark_python_task" in task)
    assert not {"existing_cluster_id", "new_cluster"} & set(notebook)
    # the code runs from where the bundle deploys it, the settings' notebook root for the user
    assert notebook["notebook_task"]["notebook_path"] == f"{DEPLOYED_NOTEBOOKS}/customer_value"
    assert python["spark_python_task"]["python_file"] == f"{DEPLOYED_NOTEBOOKS}/fact_virtual_revenue.py"
    widgets = notebook["notebook_task"]["base_parameters"]
    assert widgets["min_orders"] == "2"
    # table names are full names the local rule gives, never built by the notebook
    assert widgets["customers_table"] == "spark_catalog.main_marts.customers"
    assert (
        "--fact_virtual_table=spark_catalog.main_raw.fact_virtual"
        in python["spark_python_task"]["parameters"]
    )
    assert python["existing_cluster_id"] == "standin-cluster"
    # the Spark-written tiers table reached DuckDB through the bridge and its reader
    [summary] = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == CUSTOMER_TIER_SUMMARY
    ]
    assert summary.metadata["source_table"].value == "main_analytics.customer_tiers"
    assert {key: summary.metadata[key].value for key in ("customers_bronze", "customers_silver")} == {
        "customers_bronze": 1,
        "customers_silver": 2,
    }


def test_loading_the_location_does_not_import_the_databricks_integration(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """dagster_databricks and the SDK cost ~1.7 s per process; only a Databricks run needs them."""
    code = (
        "import sys; from lakehouse_downstream.definitions import defs; defs(); "
        "print(sorted(m for m in ('dagster_databricks', 'databricks.sdk', 'pyspark') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "[]"
