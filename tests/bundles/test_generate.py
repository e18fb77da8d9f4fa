"""The generated bundle per target, snapshot-tested, and the CLI's error for a bad spec.

Set LAKEHOUSE_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after an intended change, then review the diff.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from lakehouse_cli.bundle import BundleBuildError, build_resources
from lakehouse_cli.main import main
from testsupport import REPO

BUNDLE = REPO / "databricks"
SNAPSHOTS = Path(__file__).parent / "snapshots"
TARGETS = ("local", "dev", "staging", "prod")


@pytest.mark.parametrize("target", TARGETS)
def test_generated_resources_match_the_snapshot(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "build", "--target", target]) == 0
    built = json.loads(capsys.readouterr().out)
    snapshot = SNAPSHOTS / f"{target}.json"
    if os.environ.get("LAKEHOUSE_UPDATE_SNAPSHOTS"):
        snapshot.write_text(json.dumps(built, indent=2, sort_keys=True) + "\n")
    assert built == json.loads(snapshot.read_text())
    for kind in ("jobs", "pipelines"):
        for key, resource in built["resources"][kind].items():
            # dev is `mode: development`: each developer's copy carries the "[dev <user>] " prefix.
            prefix = "[dev ${workspace.current_user.short_name}] " if target == "dev" else ""
            assert resource["name"] == f"{prefix}{key}_{target}"


def test_one_spec_limits_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    spec = BUNDLE / "specs/pipelines/finance/erp/core_streaming_full_stack.yml"
    assert main(["bundle", "build", "--target", "prod", "--spec", str(spec)]) == 0
    built = json.loads(capsys.readouterr().out)["resources"]
    assert built["jobs"] == {}
    assert list(built["pipelines"]) == ["finance_erp_final_core_streaming_full_stack"]
    pipeline = built["pipelines"]["finance_erp_final_core_streaming_full_stack"]
    assert (pipeline["catalog"], pipeline["schema"]) == ("finance", "erp")
    assert pipeline["configuration"]["lakehouse.table.base.postings"] == "finance.erp.base_postings"


def test_a_bad_spec_fails_the_build_naming_file_field_and_rule(tmp_path: Path) -> None:
    root = tmp_path / "databricks"
    shutil.copytree(BUNDLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    bad = root / "specs/jobs/finance/erp/x.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("layer: gold2\ntasks: [{key: main, python_file: src/finance/erp/transforms.py}]\n")
    with pytest.raises(BundleBuildError) as caught:
        build_resources(root, "dev")
    assert str(caught.value) == (
        "specs/jobs/finance/erp/x.yml: layer 'gold2' is not one of raw, base, staging, final, bronze, silver, gold"
    )


def test_an_unknown_target_is_named() -> None:
    with pytest.raises(ValueError, match="no target 'qa'"):
        build_resources(BUNDLE, "qa")


@pytest.mark.parametrize("target", ["dev", "staging", "prod"])
def test_every_job_and_pipeline_installs_the_data_ops_wheel_the_bundle_builds(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = yaml.safe_load((BUNDLE / "databricks.yml").read_text())["artifacts"]["data_ops"]
    assert "--package data-ops" in artifact["build"]
    [built] = artifact["files"]
    # The CLI resolves a relative path in a Python-defined resource from the bundle root, not from
    # the file defining it (resources/generate.py), and writes environment dependencies as `./...`.
    relative = os.path.relpath(BUNDLE / artifact["path"] / built["source"], BUNDLE)
    assert not relative.startswith("..")
    wheel_forms = {relative, f"./{relative}"}
    assert main(["bundle", "build", "--target", target]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    assert resources["jobs"]
    assert resources["pipelines"]
    for key, job in resources["jobs"].items():
        environments = {e["environment_key"]: e["spec"]["dependencies"] for e in job.get("environments", [])}
        for task in job["tasks"]:
            if "environment_key" in task:
                installed = environments[task["environment_key"]]
            else:
                installed = [library.get("whl") for library in task["libraries"]]
            assert wheel_forms & set(installed), f"{key} task {task['task_key']} lacks the data_ops wheel"
    for key, pipeline in resources["pipelines"].items():
        assert wheel_forms & set(pipeline["environment"]["dependencies"]), f"{key} lacks the data_ops wheel"
