"""The dbt Cloud stand-in, through dagster-dbt's real client and plain HTTP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest
from dagster_dbt.cloud_v2.client import DbtCloudWorkspaceClient
from lakehouse_resources.paths import repo_root
from lakehouse_standins.dbt_cloud import DbtCloudStandin, RunFault, RunStatus, StandinConfig, api_fault

KAIZEN_WARS_DIR = repo_root() / "dbt" / "kaizen_wars"


def _config(work_dir: Path, warehouse: Path) -> StandinConfig:
    return StandinConfig(project_dir=KAIZEN_WARS_DIR, work_dir=work_dir, duckdb_path=warehouse)


@pytest.fixture(scope="module")
def dbtc_api_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtCloudStandin]:
    warehouse = tmp_path_factory.mktemp("dbtc_api_warehouse") / "warehouse.duckdb"
    csv = repo_root() / "data" / "raw_fact_virtual.csv"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute(f"create table raw.fact_virtual as select * from read_csv('{csv}', header = true)")
    with DbtCloudStandin(_config(tmp_path_factory.mktemp("dbtc_api_standin"), warehouse)) as standin:
        yield standin


@pytest.fixture
def dbtc_http(dbtc_api_standin: DbtCloudStandin) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Token {dbtc_api_standin.config.token}"}
    with httpx.Client(base_url=dbtc_api_standin.api_url, headers=headers, timeout=30) as client:
        yield client
    dbtc_api_standin.recorder.faults.clear()
    dbtc_api_standin.executor.faults.clear()


@pytest.fixture
def dbtc_client(dbtc_api_standin: DbtCloudStandin) -> DbtCloudWorkspaceClient:
    return DbtCloudWorkspaceClient(
        account_id=1,
        token=dbtc_api_standin.config.token,
        access_url=dbtc_api_standin.url,
        request_max_retries=3,
        request_retry_delay=0.05,
        request_timeout=30,
    )


def _wait_until(predicate: Any, what: str) -> None:
    for _ in range(300):
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_responses_use_the_dbt_cloud_envelope(
    dbtc_api_standin: DbtCloudStandin, dbtc_http: httpx.Client
) -> None:
    ok = dbtc_http.get("").json()
    missing = dbtc_http.get("/jobs/999")
    anonymous = httpx.get(f"{dbtc_api_standin.api_url}/jobs")
    stranger = httpx.get(f"{dbtc_api_standin.api_url}/jobs", headers={"Authorization": "Token guessed"})

    assert set(ok) == {"status", "data", "extra"}
    assert set(ok["status"]) == {"code", "is_success", "user_message", "developer_message"}
    assert ok["status"]["is_success"] is True
    assert ok["data"]["id"] == 1
    assert missing.status_code == 404
    assert missing.json()["status"]["is_success"] is False
    assert missing.json()["data"] is None
    assert anonymous.status_code == 401
    assert stranger.status_code == 401, "only the configured token is accepted"
    assert stranger.json()["data"] is None


def test_job_listing_pages_with_totals(dbtc_http: httpx.Client) -> None:
    for index in range(3):
        dbtc_http.post("/jobs", json={"name": f"paging {index}", "project_id": 1, "environment_id": 1})
    total = dbtc_http.get("/jobs").json()["extra"]["pagination"]["total_count"]

    first = dbtc_http.get("/jobs", params={"limit": 2, "offset": 0}).json()
    last = dbtc_http.get("/jobs", params={"limit": 2, "offset": total - 1}).json()
    other_project = dbtc_http.get("/jobs", params={"project_id": 2}).json()

    assert total >= 4
    assert first["extra"]["pagination"] == {"count": 2, "total_count": total}
    assert last["extra"]["pagination"] == {"count": 1, "total_count": total}
    assert other_project["extra"]["pagination"] == {"count": 0, "total_count": 0}
    assert dbtc_http.get("/jobs", params={"limit": 101}).status_code == 400


def test_scripted_429_carries_retry_after_and_the_client_recovers(
    dbtc_api_standin: DbtCloudStandin, dbtc_http: httpx.Client, dbtc_client: DbtCloudWorkspaceClient
) -> None:
    jobs_path = dbtc_api_standin.api_path("jobs")
    dbtc_api_standin.add_fault(api_fault(429, path_glob=jobs_path, method="GET", times=3, retry_after=7))

    throttled = dbtc_http.get("/jobs")
    before = len(dbtc_api_standin.recorder.matching("GET", jobs_path))
    jobs = dbtc_client.list_jobs(project_id=1, environment_id=1)

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["status"]["code"] == 429
    assert any(job["name"] == "kaizen_wars build" for job in jobs)
    # Two more 429s, then the answer: the client retried without reading Retry-After.
    assert len(dbtc_api_standin.recorder.matching("GET", jobs_path)) - before == 3


def test_an_outage_longer_than_the_client_retries_fails_the_call(
    dbtc_api_standin: DbtCloudStandin, dbtc_client: DbtCloudWorkspaceClient
) -> None:
    dbtc_api_standin.add_fault(api_fault(503, path_glob=dbtc_api_standin.api_path("projects/*"), times=10))

    with pytest.raises(dg.Failure, match="Max retries"):
        dbtc_client.get_project_details(1)

    assert len(dbtc_api_standin.recorder.matching("GET", dbtc_api_standin.api_path("projects/1"))) == 4


def test_a_run_executes_dbt_and_serves_its_artifacts(
    dbtc_http: httpx.Client, dbtc_client: DbtCloudWorkspaceClient
) -> None:
    started = dbtc_client.trigger_job_run(
        1, steps_override=["dbt run --select stg_kaizen_wars__fact_virtual"]
    )
    finished = dbtc_client.poll_run(started["id"], poll_interval=0.5, poll_timeout=120)
    run_id = finished["id"]

    run_results = dbtc_client.get_run_results_json(run_id)
    manifest = dbtc_client.get_run_manifest_json(run_id)
    logs = dbtc_client.get_run_logs(run_id)
    now = datetime.now(UTC)
    recent = f'["{(now - timedelta(minutes=5)).isoformat()}", "{(now + timedelta(minutes=1)).isoformat()}"]'
    listed = dbtc_http.get(
        "/runs", params={"job_definition_id": 1, "status__in": "[10]", "finished_at__range": recent}
    )
    stale = f'["{(now - timedelta(days=2)).isoformat()}", "{(now - timedelta(days=1)).isoformat()}"]'

    assert finished["status"] == RunStatus.SUCCESS
    assert finished["status_humanized"] == "Success"
    assert run_results["metadata"]["env"]["DBT_CLOUD_RUN_ID"] == str(run_id)
    assert [r["status"] for r in run_results["results"]] == ["success"]
    assert "model.kaizen_wars.fct_kaizen_wars__daily_player_spend" in manifest["nodes"]
    assert "stg_kaizen_wars__fact_virtual" in logs
    assert run_id in [run["id"] for run in listed.json()["data"]]
    assert dbtc_http.get("/runs", params={"finished_at__range": stale}).json()["data"] == []
    assert dbtc_http.get("/runs", params={"status__in": "[1,2,3]"}).json()["data"] == []


def test_cancel_kills_the_runs_process(
    dbtc_api_standin: DbtCloudStandin, dbtc_client: DbtCloudWorkspaceClient
) -> None:
    dbtc_api_standin.add_run_fault(RunFault("hang"))
    run_id = dbtc_client.trigger_job_run(1)["id"]
    _wait_until(lambda: dbtc_api_standin.run_pid(run_id) is not None, "the run's process")
    pid = dbtc_api_standin.run_pid(run_id)
    assert pid is not None

    dbtc_client.cancel_run(run_id)

    assert dbtc_client.get_run_details(run_id)["status"] == RunStatus.CANCELLED
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_a_missing_artifact_is_a_404(
    dbtc_api_standin: DbtCloudStandin, dbtc_http: httpx.Client, dbtc_client: DbtCloudWorkspaceClient
) -> None:
    dbtc_api_standin.add_run_fault(RunFault("missing_artifact", artifact="manifest.json"))
    run_id = dbtc_client.trigger_job_run(1, steps_override=["dbt parse"])["id"]
    assert dbtc_client.poll_run(run_id, poll_interval=0.5, poll_timeout=120)["status"] == RunStatus.SUCCESS

    response = dbtc_http.get(f"/runs/{run_id}/artifacts/manifest.json")

    assert "manifest.json" not in dbtc_client.list_run_artifacts(run_id)
    assert response.status_code == 404
    assert response.json()["status"]["is_success"] is False
    with pytest.raises(dg.Failure):
        dbtc_client.get_run_manifest_json(run_id)


def test_jobs_and_runs_survive_a_restart(tmp_path: Path) -> None:
    config = _config(tmp_path / "standin", tmp_path / "warehouse.duckdb")
    with DbtCloudStandin(config) as first:
        created = httpx.post(
            f"{first.api_url}/jobs",
            json={"name": "DAGSTER_ADHOC_JOB__1__1"},
            headers={"Authorization": f"Token {config.token}"},
        )
    with DbtCloudStandin(config) as second:
        headers = {"Authorization": f"Token {config.token}"}
        jobs = httpx.get(f"{second.api_url}/jobs", headers=headers).json()["data"]

    assert created.status_code == 201
    assert created.json()["data"]["id"] in [job["id"] for job in jobs]


def test_only_the_last_runs_keep_their_folders(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    config = StandinConfig(
        project_dir=KAIZEN_WARS_DIR, work_dir=tmp_path / "standin", duckdb_path=warehouse, keep_runs=1
    )
    with DbtCloudStandin(config) as standin:
        client = DbtCloudWorkspaceClient(
            account_id=1,
            token=config.token,
            access_url=standin.url,
            request_max_retries=3,
            request_retry_delay=0.05,
            request_timeout=30,
        )
        for _ in range(2):
            run_id = client.trigger_job_run(1, steps_override=["dbt --help"])["id"]  # no parse, no PyPI call
            client.poll_run(run_id, poll_interval=0.2, poll_timeout=60)
        kept = sorted(int(p.name) for p in (config.work_dir / "runs").iterdir())
        oldest = client.get_run_details(1)

    assert kept == [2]
    assert oldest["status"] == RunStatus.SUCCESS, "a pruned run keeps its record"
