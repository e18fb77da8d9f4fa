"""kaizen_wars through dagster-dbt's real cloud_v2 client, over HTTP, against the dbt Cloud stand-in."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest
from lakehouse_resources.asset_keys import KAIZEN_WARS, RAW_FACT_VIRTUAL, STG_FACT_VIRTUAL
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.dbt_cloud import DbtCloudStandin, RunFault, RunStatus, api_fault

FCT_DAILY_SPEND = dg.AssetKey([KAIZEN_WARS, "fct_kaizen_wars__daily_player_spend"])
ASSETS = "kaizen_wars_dbt_cloud"


def _assets(defs: dg.Definitions) -> dg.AssetsDefinition:
    return next(
        a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.node_def.name == ASSETS
    )


def _materialize(
    defs: dg.Definitions, instance: dg.DagsterInstance, **config: Any
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [_assets(defs)],
        resources={"dbt_cloud": defs.resources["dbt_cloud"]} if defs.resources else {},
        instance=instance,
        run_config={"ops": {ASSETS: {"config": config}}} if config else None,
        raise_on_error=False,
    )


def _wait_for(standin: DbtCloudStandin, run_id: int) -> dict[str, Any]:
    with httpx.Client(
        base_url=standin.api_url, headers={"Authorization": f"Token {standin.config.token}"}
    ) as client:
        for _ in range(240):
            run = client.get(f"/runs/{run_id}").json()["data"]
            if run["is_complete"]:
                return run
            time.sleep(0.5)
    raise AssertionError(f"run {run_id} never finished")


def _failure_description(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the step did not fail"
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message


def test_loads_kaizen_wars_assets_from_the_workspace(dbtc_defs: dg.Definitions) -> None:
    assets = _assets(dbtc_defs)
    assert {STG_FACT_VIRTUAL, FCT_DAILY_SPEND} <= set(assets.keys)
    stg = assets.specs_by_key[STG_FACT_VIRTUAL]
    assert {dep.asset_key for dep in stg.deps} == {RAW_FACT_VIRTUAL}
    assert stg.automation_condition is not None
    assert assets.op.pool == WAREHOUSE_POOL
    dg.Definitions.validate_loadable(dbtc_defs)
    assert dbtc_defs.resolve_job_def("dbt_cloud_job_trigger") is not None


def test_assets_materialize_with_checks_and_run_link(
    dbtc_defs: dg.Definitions,
    dbtc_instance: dg.DagsterInstance,
    dbtc_standin: DbtCloudStandin,
    dbtc_warehouse: Path,
) -> None:
    result = _materialize(dbtc_defs, dbtc_instance)

    assert result.success
    materializations = {m.asset_key: m for m in result.get_asset_materialization_events()}
    assert {STG_FACT_VIRTUAL, FCT_DAILY_SPEND} <= set(materializations)
    run_url = materializations[STG_FACT_VIRTUAL].materialization.metadata["run_url"]
    assert isinstance(run_url, dg.UrlMetadataValue)
    assert run_url.url
    assert run_url.url.startswith(f"{dbtc_standin.url}/deploy/1/projects/1/runs/")
    assert httpx.get(run_url.url).status_code == 200
    checks = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert checks[(STG_FACT_VIRTUAL, "unique_stg_kaizen_wars__fact_virtual_purchase_id")].passed
    warn_check = next(
        e for (key, name), e in checks.items() if name.startswith("accepted_values_stg_kaizen_wars")
    )
    assert warn_check.passed
    with duckdb.connect(str(dbtc_warehouse), read_only=True) as con:
        row = con.execute(
            "select count(*), sum(gems_spent) from marts.fct_kaizen_wars__daily_player_spend"
        ).fetchone()
    assert row is not None
    assert row[0] > 0
    assert row[1] > 0


def test_failed_dbt_cloud_run_fails_the_step_with_its_link(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    dbtc_standin.add_run_fault(RunFault("failing_test"))

    result = _materialize(dbtc_defs, dbtc_instance)

    assert not result.success
    run_id = max(dbtc_standin.store.runs)
    assert dbtc_standin.store.runs[run_id].status is RunStatus.ERROR
    assert f"/runs/{run_id}/" in _failure_description(result)
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "assert_kaizen_wars__unit_price_within_catalog" in failed
    # The error-severity test stops dbt before the mart, as it blocks downstream in Dagster.
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert STG_FACT_VIRTUAL in materialized
    assert FCT_DAILY_SPEND not in materialized


def test_run_beyond_the_timeout_is_cancelled(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    dbtc_standin.add_run_fault(RunFault("hang"))

    result = _materialize(dbtc_defs, dbtc_instance, timeout_seconds=3)

    assert not result.success
    run_id = max(dbtc_standin.store.runs)
    run = dbtc_standin.store.runs[run_id]
    assert run.status is RunStatus.CANCELLED
    assert "was cancelled" in _failure_description(result)
    assert dbtc_standin.run_pid(run_id) is None


def test_polling_sensor_records_a_run_triggered_outside_dagster(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    headers = {"Authorization": f"Token {dbtc_standin.config.token}"}
    with httpx.Client(base_url=dbtc_standin.api_url, headers=headers) as client:
        started = client.post("/jobs/1/run", json={"cause": "Scheduled by dbt Cloud"}).json()["data"]
    finished = _wait_for(dbtc_standin, started["id"])
    assert finished["status"] == RunStatus.SUCCESS

    sensor = dbtc_defs.resolve_sensor_def("dbt_cloud_1_1_1__run_status_sensor")
    context = dg.build_sensor_context(instance=dbtc_instance, definitions=dbtc_defs)
    result = sensor(context)

    assert isinstance(result, dg.SensorResult)
    events = [e for e in result.asset_events or [] if isinstance(e, dg.AssetMaterialization)]
    run_urls = {str(e.metadata["run_url"].value) for e in events}
    adhoc_urls = {
        run.href for run in dbtc_standin.store.runs.values() if run.job.name.startswith("DAGSTER_ADHOC")
    }
    assert finished["href"] in run_urls
    # Runs Dagster started itself (the ad hoc job) are already recorded by their step.
    assert adhoc_urls
    assert not run_urls & adhoc_urls
    assert {STG_FACT_VIRTUAL, FCT_DAILY_SPEND} <= {e.asset_key for e in events}
    for event in events:
        dbtc_instance.report_runless_asset_event(event)
    assert dbtc_instance.get_latest_materialization_event(FCT_DAILY_SPEND) is not None


def test_trigger_job_runs_the_dbt_cloud_job(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    before = set(dbtc_standin.store.runs)

    result = dbtc_defs.resolve_job_def("dbt_cloud_job_trigger").execute_in_process(instance=dbtc_instance)

    assert result.success
    (run_id,) = set(dbtc_standin.store.runs) - before
    run = dbtc_standin.store.runs[run_id]
    assert run.job.name == "kaizen_wars build"
    assert run.status is RunStatus.SUCCESS


def test_loading_definitions_never_calls_dbt_cloud(
    dbtc_standin: DbtCloudStandin,
    dbtc_settings_for_warehouse: Callable[[Path], LakehouseSettings],
    tmp_path: Path,
) -> None:
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs, prepare_dbt_cloud_state

    settings = dbtc_settings_for_warehouse(tmp_path / "warehouse.duckdb")
    triggers = dbtc_standin.api_path("jobs/*/run")

    before = len(dbtc_standin.recorder.matching("POST", triggers))
    prepare_dbt_cloud_state(settings)
    prepared = len(dbtc_standin.recorder.matching("POST", triggers))
    requests_after_prepare = len(dbtc_standin.recorder.requests)
    build_dbt_cloud_defs(settings)
    build_dbt_cloud_defs(settings)

    assert prepared - before == 1  # the one `dbt parse` that prepares the state
    assert len(dbtc_standin.recorder.requests) == requests_after_prepare
    assert os.listdir(tmp_path / "dbt_cloud")


def _production_settings(env: str, standin: DbtCloudStandin, state: Path) -> LakehouseSettings:
    """Every .env.example variable set, as a deployment would; Databricks and SQL Server unreachable."""
    from lakehouse_resources.settings import get_settings

    return get_settings(
        env=env,
        duckdb_path_override=state / "warehouse.duckdb",
        databricks_host="https://127.0.0.1:9",
        databricks_token="dapi-unused",
        databricks_http_path="/sql/1.0/warehouses/abc",
        databricks_cluster_id="0101-abc",
        sqlserver_url="sqlserver://sa:pw@127.0.0.1:9?database=jaffle_shop",
        postgres_url="postgresql://u:pw@127.0.0.1:9/shop",
        dbt_cloud_account_id=1,
        dbt_cloud_project_id=1,
        dbt_cloud_environment_id=1,
        dbt_cloud_token=standin.config.token,
        dbt_cloud_access_url=standin.url,
        alert_webhook_url="https://127.0.0.1:9/hook",
    )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_production_loads_without_calling_dbt_cloud_and_names_the_prepare_command(
    env: str, dbtc_standin: DbtCloudStandin, tmp_path: Path
) -> None:
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs
    from lakehouse_transformation.defs.dbt_cloud.workspace import DbtCloudStateError

    settings = _production_settings(env, dbtc_standin, tmp_path)
    requests_before = len(dbtc_standin.recorder.requests)

    with pytest.raises(DbtCloudStateError, match=r"was never prepared.*`uv run lakehouse dbt-cloud prepare`"):
        build_dbt_cloud_defs(settings)
    assert len(dbtc_standin.recorder.requests) == requests_before, "loading called dbt Cloud"

    if env == "prod":  # the deploy step once, then loads read its file
        from lakehouse_transformation.defs.dbt_cloud import prepare_dbt_cloud_state

        prepare_dbt_cloud_state(settings)
        after_prepare = len(dbtc_standin.recorder.requests)
        defs = build_dbt_cloud_defs(settings)
        assert STG_FACT_VIRTUAL in _assets(defs).keys
        assert len(dbtc_standin.recorder.requests) == after_prepare


def test_unreachable_dbt_cloud_without_saved_state_names_the_prepare_command(tmp_path: Path) -> None:
    from lakehouse_resources.settings import get_settings
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs
    from lakehouse_transformation.defs.dbt_cloud.workspace import DbtCloudStateError

    settings = get_settings(
        env="local",
        duckdb_path_override=tmp_path / "warehouse.duckdb",
        dbt_cloud_access_url="http://127.0.0.1:9",
    )

    with pytest.raises(DbtCloudStateError, match=r"lakehouse dbt-cloud prepare"):
        build_dbt_cloud_defs(settings)


def test_a_burst_of_429s_while_polling_is_waited_out(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    cancels = dbtc_standin.api_path("runs/*/cancel")
    cancels_before = len(dbtc_standin.recorder.matching("POST", cancels))
    # Six 429s over about six seconds, each asking for a second's patience.
    burst = dbtc_standin.add_fault(
        api_fault(429, path_glob=dbtc_standin.api_path("runs/*"), method="GET", times=6, retry_after=1)
    )

    result = _materialize(dbtc_defs, dbtc_instance)

    assert result.success, _failure_description(result) if not result.success else ""
    assert burst.hits == 6
    assert len(dbtc_standin.recorder.matching("POST", cancels)) == cancels_before, (
        "a healthy run was cancelled"
    )
    run_id = max(dbtc_standin.store.runs)
    assert dbtc_standin.store.runs[run_id].status is RunStatus.SUCCESS


def test_an_api_error_while_polling_is_called_what_it_is(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance, dbtc_standin: DbtCloudStandin
) -> None:
    dbtc_standin.add_fault(
        api_fault(403, path_glob=dbtc_standin.api_path("runs/*"), method="GET", times=1000)
    )

    result = _materialize(dbtc_defs, dbtc_instance)

    assert not result.success
    description = _failure_description(result)
    assert "could not be followed" in description
    assert "dbt Cloud answered 403" in description
    assert "did not finish within" not in description


def test_a_deleted_adhoc_job_refreshes_the_state_once(
    dbtc_defs: dg.Definitions,
    dbtc_instance: dg.DagsterInstance,
    dbtc_standin: DbtCloudStandin,
    dbtc_settings: LakehouseSettings,
) -> None:
    from lakehouse_transformation.defs.dbt_cloud.workspace import build_workspace

    state_path = Path(build_workspace(dbtc_settings).state_path)
    adhoc = [job for job in dbtc_standin.store.active_jobs() if job.name.startswith("DAGSTER_ADHOC")]
    headers = {"Authorization": f"Token {dbtc_standin.config.token}"}
    for job in adhoc:  # deleted in dbt Cloud by someone
        httpx.delete(f"{dbtc_standin.api_url}/jobs/{job.id}", headers=headers).raise_for_status()

    result = _materialize(dbtc_defs, dbtc_instance)

    assert result.success
    new_adhoc = [job.id for job in dbtc_standin.store.active_jobs() if job.name.startswith("DAGSTER_ADHOC")]
    assert new_adhoc
    assert not set(new_adhoc) & {job.id for job in adhoc}
    assert str(new_adhoc[0]) in state_path.read_text(), "the saved state names the new ad hoc job"
    messages = "\n".join(entry.user_message for entry in dbtc_instance.all_logs(result.run_id))
    assert "no longer exists" in messages
    assert "Refreshed the dbt Cloud workspace state" in messages


def test_a_failed_run_carries_dbts_own_error(
    dbtc_defs: dg.Definitions,
    dbtc_instance: dg.DagsterInstance,
    dbtc_standin: DbtCloudStandin,
    dbtc_warehouse: Path,
) -> None:
    with duckdb.connect(str(dbtc_warehouse)) as con:
        con.execute("alter table raw.fact_virtual rename to fact_virtual_away")
    try:
        result = _materialize(dbtc_defs, dbtc_instance)
    finally:
        with duckdb.connect(str(dbtc_warehouse)) as con:
            con.execute("alter table raw.fact_virtual_away rename to fact_virtual")

    assert not result.success
    description = _failure_description(result)
    assert "Catalog Error: Table with name fact_virtual does not exist" in description
    assert "model.kaizen_wars.stg_kaizen_wars__fact_virtual" in description


def test_the_sensor_says_which_standin_to_start_instead_of_a_traceback(
    dbtc_settings: LakehouseSettings,
    dbtc_defs: dg.Definitions,
    dbtc_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    import shutil

    from lakehouse_resources.settings import get_settings
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs
    from lakehouse_transformation.defs.dbt_cloud.workspace import build_workspace
    from testsupport import free_port

    settings = get_settings(
        env="local", duckdb_path_override=tmp_path / "warehouse.duckdb", dbt_cloud_standin_port=free_port()
    )
    state = Path(build_workspace(settings).state_path)
    state.parent.mkdir(parents=True)
    shutil.copy(build_workspace(dbtc_settings).state_path, state)
    defs = build_dbt_cloud_defs(settings)
    sensor = defs.resolve_sensor_def("dbt_cloud_1_1_1__run_status_sensor")

    result = sensor(dg.build_sensor_context(instance=dbtc_instance, definitions=defs))

    assert isinstance(result, dg.SkipReason)
    assert "dbt Cloud stand-in is not running" in str(result.skip_message)
    assert "task standins" in str(result.skip_message)


def test_the_replaced_private_client_method_keeps_the_stock_signature() -> None:
    """`LakehouseDbtCloudClient._make_request` replaces dagster-dbt's; an upgrade that changes it fails here."""
    import inspect

    from dagster_dbt.cloud_v2.client import DbtCloudWorkspaceClient
    from lakehouse_transformation.defs.dbt_cloud.client import LakehouseDbtCloudClient

    stock = inspect.signature(DbtCloudWorkspaceClient._make_request)
    ours = inspect.signature(LakehouseDbtCloudClient._make_request)
    assert list(stock.parameters) == list(ours.parameters)
    assert [p.default for p in stock.parameters.values()] == [p.default for p in ours.parameters.values()]
