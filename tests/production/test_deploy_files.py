"""deploy/: the instance file validates against Dagster's schema, the workspace covers every location."""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from lakehouse_resources.paths import repo_root

DEPLOY = repo_root() / "deploy"


def test_instance_config_is_valid_and_takes_every_connection_value_from_the_environment(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    for name in (
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    ):
        clean_env.setenv(name, "5432" if name.endswith("PORT") else f"value-of-{name}")
    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))

    postgres_db = config["storage"]["postgres"]["postgres_db"]
    assert {key: value for key, value in postgres_db.items() if key != "scheme"} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["max_concurrent_runs"] > 0
    assert config["concurrency"]["pools"]["default_limit"] >= 1
    assert config["run_monitoring"]["enabled"] is True


def test_production_workspace_serves_every_location_from_its_own_code_server() -> None:
    local = yaml.safe_load((repo_root() / "workspace.yaml").read_text())["load_from"]
    production = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    servers = [entry["grpc_server"] for entry in production]
    assert sorted(s["location_name"] for s in servers) == sorted(
        entry["python_module"]["location_name"] for entry in local
    )
    assert len({s["port"] for s in servers}) == len(servers)
    # docs/operations.md starts one server per location on the port the workspace names
    operations = re.sub(r"\s+", " ", (repo_root() / "docs" / "operations.md").read_text())
    for server in servers:
        assert f"--location-name {server['location_name']} -p {server['port']}" in operations
