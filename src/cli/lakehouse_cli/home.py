"""The local Dagster instance home."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef
from lakehouse_resources.locks import exclusive
from lakehouse_resources.settings import LakehouseSettings


def prepare_dagster_home(settings: LakehouseSettings) -> Path:
    """Write the local instance config under the state folder and return that DAGSTER_HOME.

    An explicitly set DAGSTER_HOME (a production deployment) is returned untouched.
    """
    if explicit := os.environ.get("DAGSTER_HOME"):
        return Path(explicit)
    home = settings.state_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = files("lakehouse_cli").joinpath("instance/local.yaml").read_text()
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != config:
        target.write_text(config)
    return home


def local_instance(settings: LakehouseSettings) -> dg.DagsterInstance:
    """Open the local instance; creation is serialized because two processes creating a fresh
    SQLite storage at once race on its schema ("table ... already exists")."""
    home = prepare_dagster_home(settings)
    with exclusive(home / ".create.lock"):
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def point_dg_at_local_instance(settings: LakehouseSettings, home: Path) -> Path | None:
    """Name the local instance in the checkout's `.env`, which `dg dev` loads from the workspace
    root: without DAGSTER_HOME it would make a throw-away `.tmp_dagster_home_*` there, with no
    run history and no `duckdb_warehouse` limit. A DAGSTER_HOME line already there is kept, and a
    warehouse outside the checkout's state folder (a test's) leaves `.env` alone."""
    if settings.state_dir != settings.root / ".lakehouse" or os.environ.get("DAGSTER_HOME"):
        return None
    env_file = settings.root / ".env"
    text = env_file.read_text() if env_file.exists() else ""
    if any(line.strip().startswith("DAGSTER_HOME=") for line in text.splitlines()):
        return None
    prefix = "" if not text or text.endswith("\n") else "\n"
    note = "# Written by `lakehouse home`: `dg dev` uses the local instance that `task dev` uses.\n"
    env_file.write_text(f"{text}{prefix}{note}DAGSTER_HOME={home}\n")
    return env_file
