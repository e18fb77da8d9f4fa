"""`dg dev` uses the project's local instance: DAGSTER_HOME in the checkout's `.env`."""

from pathlib import Path

import pytest
from lakehouse_cli.home import point_dg_at_local_instance, prepare_dagster_home
from lakehouse_resources.settings import get_settings


def test_the_checkouts_env_names_the_local_instance_for_dg(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    (tmp_path / ".env").write_text("LAKEHOUSE_ENV=local")  # a user's own file, no newline at the end
    settings = get_settings()
    home = prepare_dagster_home(settings)
    assert point_dg_at_local_instance(settings, home) == tmp_path / ".env"
    lines = (tmp_path / ".env").read_text().splitlines()
    assert lines[0] == "LAKEHOUSE_ENV=local"
    assert lines[-1] == f"DAGSTER_HOME={tmp_path / '.lakehouse' / 'dagster_home'}"
    assert "default_limit: 1" in (home / "dagster.yaml").read_text()
    # written once; a DAGSTER_HOME the user set is theirs
    assert point_dg_at_local_instance(settings, home) is None
    assert (tmp_path / ".env").read_text().count("DAGSTER_HOME=") == 1


def test_a_test_warehouse_leaves_the_checkouts_env_alone(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("LAKEHOUSE_ROOT", str(tmp_path / "checkout"))
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp_path / "elsewhere" / "warehouse.duckdb"))
    settings = get_settings()
    assert point_dg_at_local_instance(settings, prepare_dagster_home(settings)) is None
    assert not (tmp_path / "checkout" / ".env").exists()
