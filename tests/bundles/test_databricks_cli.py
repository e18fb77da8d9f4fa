"""The real Databricks CLI validates, plans, deploys, runs and destroys the bundle against the stand-in.

Our own emulation (`lakehouse bundle build`) must give what `bundle validate` gives; the calls the
pinned CLI makes are kept in fixtures/cli_calls.json, so a CLI upgrade that calls something new shows
as a diff (`LAKEHOUSE_UPDATE_CLI_CALLS=1` rewrites it); any call the stand-in does not know fails.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import require_cli
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from lakehouse_cli.bundle import build_resources, deploy_bundle, upload_sample_feeds
from lakehouse_cli.databricks_cli import run_bundle
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from lakehouse_standins.databricks.workspace import USER_NAME
from testsupport import NO_SPARK, REPO, resource_writes

pytestmark = pytest.mark.databricks_cli

BUNDLE = REPO / "databricks"
CALLS = Path(__file__).parent / "fixtures" / "cli_calls.json"
LANDING = sorted({f"{s.name.domain}/{s.name.source}/landing" for s in load_specs(BUNDLE).specs})
ROOT = f"/Workspace/Users/{USER_NAME}/.bundle/lakehouse/local"


@pytest.fixture(scope="module")
def cli() -> Path:
    return require_cli()


def make_standin(folder: Path, spark_remote: str = NO_SPARK) -> DatabricksStandin:
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = write_sample_warehouse(folder / "warehouse.duckdb")
    return DatabricksStandin(folder / "standin", warehouse, known_volumes=LANDING, spark_remote=spark_remote)


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DatabricksStandin]:
    with make_standin(tmp_path) as s:
        yield s
    assert s.unknown_calls == [], f"the CLI called what the stand-in does not serve: {s.unknown_calls}"


def bundle(cli: Path, standin: DatabricksStandin, *args: str, state: Path, check: bool = True) -> Any:
    return run_bundle(
        cli, BUNDLE, list(args), host=standin.url, token=standin.token, local_state=state, check=check
    )


def differences(cli_side: Any, ours: Any, path: str) -> list[str]:
    """Every field where the CLI's value and ours differ, named by its path."""
    if isinstance(cli_side, dict) and isinstance(ours, dict):
        found = []
        for key in sorted(set(cli_side) | set(ours)):
            where = f"{path}.{key}"
            if key not in ours:
                found.append(f"{where}: only the CLI has {json.dumps(cli_side[key])[:120]}")
            elif key not in cli_side:
                found.append(f"{where}: only lakehouse bundle build has {json.dumps(ours[key])[:120]}")
            else:
                found += differences(cli_side[key], ours[key], where)
        return found
    if isinstance(cli_side, list) and isinstance(ours, list) and len(cli_side) == len(ours):
        return [
            d
            for i, (a, b) in enumerate(zip(cli_side, ours, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return (
        []
        if cli_side == ours
        else [f"{path}: CLI {json.dumps(cli_side)[:120]} != ours {json.dumps(ours)[:120]}"]
    )


@pytest.mark.parametrize("target", ["dev", "staging", "prod"])
def test_validate_gives_the_resources_lakehouse_bundle_build_gives(
    cli: Path, standin: DatabricksStandin, tmp_path: Path, target: str
) -> None:
    done = bundle(cli, standin, "validate", "-t", target, "-o", "json", state=tmp_path / "cli")
    validated = json.loads(done.stdout)["resources"]
    ours = build_resources(BUNDLE, target, user_name=USER_NAME)["resources"]
    assert differences(validated, ours, "resources") == []
    assert validated["jobs"]
    assert validated["pipelines"]


def call_shape(method: str, path: str) -> str:
    """A call without its ids and file names: what stays the same from one deploy to the next."""
    path = re.sub(r"^(/api/2\.0/workspace-files/(?:import-file/)?).*", r"\1{path}", path)
    path = re.sub(r"/[0-9a-f]{8}-[0-9a-f-]{27,}", "/{id}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", path)
    return f"{method} {path}"


def test_deploy_plan_redeploy_and_destroy(cli: Path, standin: DatabricksStandin, tmp_path: Path) -> None:
    state = tmp_path / "cli"
    sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
    bundle(cli, standin, "validate", "-t", "local", state=state)
    bundle(cli, standin, "deploy", "-t", "local", state=state)
    built = build_resources(BUNDLE, "local", user_name=USER_NAME)["resources"]
    names = sorted(r["name"] for kind in ("jobs", "pipelines") for r in built[kind].values())
    jobs = {j.settings.name or "": j for j in sdk.jobs.list(expand_tasks=True) if j.settings}
    pipelines = {p.name or "" for p in sdk.pipelines.list_pipelines()}
    assert sorted({*jobs, *pipelines}) == names
    # Every file a task runs is in the workspace: the submitted notebooks (as notebooks, though the
    # bundle deploys no job for them), the bundle's code and the data_ops wheel the artifact build
    # just made, named by the job's environment.
    assert not any("analytics" in name for name in names)
    workspace = standin.workspace
    customer_value = f"{ROOT}/files/src/analytics/jaffle_shop/gold/customer_value"
    assert workspace.paths()[customer_value.removeprefix("/Workspace")] == "NOTEBOOK"
    revenue = f"{ROOT}/files/src/analytics/kaizen_wars/gold/fact_virtual_revenue.py"
    assert workspace.paths()[revenue.removeprefix("/Workspace")] == "FILE"
    eligible = jobs["member_enrollment_gold_eligible_members_local"].settings
    assert eligible
    assert eligible.environments
    assert eligible.environments[0].spec
    wheel = eligible.environments[0].spec.dependencies[1]  # type: ignore[index]
    assert re.fullmatch(
        rf"{ROOT}/artifacts/\.internal/data_ops-0\.1\.0\+[0-9a-f]{{12}}-py3-none-any\.whl", wheel
    )
    assert workspace.runnable(wheel) is not None
    for job in jobs.values():
        for task in (job.settings.tasks if job.settings else None) or []:
            code = task.spark_python_task.python_file if task.spark_python_task else None
            assert code is None or workspace.runnable(code) is not None, code
    # A second deploy changes nothing, and the plan says so.
    standin.recorder.clear()
    plan = json.loads(bundle(cli, standin, "plan", "-t", "local", "-o", "json", state=state).stdout)
    assert {entry["action"] for entry in plan["plan"].values()} == {"skip"}
    bundle(cli, standin, "deploy", "-t", "local", state=state)
    assert resource_writes(standin.recorder) == []
    # destroy removes everything it created, and its folder.
    bundle(cli, standin, "destroy", "-t", "local", "--auto-approve", state=state)
    assert not list(sdk.jobs.list())
    assert not list(sdk.pipelines.list_pipelines())
    assert workspace.get(ROOT) is None


def test_the_calls_the_cli_makes_are_the_recorded_ones(
    cli: Path, standin: DatabricksStandin, tmp_path: Path
) -> None:
    state = tmp_path / "cli"
    for command in (["validate"], ["deploy"], ["plan"], ["deploy"], ["destroy", "--auto-approve"]):
        bundle(cli, standin, *command[:1], "-t", "local", *command[1:], state=state)
    assert_recorded_calls("validate, deploy, plan, deploy, destroy", standin)


def assert_recorded_calls(commands: str, standin: DatabricksStandin) -> None:
    """The shapes of the calls `commands` made equal those recorded in fixtures/cli_calls.json."""
    calls = sorted({call_shape(r.method, r.path) for r in standin.recorder.requests})
    recorded = json.loads(CALLS.read_text(encoding="utf-8"))
    if os.environ.get("LAKEHOUSE_UPDATE_CLI_CALLS") == "1":
        recorded[commands] = calls
        CALLS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert calls == recorded[commands], (
        f"the CLI's calls for {commands} changed: review, then rerun with LAKEHOUSE_UPDATE_CLI_CALLS=1"
    )


def workspace_state(standin: DatabricksStandin, sdk: WorkspaceClient) -> dict[str, Any]:
    """What a deploy leaves: jobs and pipelines by name with their settings, and the files it shipped."""
    jobs = {}
    for job in sdk.jobs.list():
        settings = sdk.api_client.do("GET", "/api/2.2/jobs/get", query={"job_id": job.job_id})["settings"]  # type: ignore[index]
        jobs[settings["name"]] = settings
    pipelines = {}
    for status in sdk.pipelines.list_pipelines():
        spec = sdk.api_client.do("GET", f"/api/2.0/pipelines/{status.pipeline_id}")["spec"]  # type: ignore[index]
        pipelines[spec["name"]] = {k: v for k, v in spec.items() if k != "id"}
    shipped = ROOT.removeprefix("/Workspace")
    files = {
        path: kind
        for path, kind in standin.workspace.paths().items()
        if path.startswith(f"{shipped}/files") or path.startswith(f"{shipped}/artifacts")
    }
    return {"jobs": jobs, "pipelines": pipelines, "files": files}


def test_our_deployer_leaves_the_workspace_as_the_cli_does(cli: Path, tmp_path: Path) -> None:
    states = []
    for which in ("cli", "ours"):
        with make_standin(tmp_path / which) as standin:
            sdk = WorkspaceClient(
                config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10)
            )
            chosen = cli if which == "cli" else None
            deploy_bundle(
                sdk, BUNDLE, "local", cli=chosen, token=standin.token, local_state=tmp_path / "state"
            )
            upload_sample_feeds(sdk, BUNDLE, load_bundle(BUNDLE).target("local"))
            states.append(workspace_state(standin, sdk))
    by_cli, by_ours = states
    assert by_cli["files"] == by_ours["files"]
    assert differences(by_cli["jobs"], by_ours["jobs"], "jobs") == []
    assert differences(by_cli["pipelines"], by_ours["pipelines"], "pipelines") == []


def test_bundle_run_runs_a_pipeline_and_a_job_on_spark(
    cli: Path, tmp_path: Path, spark_remote: str, spark
) -> None:
    state = tmp_path / "cli"
    with make_standin(tmp_path, spark_remote) as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=10))
        bundle(cli, standin, "deploy", "-t", "local", state=state)
        upload_sample_feeds(sdk, BUNDLE, load_bundle(BUNDLE).target("local"))
        standin.recorder.clear()
        for key in ("member_enrollment_bronze_members", "member_enrollment_silver_member_profile"):
            done = bundle(cli, standin, "run", "-t", "local", key, state=state, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
        done = bundle(
            cli,
            standin,
            "run",
            "-t",
            "local",
            "member_enrollment_gold_eligible_members",
            state=state,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert standin.unknown_calls == []
        assert_recorded_calls("run a pipeline, run a job", standin)
    rows = spark.sql("select count(*) from spark_catalog.member_enrollment.gold_eligible_members").collect()[
        0
    ][0]
    assert rows > 0
