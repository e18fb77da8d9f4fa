"""The bundle's ERP pipeline deployed to the stand-in, one update on the local Spark (through the SDK)."""

import time
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import pipelines
from lakehouse_cli.bundle import deploy_bundle, upload_sample_feeds
from lakehouse_resources.databricks.deployed import flow_results, pipeline_events
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from pyspark.sql import SparkSession
from testsupport import REPO

BUNDLE = REPO / "databricks"
ERP = "finance_erp_final_core_streaming_full_stack_local"


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, spark_remote: str
) -> Iterator[tuple[DatabricksStandin, WorkspaceClient]]:
    tmp = tmp_path_factory.mktemp("on_spark")
    warehouse = write_sample_warehouse(tmp / "warehouse.duckdb")
    volumes = sorted({f"{s.name.domain}/{s.name.source}/landing" for s in load_specs(BUNDLE).specs})
    with DatabricksStandin(
        tmp / "standin", warehouse, known_volumes=volumes, spark_remote=spark_remote
    ) as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
        deploy_bundle(sdk, BUNDLE, "local", cli=None, token=None)
        upload_sample_feeds(sdk, BUNDLE, load_bundle(BUNDLE).target("local"))
        yield standin, sdk


def wait_update(sdk: WorkspaceClient, pipeline_id: str, update_id: str) -> pipelines.UpdateInfoState:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        update = sdk.pipelines.get_update(pipeline_id, update_id).update
        state = update.state if update else None
        if state in (
            pipelines.UpdateInfoState.COMPLETED,
            pipelines.UpdateInfoState.FAILED,
            pipelines.UpdateInfoState.CANCELED,
        ):
            return state
        time.sleep(0.5)
    raise AssertionError("the pipeline update did not finish")


def test_a_pipeline_update_runs_raw_to_final_and_reports_rows_and_expectations(
    deployed: tuple[DatabricksStandin, WorkspaceClient], spark: SparkSession
) -> None:
    _, sdk = deployed
    (status,) = [p for p in sdk.pipelines.list_pipelines(filter=f"name LIKE '{ERP}'")]
    pipeline_id = status.pipeline_id or ""
    update_id = sdk.pipelines.start_update(pipeline_id).update_id or ""
    assert wait_update(sdk, pipeline_id, update_id) == pipelines.UpdateInfoState.COMPLETED
    results = flow_results(list(pipeline_events(sdk, pipeline_id)), update_id)
    rows = {table: result.num_output_rows for table, result in results.items()}
    quality = {name: counts for result in results.values() for name, counts in result.expectations.items()}
    schema = "spark_catalog.finance_erp"
    # 10 landed postings; one without an account and one whose amount is no number are dropped in base.
    assert rows == {
        f"{schema}.raw_postings": 10,
        f"{schema}.base_postings": 8,
        f"{schema}.staging_account_daily": 7,
        f"{schema}.final_account_balances": 3,
    }
    assert quality["known_currency"] == (7, 1)  # CHF is warned about, not dropped
    balances = {
        r.account_id: str(r.balance) for r in spark.table(f"{schema}.final_account_balances").collect()
    }
    assert balances == {"acc-100": "849.51", "acc-200": "97.00", "acc-300": "500.00"}
