"""`lakehouse bundle deploy` against the stand-in: create or reset by name, delete what the bundle no
longer has, leave others' resources alone, and a second deploy changes nothing."""

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service import jobs
from lakehouse_cli.bundle import build_resources, upload_sample_feeds
from lakehouse_cli.bundle_deploy import deploy
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.databricks.workspace import USER_NAME
from testsupport import REPO, resource_writes

BUNDLE = REPO / "databricks"
ROOT = f"/Workspace/Users/{USER_NAME}/.bundle/lakehouse/local"
STREAM_JOB = "template_domain_template_source_staging_low_latency_stream_join_simple_local"
ERP = "finance_erp_final_core_streaming_full_stack_local"
STARTER = "template_domain_template_source_staging_basic_continuous_local"
# Every domain and source's landing Volume, as `task dev`'s stand-in knows them.
LANDING = sorted({f"{s.name.domain}/{s.name.source}/landing" for s in load_specs(BUNDLE).specs})


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DatabricksStandin]:
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(
        tmp_path / "standin",
        warehouse,
        known_volumes=LANDING,
        spark_remote="sc://127.0.0.1:9",
    ) as s:
        yield s


@pytest.fixture
def sdk(standin: DatabricksStandin) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))


@pytest.fixture(scope="module")
def built() -> dict:
    return build_resources(BUNDLE, "local", user_name=USER_NAME)


def test_first_deploy_creates_everything_and_a_second_changes_nothing(
    sdk: WorkspaceClient, standin: DatabricksStandin, built: dict
) -> None:
    everything = sorted(
        r["name"] for kind in ("jobs", "pipelines") for r in built["resources"][kind].values()
    )
    assert {STREAM_JOB, ERP, STARTER} <= set(everything)
    first = deploy(sdk, built, bundle="lakehouse", target="local", bundle_root=BUNDLE, root_path=ROOT)
    assert sorted(first.created) == everything
    job_ids = {job.settings.name: job.job_id for job in sdk.jobs.list() if job.settings}
    standin.recorder.clear()
    second = deploy(sdk, built, bundle="lakehouse", target="local", bundle_root=BUNDLE, root_path=ROOT)
    assert (second.changed, sorted(second.unchanged)) == (False, everything)
    assert resource_writes(standin.recorder) == []
    assert {job.settings.name: job.job_id for job in sdk.jobs.list() if job.settings} == job_ids


def test_a_changed_spec_resets_and_a_removed_one_is_deleted(sdk: WorkspaceClient, built: dict) -> None:
    deploy(sdk, built, bundle="lakehouse", target="local", bundle_root=BUNDLE, root_path=ROOT)
    someone_elses = sdk.jobs.create(name="hand_made_job", tasks=[]).job_id
    changed = copy.deepcopy(built)
    key = STREAM_JOB.removesuffix("_local")
    changed["resources"]["jobs"][key]["max_concurrent_runs"] = 2
    del changed["resources"]["pipelines"][STARTER.removesuffix("_local")]
    result = deploy(sdk, changed, bundle="lakehouse", target="local", bundle_root=BUNDLE, root_path=ROOT)
    assert (result.updated, result.deleted, result.created) == ([STREAM_JOB], [STARTER], [])
    (job,) = sdk.jobs.list(name=STREAM_JOB, expand_tasks=True)
    assert job.settings
    assert job.settings.max_concurrent_runs == 2
    assert job.settings.tasks
    assert job.settings.tasks[0].spark_python_task
    deployed = {p.name for p in sdk.pipelines.list_pipelines()}
    assert ERP in deployed
    assert STARTER not in deployed
    assert sdk.jobs.get(someone_elses or 0).settings.name == "hand_made_job"  # type: ignore[union-attr]


def test_the_deployed_job_runs_the_bundle_code(sdk: WorkspaceClient, built: dict) -> None:
    deploy(sdk, built, bundle="lakehouse", target="local", bundle_root=BUNDLE, root_path=ROOT)
    (job,) = sdk.jobs.list(name=STREAM_JOB, expand_tasks=True)
    task = job.settings.tasks[0]  # type: ignore[index,union-attr]
    assert task.spark_python_task
    assert task.spark_python_task.python_file.endswith(
        "files/src/template_domain/template_source/staging/low_latency_stream_join_simple_job.py"
    )
    assert job.settings.continuous == jobs.Continuous(pause_status=jobs.PauseStatus.PAUSED)  # type: ignore[union-attr]


def test_sample_feeds_land_once(sdk: WorkspaceClient, standin: DatabricksStandin) -> None:
    target = load_bundle(BUNDLE).target("local")
    uploaded = upload_sample_feeds(sdk, BUNDLE, target)
    assert "/Volumes/finance/erp/landing/postings/part-0001.json" in uploaded
    assert (standin.volumes_root / "finance/erp/landing/postings/part-0001.json").read_text().count(
        "\n"
    ) == 10
    assert upload_sample_feeds(sdk, BUNDLE, target) == []
