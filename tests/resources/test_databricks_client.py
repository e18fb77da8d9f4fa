"""The Databricks Pipes client against the local stand-in, through the real databricks-sdk over HTTP."""

import os
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import databricks.sdk
import pytest
from databricks.sdk.service import jobs
from lakehouse_resources.databricks import (
    DatabricksTaskSpec,
    LakehouseDatabricksClient,
    databricks_client_from_settings,
)
from lakehouse_resources.databricks.spec import ComputeSettings, PipesBootstrap, build_submit_request
from lakehouse_resources.settings import DatabricksCompute, get_settings
from lakehouse_standins.databricks import DEFAULT_CLUSTER_ID, DatabricksStandin, RunFault
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.http import Fault
from testsupport import PIPES, PIPES_CELL, REPO, deploy_bundle_code, workspace_code

ANALYTICS = REPO / "databricks" / "src" / "analytics"
# Bundle-relative, as a spec names them; the client resolves them against the deployed files.
CUSTOMER_VALUE = "src/analytics/jaffle_shop/gold/customer_value"
FACT_VIRTUAL_REVENUE = "src/analytics/kaizen_wars/gold/fact_virtual_revenue.py"
WHEEL_ENTRY = ("lakehouse_jobs", "fact_virtual_revenue")
CUSTOMER_CHECK = "customers_have_value"
REVENUE_CHECK = "prices_are_not_negative"


@pytest.fixture
def standin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spark_remote: str
) -> Iterator[DatabricksStandin]:
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE", "LAKEHOUSE_ENV"):
        monkeypatch.delenv(name, raising=False)
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    entries = {":".join(WHEEL_ENTRY): ANALYTICS / "kaizen_wars" / "gold" / "fact_virtual_revenue.py"}
    with DatabricksStandin(
        tmp_path / "standin", warehouse, wheel_entries=entries, spark_remote=spark_remote
    ) as s:
        deploy_bundle_code(s)  # where the settings' notebook root points, as a `local` bundle deploy
        yield s
    assert s.volume_files() == [], "temporary Pipes files were left on the volume"


def client_for(
    standin: DatabricksStandin, compute: DatabricksCompute, **overrides: object
) -> LakehouseDatabricksClient:
    settings = get_settings(
        databricks_standin_port=int(standin.url.rsplit(":", 1)[1]),
        databricks_compute=compute,
        databricks_cluster_id=DEFAULT_CLUSTER_ID,
    )
    fast = {
        "poll_interval_seconds": 0.1,
        "message_interval_seconds": 0.1,
        "message_grace_seconds": 0.5,
        "cancel_wait_seconds": 10,
        "retry_timeout_seconds": 20,
        "token_file": None,
        "token": standin.token,
    }
    return databricks_client_from_settings(settings, **{**fast, **overrides})


def databricks_asset(task: DatabricksTaskSpec, check: str) -> dg.AssetsDefinition:
    @dg.asset(name="remote", check_specs=[dg.AssetCheckSpec(check, asset="remote")])
    def remote(context: dg.AssetExecutionContext, databricks: LakehouseDatabricksClient):
        yield from databricks.run(context=context, task=task).get_results()

    return remote


def materialize(
    standin: DatabricksStandin,
    task: DatabricksTaskSpec,
    compute=DatabricksCompute.SERVERLESS,
    check=CUSTOMER_CHECK,
) -> dg.ExecuteInProcessResult:
    client = client_for(standin, compute)
    return dg.materialize(
        [databricks_asset(task, check)], resources={"databricks": client}, raise_on_error=False
    )


def step_error(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the step did not fail"
    error = failures[0].step_failure_data.error
    text = ""
    while error is not None:
        text += error.message
        error = error.cause
    return text


def notebook_file(standin: DatabricksStandin, tmp_path: Path, name: str, body: str) -> str:
    """A notebook that installs dagster-pipes (a `%pip` cell) in the stand-in's workspace, as a
    deploy puts it there; returns its workspace path."""
    return workspace_code(standin, tmp_path / "code", name, PIPES_CELL + textwrap.dedent(body), notebook=True)


ENV = {"LAKEHOUSE_SEGMENT": "vip"}
# Full table names as the orchestrator passes them locally (the stand-in bridges the warehouse).
CUSTOMERS = {"customers_table": "spark_catalog.main_marts.customers"}
EVENTS = {"fact_virtual_table": "spark_catalog.main_raw.fact_virtual", "min_quantity": "2"}
TASKS = {
    "notebook": (
        DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters={**CUSTOMERS, "min_orders": "2"}, env=ENV),
        CUSTOMER_CHECK,
    ),
    "spark_python": (
        DatabricksTaskSpec.python_file(
            FACT_VIRTUAL_REVENUE, parameters=EVENTS, env=ENV, dependencies=(PIPES,)
        ),
        REVENUE_CHECK,
    ),
    "python_wheel": (
        DatabricksTaskSpec.wheel(*WHEEL_ENTRY, parameters=EVENTS, env=ENV, dependencies=(PIPES,)),
        REVENUE_CHECK,
    ),
}


@pytest.mark.parametrize("compute", list(DatabricksCompute))
@pytest.mark.parametrize("task_type", list(TASKS))
def test_every_compute_and_task_type_materializes(standin: DatabricksStandin, compute, task_type) -> None:
    task, check = TASKS[task_type]
    result = materialize(standin, task, compute, check)

    assert result.success
    [materialization] = result.asset_materializations_for_node("remote")
    metadata = materialization.metadata
    assert metadata["status"].value == "ok"
    assert metadata["segment"].value == "vip", "the user env var did not reach the remote code"
    if task_type == "notebook":
        assert metadata["customers"].value == 2, "min_orders=2 keeps customers 1 and 3"
    else:
        assert metadata["gems_by_platform"].value == {"ios": 110.0}, "min_quantity=2 drops the android row"
    run_id = metadata["databricks_run_id"].value
    assert isinstance(metadata["databricks_run_url"], dg.UrlMetadataValue)
    assert metadata["databricks_run_url"].value == f"{standin.url}/#job/runs/{run_id}"
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == check
    assert evaluation.passed

    [submit] = standin.recorder.matching("POST", "/api/2.2/jobs/runs/submit")
    [sent] = submit.json()["tasks"]
    assert jobs.SubmitTask.from_dict(sent).as_dict() == sent, "only fields the Jobs API defines"
    assert result.run_id.split("-")[0] in submit.json()["run_name"]
    if compute is DatabricksCompute.JOB_CLUSTER:
        assert sent["new_cluster"]["spark_env_vars"]["LAKEHOUSE_SEGMENT"] == "vip"
        assert sent["new_cluster"]["custom_tags"]["dagster_run-id"] == result.run_id
    if compute is DatabricksCompute.EXISTING_CLUSTER:
        assert sent["existing_cluster_id"] == DEFAULT_CLUSTER_ID


def test_a_failing_notebook_fails_the_step_with_the_databricks_message(standin, tmp_path) -> None:
    path = notebook_file(
        standin,
        tmp_path,
        "broken",
        """
        from dagster_pipes import (PipesDatabricksNotebookWidgetsParamsLoader,
            PipesUnityCatalogVolumesContextLoader, PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
        with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
                message_writer=PipesUnityCatalogVolumesMessageWriter(interval=1),
                params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets)):
            raise ValueError("orders feed is stale")
        """,
    )
    result = materialize(standin, DatabricksTaskSpec.notebook(path))

    assert not result.success
    error = step_error(result)
    assert "FAILED" in error
    assert "ValueError: orders feed is stale" in error


def test_a_missing_table_fails_the_step_with_spark_s_error_and_the_next_run_succeeds(standin) -> None:
    missing = {"customers_table": "spark_catalog.main_marts.no_such_customers"}
    failed = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=missing))
    succeeded = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert not failed.success
    error = step_error(failed)
    assert "TABLE_OR_VIEW_NOT_FOUND" in error
    assert "`main_marts`.`no_such_customers`" in error
    assert succeeded.success


def wait_for_running_child(standin: DatabricksStandin) -> int:
    deadline = time.monotonic() + 300  # a hang guard; a loaded machine starts Spark tasks slowly
    while time.monotonic() < deadline:
        for run in standin.runs:
            if run.pid and run.life_cycle_state == "RUNNING":
                return run.pid
        time.sleep(0.05)
    raise AssertionError("no run reached RUNNING")


def ended_run(standin: DatabricksStandin):
    """The only run once it has ended. The client stops waiting at TERMINATING; the stand-in, like a
    workspace, says CANCELED only once the task has stopped, which can come a moment later."""
    [run] = standin.runs
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while run.life_cycle_state != "TERMINATED" and time.monotonic() < deadline:
        time.sleep(0.1)
    return run


def assert_process_group_gone(pgid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


def test_terminating_the_dagster_run_cancels_databricks_and_fails_the_step(standin) -> None:
    standin.script_run(RunFault.HANG)
    pids: list[int] = []
    errors: list[BaseException] = []

    def interrupt_when_running() -> None:
        try:
            pids.append(wait_for_running_child(standin))
        except BaseException as exc:  # reported by the test below, not lost with the thread
            errors.append(exc)
            return
        # What `dagster run terminate` does to a run worker: SIGINT, turned by Dagster into
        # DagsterExecutionInterruptedError inside the step.
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_when_running, daemon=True)
    interrupter.start()
    # A bounded run: should the interrupt never come, the step ends by timeout, not after an hour.
    result = materialize(
        standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS, timeout_seconds=60)
    )
    interrupter.join(5)

    assert errors == [], f"the interrupting thread failed: {errors}"
    assert not interrupter.is_alive()
    assert "did not finish within" not in step_error(result), (
        "the step timed out instead of being interrupted"
    )
    assert not result.success, "an interrupted step must not report success"
    assert standin.recorder.matching("POST", "/api/2.*/jobs/runs/cancel")
    run = ended_run(standin)
    assert run.result_state == "CANCELED"
    assert_process_group_gone(pids[0])


def test_a_run_longer_than_its_timeout_is_cancelled_and_fails(standin) -> None:
    standin.script_run(RunFault.HANG)
    result = materialize(
        # Long enough for the task's process to start on a loaded 2-core machine: its group is checked.
        standin,
        DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS, timeout_seconds=6),
    )

    assert not result.success
    assert "did not finish within 6 s" in step_error(result)
    assert standin.recorder.matching("POST", "/api/2.*/jobs/runs/cancel")
    run = ended_run(standin)
    assert run.result_state == "CANCELED"
    assert run.pid is not None
    assert_process_group_gone(run.pid)


def test_429_and_503_are_retried(standin) -> None:
    standin.recorder.add_fault(
        Fault("POST", "/api/2.2/jobs/runs/submit", status=503, times=2, retry_after=0.1)
    )
    standin.recorder.add_fault(Fault("GET", "/api/2.2/jobs/runs/get", status=429, times=2, retry_after=0.1))
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert result.success
    statuses = [r.status for r in standin.recorder.requests if "/jobs/runs/" in r.path]
    assert statuses.count(503) == 2
    assert statuses.count(429) == 2
    assert len(standin.runs) == 1, "a retried submit must not start a second run"


def test_slow_api_responses_are_waited_for(standin) -> None:
    slow_get = standin.recorder.add_fault(Fault("GET", "/api/2.2/jobs/runs/get", delay_seconds=0.5, times=3))
    slow_put = standin.recorder.add_fault(Fault("PUT", "/api/2.0/fs/files/*", delay_seconds=0.5))
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert result.success
    assert (slow_get.hits, slow_put.hits) == (3, 1), "the delays were not all injected"


def test_a_500_while_reading_the_run_is_retried_and_the_run_succeeds(standin) -> None:
    flaky = standin.recorder.add_fault(Fault("GET", "/api/2.2/jobs/runs/get", status=500, times=2))
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert result.success
    assert flaky.hits == 2
    assert not standin.recorder.matching("POST", "/api/2.*/jobs/runs/cancel"), "a healthy run was cancelled"
    [run] = standin.runs
    assert run.result_state == "SUCCESS"


def test_a_wrong_request_while_reading_the_run_fails_at_once(standin) -> None:
    refused = standin.recorder.add_fault(
        Fault(
            "GET",
            "/api/2.2/jobs/runs/get",
            status=400,
            times=1000,
            body={"error_code": "INVALID_PARAMETER_VALUE", "message": "run_id is invalid"},
        )
    )
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert not result.success
    assert "InvalidParameterValue: run_id is invalid" in step_error(result)
    # one read for the run, one by the cancel that follows the failure
    assert refused.hits <= 2


def test_a_notebooks_printed_output_reaches_the_dagster_logs(standin, tmp_path) -> None:
    path = notebook_file(
        standin,
        tmp_path,
        "chatty",
        """
        from dagster_pipes import (PipesDatabricksNotebookWidgetsParamsLoader,
            PipesUnityCatalogVolumesContextLoader, PipesUnityCatalogVolumesMessageWriter, open_dagster_pipes)
        with open_dagster_pipes(context_loader=PipesUnityCatalogVolumesContextLoader(),
                message_writer=PipesUnityCatalogVolumesMessageWriter(interval=0.1),
                params_loader=PipesDatabricksNotebookWidgetsParamsLoader(dbutils.widgets)) as pipes:
            print("printed by the notebook")
            pipes.log.info("logged through pipes")
            pipes.report_asset_check(check_name="customers_have_value", passed=True)
        """,
    )
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [databricks_asset(DatabricksTaskSpec.notebook(path), CUSTOMER_CHECK)],
        resources={"databricks": client_for(standin, DatabricksCompute.SERVERLESS)},
        instance=instance,
        raise_on_error=False,
    )

    assert result.success
    messages = "\n".join(entry.user_message for entry in instance.all_logs(result.run_id))
    assert "printed by the notebook" in messages
    assert "logged through pipes" in messages


def test_a_persistent_500_fails_with_a_clear_error(standin) -> None:
    standin.recorder.add_fault(Fault("POST", "/api/2.2/jobs/runs/submit", status=500, times=1000))
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert not result.success
    assert "Databricks API request failed (submit the run): InternalError" in step_error(result)
    assert standin.runs == []


def test_an_unknown_volume_fails_with_a_clear_error(standin) -> None:
    client = client_for(standin, DatabricksCompute.SERVERLESS, volume_path="/Volumes/main/nope/pipes")
    task, check = TASKS["notebook"]
    result = dg.materialize(
        [databricks_asset(task, check)], resources={"databricks": client}, raise_on_error=False
    )

    assert not result.success
    assert "is /Volumes/main/nope/pipes an existing Unity Catalog Volume" in step_error(result)
    assert standin.runs == []


def test_lost_message_files_fail_the_step(standin) -> None:
    standin.script_run(RunFault.LOSE_MESSAGES)
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert not result.success
    assert "Pipes messages never arrived" in step_error(result)


def test_a_failed_cluster_start_fails_the_step(standin) -> None:
    standin.script_run(RunFault.FAIL)
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert not result.success
    assert "the cluster could not be started" in step_error(result)


def test_a_standin_that_is_not_running_fails_at_once_naming_the_command(tmp_path, monkeypatch) -> None:
    from testsupport import free_port

    settings = get_settings(duckdb_path_override=tmp_path / "w.duckdb", databricks_standin_port=free_port())
    client = databricks_client_from_settings(settings)
    task, check = TASKS["notebook"]
    result = dg.materialize(
        [databricks_asset(task, check)], resources={"databricks": client}, raise_on_error=False
    )

    assert not result.success
    error = step_error(result)
    assert f"Nothing answers at {settings.databricks_standin_url}" in error
    assert "task standins" in error
    assert "existing Unity Catalog Volume" not in error


def test_an_unreachable_workspace_fails_naming_the_host_within_the_retry_budget(tmp_path) -> None:
    from testsupport import free_port

    host = f"http://127.0.0.1:{free_port()}"
    settings = get_settings(duckdb_path_override=tmp_path / "w.duckdb", databricks_host=host)
    client = databricks_client_from_settings(settings, token="t", retry_timeout_seconds=1)
    task, check = TASKS["notebook"]
    result = dg.materialize(
        [databricks_asset(task, check)], resources={"databricks": client}, raise_on_error=False
    )

    assert not result.success
    error = step_error(result)
    assert f"Cannot reach the Databricks workspace at {host}" in error
    assert "after 1 s of retries" in error
    assert "existing Unity Catalog Volume" not in error


def test_an_empty_databricks_token_still_reaches_the_standin(standin, monkeypatch) -> None:
    # dagster_databricks sets DATABRICKS_TOKEN="" on import when it is unset.
    monkeypatch.setenv("DATABRICKS_TOKEN", "")
    result = materialize(standin, DatabricksTaskSpec.notebook(CUSTOMER_VALUE, parameters=CUSTOMERS))

    assert result.success


def test_building_definitions_makes_no_request_and_no_workspace_client(standin, monkeypatch) -> None:
    built: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        built.append(args)
        raise AssertionError("WorkspaceClient built at load time")

    # the resource imports the SDK's class when it first needs a client
    monkeypatch.setattr(databricks.sdk, "WorkspaceClient", refuse)
    task, check = TASKS["notebook"]
    defs = dg.Definitions(
        assets=[databricks_asset(task, check)],
        resources={"databricks": client_for(standin, DatabricksCompute.SERVERLESS)},
    )
    dg.Definitions.validate_loadable(defs)
    defs.get_repository_def().get_all_jobs()

    assert built == []
    assert standin.recorder.requests == []


BOOTSTRAP = PipesBootstrap(
    env_vars={"DAGSTER_PIPES_CONTEXT": "ctx", "DAGSTER_PIPES_MESSAGES": "msg"},
    cli_args={"--dagster-pipes-context": "ctx", "--dagster-pipes-messages": "msg"},
)


def submitted_task(spec: DatabricksTaskSpec, compute: DatabricksCompute) -> dict:
    settings = ComputeSettings(compute, "c-1", {"spark_version": "15.4.x-scala2.12"}, "/Workspace/nb")
    body = build_submit_request(
        spec,
        settings,
        BOOTSTRAP,
        run_name="r",
        task_key="k",
        tags={"dagster/run-id": "1"},
        timeout_seconds=60,
        idempotency_token="i",
    )
    [task] = body["tasks"]
    return task


@pytest.mark.parametrize("compute", list(DatabricksCompute))
def test_a_notebook_gets_pipes_parameters_env_and_widgets_in_every_mode(compute) -> None:
    spec = DatabricksTaskSpec.notebook(
        "customer_value", parameters={"min_orders": "2"}, env={"SEGMENT": "vip"}
    )
    task = submitted_task(spec, compute)

    widgets = task["notebook_task"]["base_parameters"]
    assert task["notebook_task"]["notebook_path"] == "/Workspace/nb/customer_value"
    assert widgets["DAGSTER_PIPES_CONTEXT"] == "ctx"
    assert widgets["min_orders"] == "2"
    if compute is DatabricksCompute.JOB_CLUSTER:
        assert task["new_cluster"]["spark_env_vars"]["SEGMENT"] == "vip"
    else:
        assert widgets["SEGMENT"] == "vip"
    assert "tags" not in task, "runs/submit has no task tags"
    if compute is DatabricksCompute.JOB_CLUSTER:
        assert task["new_cluster"]["custom_tags"] == {"dagster_run-id": "1"}


@pytest.mark.parametrize("compute", list(DatabricksCompute))
def test_a_python_task_gets_pipes_arguments_env_and_parameters_in_every_mode(compute) -> None:
    spec = DatabricksTaskSpec.python_file(
        "jobs/x.py", parameters={"day": "2024-01-01"}, env={"SEGMENT": "vip"}
    )
    task = submitted_task(spec, compute)

    args = task["spark_python_task"]["parameters"]
    assert "--day=2024-01-01" in args
    assert args[args.index("--dagster-pipes-messages") + 1] == "msg"
    if compute is DatabricksCompute.JOB_CLUSTER:
        assert task["new_cluster"]["spark_env_vars"]["SEGMENT"] == "vip"
    else:
        assert args[args.index("--env") + 1] == "SEGMENT=vip"
    if compute is DatabricksCompute.SERVERLESS:
        assert task["environment_key"]
