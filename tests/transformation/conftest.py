"""A dbt Cloud stand-in over a temporary warehouse, shared by the dbt Cloud tests of this module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, get_settings
from lakehouse_standins.dbt_cloud import DbtCloudStandin, StandinConfig


def seed_fact_virtual(warehouse: Path) -> None:
    """What the dlt load leaves behind: raw.fact_virtual from the committed CSV."""
    csv = repo_root() / "data" / "raw_fact_virtual.csv"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        con.execute(
            f"create or replace table raw.fact_virtual as select * from read_csv('{csv}', header = true)"
        )


@pytest.fixture(scope="module")
def dbtc_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("dbtc_warehouse") / "warehouse.duckdb"
    seed_fact_virtual(warehouse)
    return warehouse


@pytest.fixture(scope="module")
def dbtc_standin(dbtc_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtCloudStandin]:
    config = StandinConfig(
        project_dir=repo_root() / "dbt" / "kaizen_wars",
        work_dir=tmp_path_factory.mktemp("dbtc_standin"),
        duckdb_path=dbtc_warehouse,
    )
    with DbtCloudStandin(config) as standin:
        yield standin


def dbtc_settings_for(standin: DbtCloudStandin, warehouse: Path) -> LakehouseSettings:
    return get_settings(
        env="local",
        duckdb_path_override=warehouse,
        dbt_cloud_access_url=standin.url,
        dbt_cloud_token=standin.config.token,
    )


@pytest.fixture(scope="module")
def dbtc_settings_for_warehouse(dbtc_standin: DbtCloudStandin) -> Callable[[Path], LakehouseSettings]:
    """Settings against the shared stand-in with another warehouse (and so another state folder)."""
    return lambda warehouse: dbtc_settings_for(dbtc_standin, warehouse)


@pytest.fixture(scope="module")
def dbtc_settings(dbtc_standin: DbtCloudStandin, dbtc_warehouse: Path) -> LakehouseSettings:
    return dbtc_settings_for(dbtc_standin, dbtc_warehouse)


@pytest.fixture(scope="module")
def dbtc_defs(dbtc_settings: LakehouseSettings) -> dg.Definitions:
    from lakehouse_transformation.defs.dbt_cloud import build_dbt_cloud_defs, prepare_dbt_cloud_state

    prepare_dbt_cloud_state(dbtc_settings)  # the deploy step; loading only reads its file
    return build_dbt_cloud_defs(dbtc_settings)


@pytest.fixture
def dbtc_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _dbtc_clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "dbtc_standin" in request.fixturenames:
        standin: DbtCloudStandin = request.getfixturevalue("dbtc_standin")
        standin.recorder.faults.clear()
        standin.executor.faults.clear()
