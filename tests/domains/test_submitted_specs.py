"""Specs with `run: submit`: notebooks and Python tasks Dagster submits as one-time runs through
lakehouse's Pipes client, declared in the bundle like every job, with one naming path."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from lakehouse_cli.main import main
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_domains.defs.submit import submitted_task
from lakehouse_downstream.defs.analytics.customer_tiers import CUSTOMER_TIER_SUMMARY
from lakehouse_downstream.defs.build import build_downstream_defs
from lakehouse_resources.platform.specs import JobSpec, SpecError, load_specs
from lakehouse_resources.platform.targets import bundle_for
from lakehouse_resources.settings import DatabricksCompute, LakehouseSettings, get_settings
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.local import databricks_standin
from testsupport import DEPLOYED_FILES, REPO, deploy_bundle_code

BUNDLE = REPO / "databricks"
SPECS = load_specs(BUNDLE)
SUBMITTED = [spec for spec in SPECS.jobs if isinstance(spec.spec, JobSpec) and spec.spec.run == "submit"]
CUSTOMER_VALUE = dg.AssetKey(["analytics", "jaffle_shop", "gold", "customer_value"])
CUSTOMER_TIERS = dg.AssetKey(["analytics", "jaffle_shop", "gold", "customer_tiers"])
FACT_VIRTUAL_REVENUE = dg.AssetKey(["analytics", "kaizen_wars", "gold", "fact_virtual_revenue"])


def _assets(defs: dg.Definitions) -> list[dg.AssetsDefinition]:
    return [asset for asset in defs.assets or [] if isinstance(asset, dg.AssetsDefinition)]


def test_submitted_tasks_are_assets_of_the_domains_location(local_settings: LakehouseSettings) -> None:
    defs = build_domains_defs(local_settings)
    specs = {spec.key: spec for asset in _assets(defs) for spec in asset.specs}
    checks = {(c.asset_key, c.name) for asset in _assets(defs) for c in asset.check_specs}
    assert {key.to_user_string() for key in (CUSTOMER_VALUE, CUSTOMER_TIERS, FACT_VIRTUAL_REVENUE)} <= {
        key.to_user_string() for key in specs
    }
    # Their inputs are other locations' assets, so automation runs them after dbt and dlt.
    assert [dep.asset_key for dep in specs[CUSTOMER_VALUE].deps] == [
        dg.AssetKey(["jaffle_shop", "customers"])
    ]
    assert [dep.asset_key for dep in specs[FACT_VIRTUAL_REVENUE].deps] == [
        dg.AssetKey(["raw", "fact_virtual"])
    ]
    assert all(specs[key].automation_condition is not None for key in (CUSTOMER_VALUE, FACT_VIRTUAL_REVENUE))
    assert {(CUSTOMER_VALUE, "customers_have_value"), (CUSTOMER_TIERS, "every_customer_has_a_tier")} <= checks
    # The downstream location keeps only its DuckDB assets, reading the table the notebook writes.
    downstream = {
        spec.key for asset in _assets(build_downstream_defs(local_settings)) for spec in asset.specs
    }
    assert CUSTOMER_VALUE not in downstream
    assert CUSTOMER_TIER_SUMMARY in downstream


def test_a_submitted_task_gets_the_names_a_deployed_job_would(local_settings: LakehouseSettings) -> None:
    local, prod = bundle_for(REPO).target("local"), bundle_for(REPO).target("prod")
    tiers = next(spec for spec in SUBMITTED if spec.key == "analytics_jaffle_shop_gold_customer_tiers")
    on_local, on_prod = submitted_task(tiers, local), submitted_task(tiers, prod)
    assert on_local.parameters == {
        "gold_customer_tiers_table": "spark_catalog.analytics_jaffle_shop.gold_customer_tiers",
        "customers_table": "spark_catalog.main_marts.customers",
    }
    # On a workspace the policy's name, and the warehouse's own catalog for dbt's table.
    assert on_prod.parameters == {
        "gold_customer_tiers_table": "analytics.jaffle_shop.gold_customer_tiers",
        "customers_table": "prod_catalog.marts.customers",
    }
    assert on_local.path == "src/analytics/jaffle_shop/gold/customer_tiers.py"
    revenue = next(spec for spec in SUBMITTED if spec.key.endswith("fact_virtual_revenue"))
    task = submitted_task(revenue, local)
    assert task.compute is DatabricksCompute.EXISTING_CLUSTER
    assert dict(task.env) == {"LAKEHOUSE_CURRENCY": "gems"}
    # The settings' catalog for dbt, Sling and dlt comes from the same target variable.
    assert local_settings.catalog == local.warehouse_catalog == "main"


def test_the_bundle_deploys_no_job_for_a_submitted_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "build", "--target", "prod"]) == 0
    jobs = json.loads(capsys.readouterr().out)["resources"]["jobs"]
    assert SUBMITTED
    assert not {spec.key for spec in SUBMITTED} & set(jobs)


NOTEBOOK = "src/analytics/jaffle_shop/gold/customer_value.py"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"tasks": [{"key": "a", "notebook": NOTEBOOK}, {"key": "b", "notebook": NOTEBOOK}]},
            "tasks: a submitted run (run: submit) is one task, not 2",
        ),
        (
            {"compute": {"serverless": True, "existing_cluster": True}},
            "compute: serverless and existing_cluster exclude each other",
        ),
        (
            {"run": "deployed"},
            "env: only a submitted run (run: submit) takes env; a deployed job declares its own",
        ),
    ],
)
def test_a_bad_submitted_spec_names_the_file_and_the_rule(
    tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    root = tmp_path / "databricks"
    shutil.copytree(BUNDLE, root, ignore=shutil.ignore_patterns("__pycache__", "dist"))
    path = root / "specs/jobs/analytics/jaffle_shop/customer_value.yml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **change}))
    with pytest.raises(SpecError) as caught:
        load_specs(root)
    assert f"specs/jobs/analytics/jaffle_shop/customer_value.yml: {problem}" in str(caught.value).splitlines()


@pytest.mark.slow
def test_submitted_notebooks_and_python_task_materialize_on_the_standin(
    local_settings: LakehouseSettings, clean_env: pytest.MonkeyPatch, spark_remote: str
) -> None:
    local_settings.state_dir.mkdir(parents=True, exist_ok=True)
    write_sample_warehouse(local_settings.duckdb_path)
    with databricks_standin(local_settings, port=0, spark_remote=spark_remote) as standin:
        deploy_bundle_code(standin)  # what `databricks bundle deploy -t local` syncs
        # the local graph pointed at "any workspace that speaks the API", as a user would
        url = standin.url
        clean_env.setenv("DATABRICKS_HOST", url)
        clean_env.setenv("DATABRICKS_TOKEN", local_settings.standin_token)  # the token it requires
        clean_env.setenv("DATABRICKS_CLUSTER_ID", "standin-cluster")
        settings = get_settings()
        defs = dg.Definitions.merge(build_domains_defs(settings), build_downstream_defs(settings))
        result = dg.materialize(
            _assets(defs),
            resources=dict(defs.resources or {}),
            selection=[CUSTOMER_VALUE, CUSTOMER_TIERS, FACT_VIRTUAL_REVENUE, CUSTOMER_TIER_SUMMARY],
            instance=dg.DagsterInstance.ephemeral(),
        )
        submitted = [r.json() for r in standin.recorder.matching("POST", "/api/2.*/jobs/runs/submit")]
    assert result.success
    for event in result.get_asset_materialization_events():
        if event.asset_key != CUSTOMER_TIER_SUMMARY:
            link = event.materialization.metadata["databricks_run_url"]
            assert isinstance(link, dg.UrlMetadataValue)
            assert link.value.startswith(url)
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 3
    assert all(check.passed for check in evaluations)
    tasks = [body["tasks"][0] for body in submitted]
    notebook = next(t for t in tasks if t.get("notebook_task", {}).get("notebook_path", "").endswith("value"))
    python = next(t for t in tasks if "spark_python_task" in t)
    # The code runs from where the bundle deployed it, under its spec's path.
    assert (
        notebook["notebook_task"]["notebook_path"]
        == f"{DEPLOYED_FILES}/src/analytics/jaffle_shop/gold/customer_value"
    )
    assert python["spark_python_task"]["python_file"] == (
        f"{DEPLOYED_FILES}/src/analytics/kaizen_wars/gold/fact_virtual_revenue.py"
    )
    assert not {"existing_cluster_id", "new_cluster"} & set(notebook)  # serverless, as declared
    assert python["existing_cluster_id"] == "standin-cluster"
    widgets = notebook["notebook_task"]["base_parameters"]
    assert (widgets["min_orders"], widgets["customers_table"]) == ("2", "spark_catalog.main_marts.customers")
    assert (
        "--fact_virtual_table=spark_catalog.main_raw.fact_virtual"
        in python["spark_python_task"]["parameters"]
    )
    # The Spark-written tiers table reached DuckDB through the bridge, under the one rule's name.
    [summary] = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == CUSTOMER_TIER_SUMMARY
    ]
    assert summary.metadata["source_table"].value == "analytics_jaffle_shop.gold_customer_tiers"
    assert {key: summary.metadata[key].value for key in ("customers_bronze", "customers_silver")} == {
        "customers_bronze": 1,
        "customers_silver": 2,
    }
