"""Start both stand-ins for the local environment, on the ports the settings name.

The stand-ins' server process (`shared.py`) runs this, so the Databricks notebook assets and the
dbt Cloud assets materialize locally with everything else; `task pipeline`, `task dev` and
`task standins` share that process.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from lakehouse_resources.settings import LakehouseSettings

from lakehouse_standins.databricks import DEFAULT_VOLUME, DatabricksStandin
from lakehouse_standins.dbt_cloud import DbtCloudStandin, StandinConfig


@dataclass(frozen=True)
class LocalStandins:
    databricks_url: str
    dbt_cloud_url: str
    started: tuple[str, ...]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def dbt_cloud_config(settings: LakehouseSettings) -> StandinConfig:
    return StandinConfig(
        project_dir=settings.dbt_dir / "kaizen_wars",
        work_dir=settings.state_dir / "dbt_cloud_standin",
        duckdb_path=settings.duckdb_path,
        account_id=settings.dbt_cloud_account_id or 1,
        project_id=settings.dbt_cloud_project_id or 1,
        environment_id=settings.dbt_cloud_environment_id or 1,
    )


def databricks_standin(settings: LakehouseSettings, port: int) -> DatabricksStandin:
    volume = settings.databricks_volume.removeprefix("/Volumes/").strip("/")
    return DatabricksStandin(
        settings.state_dir / "databricks_standin",
        settings.duckdb_path,
        port=port,
        code_roots=[settings.root / "notebooks"],
        clusters=[settings.databricks_cluster or "standin-cluster"],
        known_volumes=sorted({DEFAULT_VOLUME, volume}),
    )


@contextmanager
def local_standins(settings: LakehouseSettings) -> Iterator[LocalStandins]:
    """Run the stand-ins for as long as the block lasts; a no-op outside `local` or when a real
    workspace is configured explicitly."""
    started: list[str] = []
    with ExitStack() as stack:
        # A port already taken fails here: only this checkout's registry (shared.py) says which
        # server to share, never a port that merely answers.
        wants_databricks = settings.is_local and not settings.databricks_host
        if wants_databricks:
            stack.enter_context(databricks_standin(settings, settings.databricks_standin_port))
            started.append("databricks")
        wants_dbt_cloud = settings.is_local and not settings.dbt_cloud_access_url
        if wants_dbt_cloud:
            standin = DbtCloudStandin(dbt_cloud_config(settings), port=settings.dbt_cloud_standin_port)
            stack.enter_context(standin)
            started.append("dbt_cloud")
        yield LocalStandins(settings.databricks_standin_url, settings.dbt_cloud_standin_url, tuple(started))
