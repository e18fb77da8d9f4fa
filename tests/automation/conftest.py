"""The four locations built once, from the real builders with local settings, for every test here."""

from __future__ import annotations

import os
import shutil

import pytest
from automation_support import Lakehouse
from lakehouse_cli.dbt_cloud import prepare_state
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_downstream.defs.build import build_downstream_defs
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.settings import get_settings
from lakehouse_transformation.defs.build import build_transformation_defs
from testsupport import REPO, free_port

# The variables the root conftest's `clean_env` clears.
SETTING_PREFIXES = ("LAKEHOUSE_", "DATABRICKS_", "DBT_CLOUD_", "DAGSTER_HOME")


@pytest.fixture(scope="session")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    # Built once per session, after the dbt Cloud state is prepared (with a short-lived stand-in),
    # as `task dev` does. The environment is only needed while building, so it is restored right after.
    with pytest.MonkeyPatch.context() as monkeypatch:
        tmp = tmp_path_factory.mktemp("lakehouse")
        # As the `local_settings` fixture does, once for the session.
        for name in list(os.environ):
            if name.startswith(SETTING_PREFIXES):
                monkeypatch.delenv(name)
        shutil.copytree(REPO / "data", tmp / "data")
        monkeypatch.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp / "state" / "warehouse.duckdb"))
        monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp / "data"))
        monkeypatch.setenv("LAKEHOUSE_DATABRICKS_STANDIN_PORT", str(free_port()))
        monkeypatch.setenv("LAKEHOUSE_DBT_CLOUD_STANDIN_PORT", str(free_port()))
        settings = get_settings()
        prepare_state(settings)
        locations = {
            "ingestion": build_ingestion_defs(settings),
            "transformation": build_transformation_defs(settings),
            "downstream": build_downstream_defs(settings),
            "domains": build_domains_defs(settings),
        }
    return Lakehouse(locations)
