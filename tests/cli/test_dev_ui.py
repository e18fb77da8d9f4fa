"""`task dev`: the UI starts on 127.0.0.1 and reports every code location loaded, via GraphQL."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_support import require_cli
from runtime_support import alive, descendants, wait_for
from testsupport import REPO, free_port

pytestmark = pytest.mark.slow

LOCATIONS = {"ingestion", "transformation", "downstream", "domains"}

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


def stop(proc: subprocess.Popen[bytes]) -> tuple[int | None, set[int]]:
    """Ctrl-C `lakehouse dev` (SIGINT, as a terminal sends it); its exit code and whichever of its
    processes (dagster dev, webserver, daemon, code servers, stand-ins) outlived it."""
    family = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGINT)
    try:
        code: int | None = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        code = None
    with contextlib.suppress(AssertionError):
        wait_for(lambda: not any(alive(pid) for pid in family), "every child to stop", 60)
    survivors = {pid for pid in family if alive(pid)}
    for pid in survivors | ({proc.pid} if code is None else set()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    return code, survivors


@pytest.mark.databricks_cli
def test_ui_loads_every_location(local_settings: object, tmp_path: Path) -> None:
    require_cli()  # task dev deploys the bundle with the real CLI when it is here
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
            if len(entries) == len(LOCATIONS) and all(entry["loadStatus"] == "LOADED" for entry in entries):
                break
            time.sleep(1)
        repositories = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": SENSORS_QUERY}, timeout=30
        ).json()["data"]["repositoriesOrError"]["nodes"]
        # The bundle is deployed to the stand-in beside the code servers' start, by the real CLI.
        wait_for(
            lambda: "bundle deploy: databricks CLI" in (tmp_path / "dev.log").read_text(),
            "the bundle deploy",
            120,
        )
    finally:
        code, survivors = stop(proc)
    assert code == 0, "a Ctrl-C is a clean stop"
    assert not survivors, f"processes outlived lakehouse dev: {survivors}"
    assert {entry["name"] for entry in entries} == LOCATIONS
    assert [entry["locationOrLoadError"]["__typename"] for entry in entries] == ["RepositoryLocation"] * len(
        LOCATIONS
    )
    # every location evaluates its automation conditions as soon as the UI (and daemon) start
    automation = {
        repo["location"]["name"]: {
            sensor["name"]: sensor["sensorState"]["status"]
            for sensor in repo["sensors"]
            if sensor["sensorType"] == "AUTO_MATERIALIZE"  # automation condition sensors
        }
        for repo in repositories
    }
    assert set(automation) >= {"ingestion", "transformation", "downstream"}
    for location in ("transformation", "downstream"):  # ingestion's assets have no condition
        assert automation[location], f"{location} has no automation sensor"
    for location, sensors in automation.items():
        assert set(sensors.values()) <= {"RUNNING"}, (location, sensors)
    schedules = {schedule["name"] for repo in repositories for schedule in repo["schedules"]}
    assert "kaizen_wars_dlt_schedule" in schedules
