"""The jaffle_shop DbtProject, in its own module so importing it costs nothing else.

The manifest is parsed once and reused by the code server, the run worker and every step:
it is re-parsed only when a project file is newer than the manifest. It is parsed per warehouse
file name (`target/defs-<manifest key>/`): dbt names a relation's database after its DuckDB file,
so a manifest parsed for `child.duckdb` (a benchmark's) would give every table another name, while
two `warehouse.duckdb` in different folders (each test's, each checkout state's) give manifests
that differ only in their nodes' `created_at`, and share one parse.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject
from lakehouse_resources.dbt_launcher import dbt_executable, mark_parent
from lakehouse_resources.locks import exclusive
from lakehouse_resources.settings import LakehouseSettings

WATCHED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def newest_source_mtime(project_dir: Path, target_dir: Path) -> float:
    """Latest modification time of any file dbt parses (target/ and packages excluded).

    All of `target/` is left out, not only this manifest's folder: every `dbt build` writes its
    compiled SQL under `target/dagster-<profile>/`, which made the next load parse again."""
    outputs = {target_dir, project_dir / "target"}
    newest = 0.0
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if (Path(folder) / d) not in outputs and d not in {"dbt_packages", "logs"}]
        for name in files:
            if Path(name).suffix in WATCHED_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def _key(target: str, profile_env: dict[str, str]) -> str:
    profile = json.dumps(profile_env, sort_keys=True)
    return f"{target}-{hashlib.sha256(profile.encode()).hexdigest()[:12]}"


def profile_key(settings: LakehouseSettings) -> str:
    """The dbt target and a digest of what the profile reads from the environment (the warehouse):
    what dbt's partial parsing compares, the whole DuckDB path included."""
    return _key(settings.dbt_target, settings.child_process_env())


def manifest_key(settings: LakehouseSettings) -> str:
    """`profile_key` with the warehouse as its file name: all of its path that reaches the manifest."""
    env = settings.child_process_env()
    env["LAKEHOUSE_DUCKDB_PATH"] = Path(env["LAKEHOUSE_DUCKDB_PATH"]).name
    return _key(settings.dbt_target, env)


def prepare_if_stale(project: DbtProject, env: dict[str, str] | None = None) -> None:
    """Parse when the manifest is missing or older than the project, in any process; else reuse it.

    dagster-dbt's own `prepare_if_dev` parses on every load under `dagster dev` and never elsewhere.
    `env`: what the profile reads (the settings' warehouse), over this process's environment.
    """
    manifest = project.manifest_path
    target_dir = project.project_dir / project.target_path

    def fresh() -> bool:
        newest = newest_source_mtime(project.project_dir, target_dir)
        return manifest.exists() and manifest.stat().st_mtime >= newest

    if fresh():
        return
    # Two processes loading at once (`lakehouse pipeline` twice, a code server and a run) parse one
    # after the other: the second finds the first's manifest instead of reading it half-written.
    with exclusive(target_dir.parent / f"{target_dir.name}.lock"):
        if fresh():
            return
        # Our dbt is this interpreter's, and dies with us (lakehouse_resources.dbt_launcher).
        mark_parent()
        folder = str(project.project_dir)
        command = [dbt_executable(), "parse", "--quiet", "--project-dir", folder, "--profiles-dir", folder]
        command += ["--target", str(project.target), "--target-path", str(project.target_path)]
        subprocess.run(command, cwd=folder, env={**os.environ, **(env or {})}, check=True)


@cache
def _project(project_dir: str, target: str, key: str, env: tuple[tuple[str, str], ...]) -> DbtProject:
    project = DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target=target,
        target_path=Path("target") / f"defs-{key}",
    )
    prepare_if_stale(project, dict(env))
    return project


def jaffle_shop_project(settings: LakehouseSettings, project_dir: Path | None = None) -> DbtProject:
    """The committed project unless `project_dir` names another copy (the benchmarks' 1,000 models),
    with its manifest parsed for the settings' warehouse."""
    env = tuple(sorted(settings.child_process_env().items()))
    folder = str(project_dir or settings.dbt_dir / "jaffle_shop")
    return _project(folder, settings.dbt_target, manifest_key(settings), env)
