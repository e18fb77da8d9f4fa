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
from lakehouse_standins.dbt_cloud import DbtCloudStandin, RunFault, RunStatus

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
    with httpx.Client(base_url=standin.api_url, headers={"Authorization": "Token t"}) as client:
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
    with httpx.Client(base_url=dbtc_standin.api_url, headers={"Authorization": "Token t"}) as client:
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


def test_loading_definitions_again_starts_no_dbt_cloud_run(
    dbtc_standin: DbtCloudStandin,
    dbtc_settings_for_warehouse: Callable[[Path], LakehouseSettings],
    tmp_path: Path,
) -> None:
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs

    settings = dbtc_settings_for_warehouse(tmp_path / "warehouse.duckdb")
    triggers = dbtc_standin.api_path("jobs/*/run")

    first_before = len(dbtc_standin.recorder.matching("POST", triggers))
    build_dbt_cloud_defs(settings)
    prepared = len(dbtc_standin.recorder.matching("POST", triggers))
    requests_after_first = len(dbtc_standin.recorder.requests)
    build_dbt_cloud_defs(settings)
    build_dbt_cloud_defs(settings)

    assert prepared - first_before == 1  # the one `dbt parse` that prepares the state
    assert len(dbtc_standin.recorder.requests) == requests_after_first
    assert os.listdir(tmp_path / "dbt_cloud")


def test_unreachable_dbt_cloud_without_saved_state_says_what_to_start(tmp_path: Path) -> None:
    from lakehouse_resources.settings import get_settings
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs
    from lakehouse_transformation.defs.dbt_cloud.workspace import DbtCloudStateError

    settings = get_settings(
        env="local",
        duckdb_path_override=tmp_path / "warehouse.duckdb",
        dbt_cloud_access_url="http://127.0.0.1:9",
    )

    with pytest.raises(DbtCloudStateError, match=r"python -m lakehouse_standins\.dbt_cloud"):
        build_dbt_cloud_defs(settings)
