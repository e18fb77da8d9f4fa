"""`lakehouse dbt-cloud prepare`: write the dbt Cloud workspace state the transformation location reads.

Loading Definitions never calls dbt Cloud; this deploy step does (one `dbt parse` run in dbt Cloud).
Locally it talks to the running stand-in, or starts one for the occasion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lakehouse_resources.locks import exclusive
from lakehouse_resources.settings import LakehouseSettings


def state_ready(settings: LakehouseSettings) -> bool:
    """Whether the state Definitions load is already written (then `prepare_state` does nothing)."""
    from lakehouse_resources.dbt_cloud_state import state_path

    return state_path(settings).exists()


def prepare_state(settings: LakehouseSettings, refresh: bool = False) -> Path:
    """Write the state file (kept when present unless `refresh`) and return its path."""
    from lakehouse_transformation.defs.dbt_cloud.workspace import build_workspace, prepare_dbt_cloud_state

    if not settings.uses_dbt_cloud_standin:
        return prepare_dbt_cloud_state(settings, refresh=refresh)
    workspace = build_workspace(settings)
    path = Path(workspace.state_path)
    if path.exists() and not refresh:
        return path  # before importing the stand-ins: they bring the Databricks SDK (~1 s)
    with _one_preparer(path):
        if path.exists() and not refresh:
            return path  # another process prepared it while this one waited
        return _prepare_on_standin(settings, workspace, path)


@contextmanager
def _one_preparer(path: Path) -> Iterator[None]:
    """One process prepares the state at a time. Two `task pipeline`s started together on a fresh
    checkout each started a short-lived stand-in, and both ran dbt in the same project folder: one
    read the other's half-written manifest and failed."""
    with exclusive(path.with_name(f"{path.name}.lock")):
        yield


def _prepare_on_standin(settings: LakehouseSettings, workspace: Any, path: Path) -> Path:
    from lakehouse_standins.local import dbt_cloud_config, port_answers

    if port_answers(settings.dbt_cloud_standin_port):
        workspace.prepare_state()
        return path
    from dagster_dbt.cloud_v2.resources import DbtCloudCredentials
    from lakehouse_standins.dbt_cloud import DbtCloudStandin

    # A short-lived stand-in on a free port; the state keeps the name loading computes from settings.
    with DbtCloudStandin(dbt_cloud_config(settings)) as standin:
        credentials = DbtCloudCredentials(
            account_id=workspace.credentials.account_id,
            token=workspace.credentials.token,
            access_url=standin.url,
        )
        workspace.model_copy(update={"credentials": credentials}).prepare_state()
    return path
