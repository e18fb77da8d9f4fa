"""The dbt manifest is parsed once and reused; a changed model is noticed."""

import json
import os
import shutil
from pathlib import Path

import pytest
from dagster_dbt import DbtProject
from lakehouse_transformation.defs.jaffle_shop.project import prepare_if_stale
from testsupport import REPO


@pytest.fixture
def project_copy(tmp_path: Path) -> DbtProject:
    shutil.copytree(
        REPO / "dbt" / "jaffle_shop", tmp_path / "jaffle_shop", ignore=shutil.ignore_patterns("target")
    )
    return DbtProject(
        project_dir=tmp_path / "jaffle_shop", profiles_dir=tmp_path / "jaffle_shop", target="local"
    )


def test_manifest_is_parsed_once_and_reused(project_copy: DbtProject) -> None:
    assert not project_copy.manifest_path.exists()
    prepare_if_stale(project_copy)
    first = project_copy.manifest_path.stat().st_mtime_ns
    prepare_if_stale(project_copy)
    assert project_copy.manifest_path.stat().st_mtime_ns == first


def test_a_changed_model_triggers_a_new_parse(project_copy: DbtProject) -> None:
    prepare_if_stale(project_copy)
    manifest = project_copy.manifest_path
    model = project_copy.project_dir / "models" / "marts" / "customers.sql"
    model.write_text(model.read_text() + "\n-- edited after the last parse\n")
    # The edit is newer than the manifest however fast the first parse was: date the manifest back.
    edited = model.stat().st_mtime
    os.utime(manifest, (edited - 60, edited - 60))
    prepare_if_stale(project_copy)
    assert manifest.stat().st_mtime >= edited  # written again, so no longer older than the project
    nodes = json.loads(manifest.read_text())["nodes"]
    assert "edited after the last parse" in nodes["model.jaffle_shop.customers"]["raw_code"]
