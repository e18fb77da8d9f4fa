"""`task dev` until every location is loaded, against `dagster dev` loading as many locations whose
Definitions are empty: both from a fresh process on a free port, the clock stopping when the
webserver's GraphQL workspace reports every location LOADED (what a user waits for in the UI).

`lakehouse_dev` is `lakehouse dev` as `task dev` runs it (stand-ins and the local instance included),
on a warehouse of its own under the bench folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from lakehouse_resources.processes import start_child, stop_group

from lakehouse_cli.bench.timing import interleaved, summarize


def _location_count() -> int:
    """As many as workspace.yaml loads (the empty baseline gets the same number)."""
    from lakehouse_resources.paths import repo_root

    return (repo_root() / "workspace.yaml").read_text().count("location_name:")


_QUERY = (
    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
    " locationOrLoadError { __typename } } } } }"
)
_TIMEOUT_SECONDS = 600.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _all_loaded(port: int, count: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": _QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
    except (urllib.error.URLError, OSError, KeyError, TypeError, ValueError):
        return False
    return len(entries) == count and all(
        entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        for entry in entries
    )


def until_loaded(command: list[str], env: dict[str, str], port: int, cwd: Path, count: int) -> float:
    """Seconds from starting `command` until its UI on `port` has every location loaded."""
    start = time.perf_counter()
    process = start_child(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        parent_death_signal=signal.SIGTERM,
    )
    try:
        while not _all_loaded(port, count):
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode} before loading")
            if time.perf_counter() - start > _TIMEOUT_SECONDS:
                raise RuntimeError(f"{command[:4]} did not load {count} locations in time")
            time.sleep(0.1)
        return time.perf_counter() - start
    finally:
        # An orderly stop first (dagster dev stops its webserver, daemon and code servers).
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(60)
        stop_group(process)


def _empty_workspace(work: Path, count: int) -> Path:
    folder = work / "empty_locations"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for index in range(count):
        module = folder / f"empty_{index}.py"
        module.write_text("import dagster as dg\n\ndefs = dg.Definitions()\n")
        entries.append(
            f"  - python_file:\n      relative_path: {module.name}\n      location_name: empty_{index}\n"
        )
    workspace = folder / "workspace.yaml"
    workspace.write_text("load_from:\n" + "".join(entries))
    return workspace


def run(work: Path, repeat: int, warmup: bool = True) -> dict[str, object]:
    count = _location_count()
    workspace = _empty_workspace(work, count)
    empty_home = work / "empty_dagster_home"
    empty_home.mkdir(parents=True, exist_ok=True)
    dev_state = work / "lakehouse_dev"
    base_env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}

    def empty_dagster_dev() -> float:
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(workspace),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ]
        return until_loaded(
            command, {**base_env, "DAGSTER_HOME": str(empty_home)}, port, workspace.parent, count
        )

    # The same stand-in ports every round, as a user's restarts have: the dbt Cloud state (named
    # after its stand-in's URL) is prepared once, by the first round, not on every start.
    standin_ports = {
        "LAKEHOUSE_DATABRICKS_STANDIN_PORT": str(_free_port()),
        "LAKEHOUSE_DBT_CLOUD_STANDIN_PORT": str(_free_port()),
    }

    def lakehouse_dev() -> float:
        port = _free_port()
        env = {
            **base_env,
            "DAGSTER_PORT": str(port),
            "LAKEHOUSE_DUCKDB_PATH": str(dev_state / "warehouse.duckdb"),
            **standin_ports,
        }
        return until_loaded([sys.executable, "-m", "lakehouse_cli.main", "dev"], env, port, work, count)

    cases = {"empty_dagster_dev": empty_dagster_dev, "lakehouse_dev": lakehouse_dev}
    return summarize(interleaved(cases, repeat, warmup), "empty_dagster_dev", locations=count)
