"""The jaffle_shop DbtProject, in its own module so importing it costs nothing else.

The manifest is parsed once and reused by the code server, the run worker and every step:
it is re-parsed only when a project file is newer than the manifest.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from lakehouse_resources.dbt_launcher import dbt_executable, mark_parent
from lakehouse_resources.settings import LakehouseSettings

WATCHED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def newest_source_mtime(project_dir: Path, target_dir: Path) -> float:
    """Latest modification time of any file dbt parses (target/ and packages excluded)."""
    newest = 0.0
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if (Path(folder) / d) != target_dir and d not in {"dbt_packages", "logs"}]
        for name in files:
            if Path(name).suffix in WATCHED_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def prepare_if_stale(project: DbtProject) -> None:
    """Parse when the manifest is missing or older than the project, in any process; else reuse it.

    dagster-dbt's own `prepare_if_dev` parses on every load under `dagster dev` and never elsewhere.
    """
    manifest = project.manifest_path
    target_dir = project.project_dir / project.target_path
    if manifest.exists() and manifest.stat().st_mtime >= newest_source_mtime(project.project_dir, target_dir):
        return
    # dagster-dbt's preparer would run the `dbt` found on PATH; ours is this interpreter's, and
    # dies with us (lakehouse_resources.dbt_launcher).
    cli = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    mark_parent()
    cli.cli(["parse", "--quiet"], target_path=project.target_path).wait()


@cache
def _project(project_dir: str, target: str) -> DbtProject:
    project = DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target=target,
    )
    prepare_if_stale(project)
    return project


def jaffle_shop_project(settings: LakehouseSettings, project_dir: Path | None = None) -> DbtProject:
    """The committed project unless `project_dir` names another copy (the benchmarks' 1,000 models)."""
    return _project(str(project_dir or settings.dbt_dir / "jaffle_shop"), settings.dbt_target)
