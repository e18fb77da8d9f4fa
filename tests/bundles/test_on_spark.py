"""The bundle's pipeline and stream join deployed to the stand-in and run on the local Spark."""

import time
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import jobs, pipelines
from lakehouse_cli.bundle import build_resources, upload_sample_feeds
from lakehouse_cli.bundle_deploy import deploy
from lakehouse_resources.databricks.deployed import flow_results, pipeline_events
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from pyspark.sql import SparkSession
from stream_monitor import parse_lines
from testsupport import REPO

BUNDLE = REPO / "databricks"
ERP = "finance_erp_final_core_streaming_full_stack_local"
STREAM_JOB = "template_domain_template_source_staging_low_latency_stream_join_simple_local"


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, spark_remote: str
) -> Iterator[tuple[DatabricksStandin, WorkspaceClient]]:
    tmp = tmp_path_factory.mktemp("on_spark")
    warehouse = write_sample_warehouse(tmp / "warehouse.duckdb")
    volumes = ["finance/erp/landing", "template_domain/template_source/landing"]
    with DatabricksStandin(
        tmp / "standin", warehouse, code_roots=[BUNDLE], known_volumes=volumes, spark_remote=spark_remote
    ) as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token="test", retry_timeout_seconds=10))
        deploy(sdk, build_resources(BUNDLE, "local"), bundle="lakehouse", target="local")
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


def test_the_stream_join_alerts_with_lowered_thresholds(
    deployed: tuple[DatabricksStandin, WorkspaceClient],
) -> None:
    _, sdk = deployed
    (job,) = sdk.jobs.list(name=STREAM_JOB, expand_tasks=True)
    task = job.settings.tasks[0]  # type: ignore[index,union-attr]
    params = list(task.spark_python_task.parameters or [])  # type: ignore[union-attr]
    lowered = {"--max_trigger_execution_ms": "1", "--max_seconds": "25", "--trigger_interval": "2 seconds"}
    params = [p for p in params if p.split("=", 1)[0] not in lowered] + [
        f"{k}={v}" for k, v in lowered.items()
    ]
    run_id = sdk.jobs.run_now(job.job_id or 0, python_params=params).run_id
    deadline = time.monotonic() + 240
    while True:
        run = sdk.jobs.get_run(run_id)
        if run.state and run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED:
            break
        assert time.monotonic() < deadline, "the bounded stream join did not stop"
        time.sleep(1)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, run.state.state_message
    logs = sdk.jobs.get_run_output((run.tasks or [])[0].run_id or 0).logs or ""
    batches, alerts = parse_lines(logs)
    assert batches, logs[-2000:]
    assert alerts
    assert all("trigger_execution_ms" in reason for alert in alerts for reason in alert["reasons"])
    assert {
        "input_rows_per_second",
        "processed_rows_per_second",
        "state_rows_total",
        "backlog_streak",
    } <= set(batches[-1])
    assert max(b["state_rows_total"] for b in batches) > 0
