"""The local Dagster instance home."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from lakehouse_resources.settings import LakehouseSettings


def prepare_dagster_home(settings: LakehouseSettings) -> Path:
    """Write the local instance config under the state folder and point DAGSTER_HOME at it.

    An explicitly set DAGSTER_HOME (a production deployment) is left alone.
    """
    if explicit := os.environ.get("DAGSTER_HOME"):
        return Path(explicit)
    home = settings.state_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = files("lakehouse_cli").joinpath("instance/local.yaml").read_text()
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != config:
        target.write_text(config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
