"""The settings find the ports this checkout's running stand-ins recorded, whoever started them.

`task standins` then `dg dev`: the code servers get no port variables, and the stand-in may serve on
another port than 8765/8766 (taken by something else). No server is started here: a `server.json`
naming a live pid (this test's) stands for one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lakehouse_resources.settings import LakehouseSettings, get_settings
from lakehouse_standins.shared import planned_settings, registry_dir

DEFAULTS = (8765, 8766)
RECORDED = (18765, 18766)


@pytest.fixture
def state(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> LakehouseSettings:
    """Settings on a warehouse under tmp_path, with no stand-in port variable set."""
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp_path / "state" / "warehouse.duckdb"))
    settings = get_settings()
    assert (settings.databricks_standin_port, settings.dbt_cloud_standin_port) == DEFAULTS
    return settings


def record_server(settings: LakehouseSettings, pid: int, **changes: object) -> None:
    """Write the checkout's `server.json` as the stand-in server does (`lakehouse_standins.shared`)."""
    folder = registry_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": pid,
        "root": str(settings.root),
        "warehouse": str(settings.duckdb_path),
        "databricks_port": RECORDED[0],
        "dbt_cloud_port": RECORDED[1],
        **changes,
    }
    (folder / "server.json").write_text(json.dumps(record))


def ports(settings: LakehouseSettings) -> tuple[int, int]:
    return settings.databricks_standin_port, settings.dbt_cloud_standin_port


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_unset_ports_are_the_live_servers_recorded_ports(state: LakehouseSettings) -> None:
    record_server(state, os.getpid())

    settings = get_settings()

    assert ports(settings) == RECORDED
    assert settings.databricks_standin_url == f"http://127.0.0.1:{RECORDED[0]}"
    assert settings.databricks_workspace_url == settings.databricks_standin_url
    assert settings.dbt_cloud_target().access_url == f"http://127.0.0.1:{RECORDED[1]}"
    # `task dev` and `task pipeline` join that server on the same ports the settings name.
    assert planned_settings(settings) == settings


def test_a_dead_servers_record_is_ignored(state: LakehouseSettings) -> None:
    record_server(state, dead_pid())

    assert ports(get_settings()) == DEFAULTS


@pytest.mark.parametrize(
    "changes",
    [
        {"root": "/somewhere/else"},
        {"warehouse": "/somewhere/else/warehouse.duckdb"},
        {"databricks_port": "18765", "dbt_cloud_port": 0},
    ],
    ids=["another checkout", "another warehouse", "malformed ports"],
)
def test_a_record_for_something_else_is_ignored(state: LakehouseSettings, changes: dict[str, object]) -> None:
    record_server(state, os.getpid(), **changes)

    assert ports(get_settings()) == DEFAULTS


def test_an_unreadable_record_is_ignored(state: LakehouseSettings) -> None:
    registry_dir(state).mkdir(parents=True)
    (registry_dir(state) / "server.json").write_text("{half a rec")

    assert ports(get_settings()) == DEFAULTS


def test_an_explicit_variable_wins(state: LakehouseSettings, clean_env: pytest.MonkeyPatch) -> None:
    record_server(state, os.getpid())
    clean_env.setenv("LAKEHOUSE_DATABRICKS_STANDIN_PORT", "9001")

    # Each port on its own: the one without a variable still comes from the record.
    assert ports(get_settings()) == (9001, RECORDED[1])
    assert ports(get_settings(dbt_cloud_standin_port=9002)) == (9001, 9002)


def test_only_local_settings_read_the_record(state: LakehouseSettings, clean_env: pytest.MonkeyPatch) -> None:
    record_server(state, os.getpid())
    clean_env.setenv("LAKEHOUSE_ENV", "dev")
    clean_env.setenv("DATABRICKS_HOST", "https://example.cloud.databricks.com")
    clean_env.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/x")

    assert ports(get_settings()) == DEFAULTS
