"""`task dev`: the UI starts on 127.0.0.1 and reports every code location loaded, via GraphQL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from testsupport import REPO, free_port

pytestmark = pytest.mark.slow

LOCATIONS_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


SENSORS_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    location { name }
    sensors { name sensorType sensorState { status } }
    schedules { name }
} } } }
"""


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(proc: subprocess.Popen[bytes]) -> bool:
    """Stop `lakehouse dev` and wait for its whole process group (webserver, daemon, code servers)."""
    for sig, wait in ((signal.SIGTERM, 60.0), (signal.SIGKILL, 10.0)):
        if group_alive(proc.pid):
            os.kill(proc.pid, sig) if sig == signal.SIGTERM else os.killpg(proc.pid, sig)
        deadline = time.monotonic() + wait
        while group_alive(proc.pid) and time.monotonic() < deadline:
            proc.poll()  # reap our own child: a zombie still counts as a group member
            time.sleep(0.5)
        if not group_alive(proc.pid):
            proc.wait(timeout=10)
            return sig == signal.SIGTERM
    return False


def test_ui_loads_every_location(local_settings: object, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DAGSTER_PORT": str(port)}
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakehouse_cli.main", "dev"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    entries: list[dict] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": LOCATIONS_QUERY}, timeout=10
                )
                entries = response.json()["data"]["workspaceOrError"]["locationEntries"]
            except (httpx.HTTPError, KeyError, ValueError):
                entries = []
            if len(entries) == 3 and all(entry["loadStatus"] == "LOADED" for entry in entries):
                break
            time.sleep(1)
        repositories = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": SENSORS_QUERY}, timeout=30
        ).json()["data"]["repositoriesOrError"]["nodes"]
    finally:
        stopped_cleanly = stop(proc)
    assert stopped_cleanly, "dagster dev and its children did not stop on SIGTERM"
    assert {entry["name"] for entry in entries} == {"ingestion", "transformation", "downstream"}
    assert [entry["locationOrLoadError"]["__typename"] for entry in entries] == ["RepositoryLocation"] * 3
    # every location evaluates its automation conditions as soon as the UI (and daemon) start
    automation = {
        repo["location"]["name"]: {
            sensor["name"]: sensor["sensorState"]["status"]
            for sensor in repo["sensors"]
            if sensor["sensorType"] == "AUTO_MATERIALIZE"  # automation condition sensors
        }
        for repo in repositories
    }
    assert set(automation) == {"ingestion", "transformation", "downstream"}
    for location, sensors in automation.items():
        assert sensors, f"{location} has no automation sensor"
        assert set(sensors.values()) == {"RUNNING"}, (location, sensors)
    schedules = {schedule["name"] for repo in repositories for schedule in repo["schedules"]}
    assert "kaizen_wars_dlt_schedule" in schedules
