"""The dbt manifest is parsed once and reused; a changed model is noticed."""

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
    later = manifest.stat().st_mtime + 5
    os.utime(model, (later, later))
    prepare_if_stale(project_copy)
    assert manifest.stat().st_mtime >= later - 1
