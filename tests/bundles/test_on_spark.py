"""The bundle deployed to the stand-in, on the local Spark (through the SDK): one update of the ERP
pipeline; the bounded stream join run twice, some seconds apart, gives the same table."""

import time
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import jobs, pipelines
from lakehouse_cli.bundle import deploy_bundle, upload_sample_feeds
from lakehouse_resources.databricks.deployed import flow_results, pipeline_events
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from testsupport import REPO

BUNDLE = REPO / "databricks"
ERP = "finance_erp_final_core_streaming_full_stack_local"
STREAM_JOB = "template_domain_template_source_staging_low_latency_stream_join_simple_local"
STREAM_TABLE = "spark_catalog.template_domain_template_source.staging_impression_clicks"


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


def run_job(sdk: WorkspaceClient, name: str) -> jobs.Run:
    (job,) = list(sdk.jobs.list(name=name))
    run_id = sdk.jobs.run_now(job.job_id or 0).run_id
    deadline = time.monotonic() + 420  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        run = sdk.jobs.get_run(run_id)
        if run.state and run.state.life_cycle_state in (
            jobs.RunLifeCycleState.TERMINATED,
            jobs.RunLifeCycleState.INTERNAL_ERROR,
        ):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} of {name} did not finish")


def stream_table(sdk: WorkspaceClient, spark: SparkSession) -> tuple[int, list[int], list[tuple[int, float]]]:
    """Rows, their keys, and (impression time in epoch seconds, seconds to click) as they occur."""
    run = run_job(sdk, STREAM_JOB)
    assert run.state
    assert run.state.result_state == jobs.RunResultState.SUCCESS, run.state.state_message
    table = spark.table(STREAM_TABLE)
    times = table.select(F.col("impression_time").cast("long").alias("at"), "seconds_to_click").distinct()
    return (
        table.count(),
        [r.impression_id for r in table.orderBy("impression_id").collect()],
        sorted((r.at, r.seconds_to_click) for r in times.collect()),
    )


def test_the_bounded_stream_join_gives_the_same_table_however_long_between_runs(
    deployed: tuple[DatabricksStandin, WorkspaceClient], spark: SparkSession
) -> None:
    """The local target bounds the job (3 micro-batches). Its input is a known function of the batch,
    not of the wall clock: a rerun later replaces the table with the same rows. (With Spark's `rate`
    source the second run caught up on the seconds between the runs and appended them.)"""
    _, sdk = deployed
    first = stream_table(sdk, spark)
    time.sleep(10)  # `rate` would have produced 500 more rows for the next run to catch up on
    second = stream_table(sdk, spark)
    assert second == first
    # 3 batches of 250 impressions and 125 clicks; click n answers impression 2n in the same batch,
    # stamped like it: the spec's bounded_start (2026-01-01 UTC) plus 5 s (250 rows at 50/s) a batch.
    start = 1_767_225_600
    assert first == (375, list(range(0, 750, 2)), [(start, 0.0), (start + 5, 0.0), (start + 10, 0.0)])
