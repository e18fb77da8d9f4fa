"""dev, staging and prod switch every target from the one settings object, offline.

Outside local, the transformation location's dbt Cloud part fetches its workspace state from
dbt Cloud the first time it loads (it persists it for later loads), so offline the location's
dbt Core part is loaded directly here: its project, target, profile and assets.
"""

import json
import os
import shutil
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from conftest import (
    DUMMY_PRODUCTION_ENV,
    DUMMY_SQLSERVER_PASSWORD,
    DUMMY_TOKEN,
    PRODUCTION_ENVS,
)
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster_dbt import DbtCliResource
from dagster_shared.serdes import serialize_value
from dagster_sling import SlingResource
from dagster_sling.asset_decorator import METADATA_KEY_REPLICATION_CONFIG
from lakehouse_downstream.defs.build import build_downstream_defs
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_ingestion.defs.kaizen_wars.assets import kaizen_wars_pipeline
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, SettingsError, get_settings
from lakehouse_transformation.defs.jaffle_shop.assets import build_jaffle_shop_assets
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project

Settings = Callable[[str], LakehouseSettings]
HOSTNAME = "dummy-workspace.cloud.databricks.com"
RAW_KEYS = {key.to_user_string() for key in (*JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL)}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's dbt projects: parsing for a Databricks target writes its target/.
    One per module: each environment's manifest (target/defs-<profile>/) is then parsed once."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(repo_root() / "dbt", root / "dbt", ignore=shutil.ignore_patterns("logs", "dbt_packages"))
    # The bundle's targets hold each environment's catalog and table rule.
    shutil.copytree(
        repo_root() / "databricks", root / "databricks", ignore=shutil.ignore_patterns("__pycache__", "dist")
    )
    return root


@pytest.fixture
def dbt_copy(checkout: Path, clean_env: pytest.MonkeyPatch) -> Path:
    clean_env.setenv("LAKEHOUSE_ROOT", str(checkout))
    clean_env.setenv("LAKEHOUSE_DATA_DIR", str(repo_root() / "data"))
    return checkout


def sling_of(defs: dg.Definitions) -> SlingResource:
    resource = (defs.resources or {})["sling"]
    assert isinstance(resource, SlingResource)
    return resource


def connections(resource: SlingResource) -> dict[str, dict[str, Any]]:
    """What Sling receives at run time, per connection name (EnvVar values resolved)."""
    return {name: json.loads(value) for name, value in resource.prepare_environment().items()}


def sling_replication_source(defs: dg.Definitions, key: dg.AssetKey) -> str:
    assets_def = defs.resolve_assets_def(key)
    replication = next(iter(assets_def.metadata_by_key.values()))[METADATA_KEY_REPLICATION_CONFIG]
    return replication["source"]


def rendered_dbt_profile(project_dir: Path, target: str, env: dict[str, str]) -> Any:
    """The profile dbt renders for `target` from profiles.yml, as a dbt run would."""
    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_invocation_context(env)
    set_from_args(Namespace(profiles_dir=str(project_dir)), None)
    return load_profile(str(project_dir), {}, None, target)


@pytest.mark.parametrize("env", PRODUCTION_ENVS)
def test_every_target_follows_the_environment_offline(
    env: str, production_env: Settings, dbt_copy: Path, no_network: list[Any]
) -> None:
    settings = production_env(env)
    assert settings.catalog == f"{env}_catalog"

    # ingestion: Sling writes to Databricks, the jaffle shop comes from SQL Server, dlt to Databricks
    ingestion = build_ingestion_defs(settings)
    assert {k.to_user_string() for k in ingestion.resolve_asset_graph().materializable_asset_keys} == RAW_KEYS
    sling = sling_of(ingestion)
    conns = connections(sling)
    assert conns["WAREHOUSE"] == {
        "name": "WAREHOUSE",
        "type": "databricks",
        "host": HOSTNAME,
        "token": DUMMY_TOKEN,
        "http_path": DUMMY_PRODUCTION_ENV["DATABRICKS_HTTP_PATH"],
        "catalog": f"{env}_catalog",
        "schema": "raw",
    }
    assert conns["SQL_SERVER"]["type"] == "sqlserver"
    assert conns["SQL_SERVER"]["url"] == DUMMY_PRODUCTION_ENV["LAKEHOUSE_SQLSERVER_URL"]
    assert "POSTGRES" not in conns
    assert all(sling_replication_source(ingestion, key) == "SQL_SERVER" for key in JAFFLE_SHOP_RAW)

    destination = kaizen_wars_pipeline(settings).destination
    assert destination.destination_name == "databricks"
    assert destination.config_params["credentials"] == {
        "server_hostname": HOSTNAME,
        "http_path": DUMMY_PRODUCTION_ENV["DATABRICKS_HTTP_PATH"],
        "catalog": f"{env}_catalog",
        "access_token": DUMMY_TOKEN,
    }

    # transformation, dbt Core: the Databricks target named after the environment
    project = jaffle_shop_project(settings)
    assert project.project_dir == dbt_copy / "dbt" / "jaffle_shop"
    dbt = DbtCliResource(project_dir=project)
    assert dbt.target == env
    # The run's environment: ensure_local_tools exports child_process_env() before dbt starts.
    profile = rendered_dbt_profile(project.project_dir, env, {**os.environ, **settings.child_process_env()})
    credentials = profile.credentials
    assert (profile.target_name, credentials.type) == (env, "databricks")
    assert (credentials.host, credentials.http_path) == (
        HOSTNAME,
        DUMMY_PRODUCTION_ENV["DATABRICKS_HTTP_PATH"],
    )
    assert (credentials.database, credentials.schema) == (f"{env}_catalog", "jaffle_shop")
    assert credentials.token == DUMMY_TOKEN
    dbt_assets = build_jaffle_shop_assets(settings)
    assert dg.AssetKey(["jaffle_shop", "customers"]) in dbt_assets.keys

    # downstream
    downstream = build_downstream_defs(settings)
    assert downstream.resolve_asset_graph().materializable_asset_keys

    assert no_network == []


def test_dev_without_sql_server_replicates_the_seed_files_to_databricks(
    production_env: Settings, dbt_copy: Path, no_network: list[Any], clean_env: pytest.MonkeyPatch
) -> None:
    production_env("dev")
    clean_env.delenv("LAKEHOUSE_SQLSERVER_URL")
    settings = get_settings()
    ingestion = build_ingestion_defs(settings)
    assert {k.to_user_string() for k in ingestion.resolve_asset_graph().materializable_asset_keys} == RAW_KEYS
    assert all(sling_replication_source(ingestion, key) == "LOCAL" for key in JAFFLE_SHOP_RAW)
    sling = sling_of(ingestion)
    assert connections(sling)["WAREHOUSE"]["type"] == "databricks"
    assert "SQL_SERVER" not in connections(sling)


def test_locally_the_same_builders_use_duckdb_and_the_csv_files(local_settings: LakehouseSettings) -> None:
    ingestion = build_ingestion_defs(local_settings)
    sling = sling_of(ingestion)
    assert connections(sling)["WAREHOUSE"] == {
        "name": "WAREHOUSE",
        "type": "duckdb",
        "instance": str(local_settings.duckdb_path),
    }
    assert kaizen_wars_pipeline(local_settings).destination.destination_name == "duckdb"
    assert jaffle_shop_project(local_settings).target == "local"


def test_missing_production_settings_fail_with_one_message_naming_each(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_ENV", "prod")
    with pytest.raises(SettingsError) as err:
        get_settings()
    message = str(err.value)
    for name in ("DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "DATABRICKS_TOKEN", "LAKEHOUSE_SQLSERVER_URL"):
        assert name in message
    assert message.count("Invalid Lakehouse settings") == 1


def test_malformed_urls_are_named_with_the_missing_ones_and_never_echoed(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("LAKEHOUSE_ENV", "staging")
    clean_env.setenv("LAKEHOUSE_SQLSERVER_URL", "sqlserver://sa:Secret-123@db:1433")  # no database
    clean_env.setenv("LAKEHOUSE_POSTGRES_URL", "mysql://u:Secret-456@db/shop")
    with pytest.raises(SettingsError) as err:
        get_settings()
    message = str(err.value)
    for name in (
        "LAKEHOUSE_SQLSERVER_URL",
        "LAKEHOUSE_POSTGRES_URL",
        "DATABRICKS_HOST",
        "DATABRICKS_HTTP_PATH",
    ):
        assert name in message
    assert "Secret-" not in message


def test_ingestion_names_the_credentials_it_still_needs(clean_env: pytest.MonkeyPatch) -> None:
    # A CLI profile is enough for dbt and the notebooks, so the settings load...
    clean_env.setenv("LAKEHOUSE_ENV", "prod")
    clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    clean_env.setenv("DATABRICKS_HOST", DUMMY_PRODUCTION_ENV["DATABRICKS_HOST"])
    clean_env.setenv("DATABRICKS_HTTP_PATH", DUMMY_PRODUCTION_ENV["DATABRICKS_HTTP_PATH"])
    settings = get_settings()
    # ...but Sling and dlt need a token, and prod's replication its SQL Server.
    with pytest.raises(SettingsError, match=r"DATABRICKS_TOKEN, LAKEHOUSE_SQLSERVER_URL"):
        build_ingestion_defs(settings)


def test_no_secret_reaches_the_location_snapshot(
    production_env: Settings, clean_env: pytest.MonkeyPatch, no_network: list[Any]
) -> None:
    """The UI shows resource config from the snapshot: secrets appear only as variable names."""
    clean_env.setenv("LAKEHOUSE_POSTGRES_URL", "postgresql://shop:pg-dummy-password@pg.invalid:5432/shop")
    defs = build_ingestion_defs(production_env("prod"))
    assert {"raw_pg/orders", "raw/raw_orders"} <= {
        k.to_user_string() for k in defs.resolve_asset_graph().materializable_asset_keys
    }
    snapshot = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert "LAKEHOUSE_SQLSERVER_URL" in snapshot
    for secret in (DUMMY_TOKEN, DUMMY_SQLSERVER_PASSWORD, "pg-dummy-password"):
        assert secret not in snapshot


def test_local_keeps_the_seed_files_even_with_a_sql_server_url(
    local_settings: LakehouseSettings, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("LAKEHOUSE_SQLSERVER_URL", DUMMY_PRODUCTION_ENV["LAKEHOUSE_SQLSERVER_URL"])
    ingestion = build_ingestion_defs(get_settings())
    assert "SQL_SERVER" not in connections(sling_of(ingestion))
    assert {k.to_user_string() for k in ingestion.resolve_asset_graph().materializable_asset_keys} == RAW_KEYS


@pytest.mark.parametrize("env", PRODUCTION_ENVS)
def test_the_transformation_location_loads_offline_or_names_the_prepare_step(
    env: str, production_env: Settings, dbt_copy: Path, no_network: list[Any]
) -> None:
    """Loading never calls dbt Cloud: without a prepared state it says which deploy step writes it."""
    from lakehouse_transformation.defs.build import build_transformation_defs
    from lakehouse_transformation.defs.dbt_cloud.workspace import DbtCloudStateError

    settings = production_env(env)
    with pytest.raises(DbtCloudStateError, match=r"`uv run lakehouse dbt-cloud prepare`"):
        build_transformation_defs(settings)
    assert no_network == [], "loading opened a connection"
