"""Fixtures shared by every test folder: an isolated environment and a warehouse in tmp."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, get_settings

REPO = repo_root()
SETTING_PREFIXES = ("LAKEHOUSE_", "DATABRICKS_", "DBT_CLOUD_", "DAGSTER_HOME")


def _clear_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No Lakehouse, Databricks or dbt Cloud variables at all, as on a fresh clone."""
    _clear_settings_env(monkeypatch)
    yield monkeypatch


@pytest.fixture
def local_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> LakehouseSettings:
    """Local settings with the warehouse and a copy of the seed CSVs under tmp_path."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp_path / "state" / "warehouse.duckdb"))
    clean_env.setenv("LAKEHOUSE_DATA_DIR", str(data))
    return get_settings()
