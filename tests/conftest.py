"""Fixtures shared by every test folder: an isolated environment and a warehouse in tmp."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lakehouse_resources.settings import LakehouseSettings, get_settings
from lakehouse_standins.databricks.spark_runtime import FORK_SAFE_GRPC_ENV
from testsupport import REPO, free_port

# Tests host stand-ins in this process; set before any test starts gRPC (see FORK_SAFE_GRPC_ENV).
os.environ.update(FORK_SAFE_GRPC_ENV)

# One Spark Connect server per test session: fixtures `spark_runtime`, `spark_remote`, `spark`;
# and the order files run in, heaviest first (`file_order`).
pytest_plugins = ["spark_support", "file_order"]

SETTING_PREFIXES = ("LAKEHOUSE_", "DATABRICKS_", "DBT_CLOUD_", "DAGSTER_HOME")
SPARK_FIXTURES = {"spark_runtime", "spark_remote", "spark"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the session's Spark is marked `spark`, so `task test-fast` can leave it out."""
    for item in items:
        if SPARK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.spark)


def _clear_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Lakehouse, Databricks or dbt Cloud variables at all, as on a fresh clone."""
    _clear_settings_env(monkeypatch)
    return monkeypatch


@pytest.fixture
def local_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> LakehouseSettings:
    """Local settings with the warehouse and a copy of the seed CSVs under tmp_path."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp_path / "state" / "warehouse.duckdb"))
    clean_env.setenv("LAKEHOUSE_DATA_DIR", str(data))
    # Stand-ins started by a test must not collide with a developer's `task dev` or another test.
    clean_env.setenv("LAKEHOUSE_DATABRICKS_STANDIN_PORT", str(free_port()))
    clean_env.setenv("LAKEHOUSE_DBT_CLOUD_STANDIN_PORT", str(free_port()))
    return get_settings()
