"""The dbt manifest is parsed once and reused; a changed model is noticed; warehouses of one name share it."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dagster_dbt import DbtProject
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project, prepare_if_stale
from testsupport import REPO


@pytest.fixture
def project_copy(tmp_path: Path) -> DbtProject:
    shutil.copytree(
        REPO / "dbt" / "jaffle_shop", tmp_path / "jaffle_shop", ignore=shutil.ignore_patterns("target")
    )
    return DbtProject(
        project_dir=tmp_path / "jaffle_shop", profiles_dir=tmp_path / "jaffle_shop", target="local"
    )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command `prepare_if_stale` runs (its dbt parses), each still run for real."""
    started: list[list[str]] = []
    real_run = subprocess.run

    def counted(command: list[str], **kwargs: object) -> object:
        started.append(command)
        return real_run(command, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counted)
    return started


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


def test_a_build_s_compiled_sql_under_target_is_not_a_change(project_copy: DbtProject) -> None:
    """A `dbt build` writes compiled SQL under target/ (a run's own folder): the next load reuses
    the manifest instead of parsing again."""
    folder = project_copy.project_dir
    project = DbtProject(
        project_dir=folder, profiles_dir=folder, target="local", target_path=Path("target") / "defs-local"
    )
    prepare_if_stale(project)
    manifest = project.manifest_path
    first = manifest.stat().st_mtime_ns
    compiled = folder / "target" / "dagster-local" / "compiled" / "jaffle_shop" / "m.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text("select 1\n")
    later = manifest.stat().st_mtime + 60
    os.utime(compiled, (later, later))
    prepare_if_stale(project)
    assert manifest.stat().st_mtime_ns == first


def test_two_loads_at_once_parse_once(project_copy: DbtProject, parses: list[list[str]]) -> None:
    """Two processes loading at once (two `lakehouse pipeline`s, a code server and a run): the second
    waits for the first's parse and uses its manifest instead of parsing into the same folder."""
    import threading

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def load() -> None:
        start.wait()
        try:
            prepare_if_stale(project_copy)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(parses) == 1
    assert "model.jaffle_shop.customers" in json.loads(project_copy.manifest_path.read_text())["nodes"]


def test_warehouses_of_one_name_share_a_parse_and_another_name_gets_its_own(
    local_settings: LakehouseSettings, tmp_path: Path, project_copy: DbtProject, parses: list[list[str]]
) -> None:
    """dbt names each relation's database after the DuckDB file: a warehouse in another folder (a
    test's, another state dir's) reuses the manifest, a `child.duckdb` gets relations of its own."""

    def project_for(warehouse: Path) -> DbtProject:
        settings = local_settings.model_copy(update={"duckdb_path_override": warehouse})
        return jaffle_shop_project(settings, project_copy.project_dir)

    first = project_for(tmp_path / "a" / "warehouse.duckdb")
    second = project_for(tmp_path / "b" / "warehouse.duckdb")
    assert len(parses) == 1
    assert second.manifest_path == first.manifest_path
    child = project_for(tmp_path / "a" / "child.duckdb")
    assert len(parses) == 2
    assert child.manifest_path != first.manifest_path

    def database(project: DbtProject) -> str:
        nodes = json.loads(project.manifest_path.read_text())["nodes"]
        return nodes["model.jaffle_shop.customers"]["database"]

    assert (database(first), database(child)) == ("warehouse", "child")
