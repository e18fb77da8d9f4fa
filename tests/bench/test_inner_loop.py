"""The inner-loop benchmark's own logic: the checkout copy it edits, the edit and its undoing, and
how it splits the command's seconds (no Spark, no stand-in)."""

from pathlib import Path

import pytest
from lakehouse_cli.bench.inner_loop import EDITED, CliRound, cli_phases, copy_checkout, edited


def fake_checkout(root: Path) -> Path:
    (root / "databricks" / EDITED.parent).mkdir(parents=True)
    (root / "databricks" / EDITED).write_text('"""Silver."""\n\nx = 1\n')
    (root / "databricks" / "dist").mkdir()
    (root / "databricks" / "dist" / "old.whl").write_text("wheel")
    for folder in ("src", "dbt", ".git", ".lakehouse/spark-packages", ".lakehouse/bin", ".lakehouse/logs"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\n")
    (root / ".env").write_text("DAGSTER_HOME=/elsewhere\n")
    return root


def test_the_copy_owns_its_bundle_and_state_and_links_the_rest(tmp_path: Path) -> None:
    repo = fake_checkout(tmp_path / "repo")
    copy = copy_checkout(repo, tmp_path / "work" / "checkout")
    assert not (copy / "databricks").is_symlink()
    assert (copy / "databricks" / EDITED).read_text() == (repo / "databricks" / EDITED).read_text()
    assert not (copy / "databricks" / "dist").exists()  # the deploy builds its own wheel
    assert (copy / "src").resolve() == (repo / "src").resolve()
    assert (copy / "pyproject.toml").is_symlink()
    # Neither the history nor the developer's state or variables come along...
    assert not (copy / ".git").exists()
    assert not (copy / ".env").exists()
    assert not (copy / ".lakehouse").is_symlink()
    assert not (copy / ".lakehouse" / "logs").exists()
    # ...but Delta's jars and the Databricks CLI do, so nothing is fetched or built again.
    assert (copy / ".lakehouse" / "spark-packages").resolve() == (repo / ".lakehouse" / "spark-packages")
    assert (copy / ".lakehouse" / "bin").resolve() == (repo / ".lakehouse" / "bin")
    # Copying again starts from the repository's files.
    (copy / "databricks" / EDITED).write_text("changed")
    copy_checkout(repo, copy)
    assert (copy / "databricks" / EDITED).read_text() == (repo / "databricks" / EDITED).read_text()


def edit_then_fail(source: Path) -> None:
    with edited(source) as edit:
        edit.next()
        raise RuntimeError("a case failed")


def test_each_edit_is_new_and_the_source_comes_back_even_after_an_error(tmp_path: Path) -> None:
    repo = fake_checkout(tmp_path / "repo")
    copy = copy_checkout(repo, tmp_path / "checkout")
    source = copy / "databricks" / EDITED
    original = source.read_text()
    with edited(source) as edit:
        first = edit.next()
        assert source.read_text() == f"{original.rstrip()}\n{first}\n"
        second = edit.next()
        assert second != first
        assert source.read_text().count("# inner loop edit") == 1
        compile(source.read_text(), str(source), "exec")  # still valid Python
    assert source.read_text() == original
    with pytest.raises(RuntimeError):
        edit_then_fail(source)
    assert source.read_text() == original
    assert (repo / "databricks" / EDITED).read_text() == original  # the repository's never changed


def test_the_phases_add_up_to_the_command_and_follow_its_lines_and_the_update() -> None:
    started = 1_000.0
    cli = CliRound(
        seconds=30.0,
        started_wall=started,
        lines=[
            (2.0, "event log: /x.log"),
            (9.0, "stand-ins joined: Databricks 127.0.0.1:1, dbt Cloud 127.0.0.1:2"),
            (12.0, "bundle deploy: databricks CLI 1.12.1, target local, 3.0 s"),
            (13.0, "[1/1] start   member_enrollment_silver_member_profile"),
            (28.0, "[1/1] done    member_enrollment_silver_member_profile  15.0 s  ..."),
            (29.0, "1 assets materialized; success"),
        ],
    )
    update = [
        (started + 14.0, "Update abc123 started by API_CALL."),
        (started + 14.1, "Update abc123 is INITIALIZING."),
        (started + 15.0, "Update abc123 is RUNNING."),
        (started + 16.0, "Flow 'spark_catalog.member_enrollment.silver_demographics' is RUNNING."),
        (started + 22.0, "Flow 'spark_catalog.member_enrollment.silver_demographics' is COMPLETED."),
        (started + 25.0, "Update abc123 is COMPLETED."),
    ]
    phases = cli_phases(cli, update, run_log_end=started + 23.0)
    assert phases == pytest.approx({
        "start_and_settings": 2.0,
        "join_standins": 7.0,
        "definitions_and_redeploy": 3.0,
        "run_start_to_update_submitted": 2.0,
        "update_setup": 1.0,
        "update_spark_pipelines_run": 8.0,
        "update_bookkeeping": 2.0,
        "step_after_update": 3.0,
        "summary_and_exit": 2.0,
    })  # fmt: skip
    assert sum(phases.values()) == pytest.approx(cli.seconds)
