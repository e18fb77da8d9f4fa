"""What each target deploys as a Databricks user expects it: its own paths, Volumes, checkpoints
and tables (no target reads or writes another's), the mode a workspace expects, paused triggers
outside prod, and job clusters fit for Unity Catalog on any cloud."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import pytest
import yaml
from lakehouse_cli.bundle import build_resources
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_standins.databricks.workspace import USER_NAME
from testsupport import REPO

BUNDLE = REPO / "databricks"
WORKSPACE_TARGETS = ("dev", "staging", "prod")  # one workspace each; local is the stand-in


@cache
def _built(target: str) -> dict[str, Any]:
    return build_resources(BUNDLE, target, user_name=USER_NAME)["resources"]


def built(target: str) -> dict[str, Any]:
    """The target's resources, built once per test session (~1 s a build); each caller gets a copy."""
    return copy.deepcopy(_built(target))


def places(resources: dict[str, Any]) -> set[str]:
    """Every Volume path and table name a target's resources read or write."""
    text = json.dumps(resources)
    volumes = set(re.findall(r"/Volumes/[\w./-]+", text))
    tables = set(re.findall(r"_table=([a-z_]\w*\.[a-z_]\w*\.[a-z_]\w*)\"", text))
    for pipeline in resources["pipelines"].values():
        tables |= {v for k, v in pipeline["configuration"].items() if k.startswith("lakehouse.table.")}
    return volumes | tables


def test_no_two_targets_share_a_volume_a_checkpoint_or_a_table() -> None:
    found = {target: places(built(target)) for target in WORKSPACE_TARGETS}
    assert all(found.values())
    assert any("_checkpoints" in p for p in found["prod"])
    for i, first in enumerate(WORKSPACE_TARGETS):
        for second in WORKSPACE_TARGETS[i + 1 :]:
            shared = found[first] & found[second]
            assert not shared, f"{first} and {second} both use {sorted(shared)[:5]}"


def test_modes_and_paused_triggers_outside_prod() -> None:
    bundle = load_bundle(BUNDLE)
    assert bundle.target("dev").mode == "development"
    assert bundle.target("staging").mode == "production"
    assert bundle.target("prod").mode == "production"
    stream = "template_domain_template_source_staging_low_latency_stream_join_simple"
    starter = "template_domain_template_source_staging_basic_continuous"
    for target in ("dev", "staging", "local"):
        resources = built(target)
        assert resources["jobs"][stream]["continuous"]["pause_status"] == "PAUSED", target
        assert not resources["pipelines"][starter].get("continuous"), target
    prod = built("prod")
    assert prod["jobs"][stream]["continuous"]["pause_status"] == "UNPAUSED"
    assert prod["pipelines"][starter]["continuous"] is True
    # production mode refuses development pipelines; dev's are in development mode.
    assert not any(p.get("development") for p in prod["pipelines"].values())
    assert all(p["development"] for p in built("dev")["pipelines"].values())
    assert all(j["name"].startswith("[dev lakehouse] ") for j in built("dev")["jobs"].values())


def test_root_paths_are_the_deploying_users_own_folder() -> None:
    for target in ("dev", "staging", "prod", "local"):
        root = load_bundle(BUNDLE).target(target).root_path
        assert root.startswith("/Workspace/Users/${workspace.current_user.userName}/"), (target, root)


@pytest.mark.parametrize("target", WORKSPACE_TARGETS)
def test_job_clusters_have_unity_catalog_access_and_the_target_s_node_type(target: str) -> None:
    overlay = yaml.safe_load((BUNDLE / "targets" / f"{target}.yml").read_text())
    node_type = overlay["targets"][target]["variables"]["node_type_id"]
    clusters = [c for job in built(target)["jobs"].values() for c in job.get("job_clusters", [])]
    assert clusters
    for cluster in clusters:
        assert cluster["new_cluster"]["data_security_mode"] == "SINGLE_USER"
        assert cluster["new_cluster"]["node_type_id"] == node_type


def test_dagster_finds_a_development_copy_under_the_developer_s_prefix(tmp_path) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from lakehouse_resources.databricks.deployed import workspace_name
    from testsupport import sparkless_standin

    bundle = load_bundle(BUNDLE)
    with sparkless_standin(tmp_path) as standin:
        client = WorkspaceClient(config=Config(host=standin.url, token=standin.token))
        assert workspace_name(client, bundle.target("dev"), "x_dev") == "[dev lakehouse] x_dev"
        assert workspace_name(client, bundle.target("prod"), "x_prod") == "x_prod"
        # the CLI's own validate output names dev's jobs the same way
        job = built("dev")["jobs"]["member_enrollment_gold_eligible_members"]
        assert job["name"] == workspace_name(
            client, bundle.target("dev"), "member_enrollment_gold_eligible_members_dev"
        )


@pytest.mark.parametrize("target", ["local", *WORKSPACE_TARGETS])
def test_dagster_is_the_one_scheduler_the_bundle_deploys_no_schedule_or_trigger(target: str) -> None:
    # docs/operations.md: Dagster runs the bundle's work; only continuous work runs on Databricks.
    resources = built(target)
    for name, job in resources["jobs"].items():
        assert not {"schedule", "trigger"} & set(job), f"{target}: job {name} has its own schedule or trigger"
    continuous = {name for name, job in resources["jobs"].items() if "continuous" in job}
    assert continuous == {"template_domain_template_source_staging_low_latency_stream_join_simple"}
