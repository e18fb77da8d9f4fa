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

from lakehouse_resources.settings import LOCAL_STANDIN_CLUSTER_ID, LakehouseSettings

from lakehouse_standins.databricks import DEFAULT_VOLUME, DatabricksStandin
from lakehouse_standins.databricks.spark_runtime import require_java
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
    target = settings.dbt_cloud_target()
    return StandinConfig(
        project_dir=settings.dbt_dir / "kaizen_wars",
        work_dir=settings.warehouse_state_dir / "dbt_cloud_standin",
        duckdb_path=settings.duckdb_path,
        account_id=target.account_id,
        project_id=target.project_id,
        environment_id=target.environment_id,
        token=target.token,
        keep_runs=settings.dbt_cloud_standin_keep_runs,
    )


def databricks_standin(
    settings: LakehouseSettings, port: int, spark_remote: str | None = None
) -> DatabricksStandin:
    """The stand-in with its own Spark under `<state>/spark`, or on the server at `spark_remote`."""
    volume = settings.databricks_volume.removeprefix("/Volumes/").strip("/")
    return DatabricksStandin(
        settings.warehouse_state_dir / "databricks_standin",
        settings.duckdb_path,
        port=port,
        token=settings.standin_token,
        clusters=[settings.databricks_cluster or LOCAL_STANDIN_CLUSTER_ID],
        known_volumes=sorted({DEFAULT_VOLUME, volume, *bundle_volumes(settings)}),
        spark_dir=settings.warehouse_state_dir / "spark",
        spark_remote=spark_remote,
        catalog=settings.catalog,
        spark_at_start=settings.standin_spark_at_start,
    )


def bundle_volumes(settings: LakehouseSettings) -> set[str]:
    """The landing Volumes the bundle's `local` target names, one per domain and source of its specs."""
    from lakehouse_resources.platform.specs import SpecError, load_specs
    from lakehouse_resources.platform.targets import BundleConfigError, bundle_for

    try:
        bundle = bundle_for(settings.root)
        specs = load_specs(bundle.root)
        landing = bundle.target("local").variables["landing_root"]
    except (SpecError, BundleConfigError, FileNotFoundError):
        return set()  # a broken bundle fails its own deploy with the reason; the stand-in still starts
    names = {(s.name.domain, s.name.source) for s in specs.specs}
    paths = {landing.format(domain=d, source=s).removeprefix("/Volumes/") for d, s in names}
    return {"/".join(path.split("/")[:3]) for path in paths}


@contextmanager
def local_standins(settings: LakehouseSettings) -> Iterator[LocalStandins]:
    """Run the stand-ins for as long as the block lasts; a no-op outside `local` or when a real
    workspace is configured explicitly."""
    started: list[str] = []
    with ExitStack() as stack:
        # A port already taken fails here: only this checkout's registry (shared.py) says which
        # server to share, never a port that merely answers.
        wants_databricks = settings.uses_databricks_standin
        if wants_databricks:
            require_java()  # before anything starts: one line naming what to install
            stack.enter_context(databricks_standin(settings, settings.databricks_standin_port))
            started.append("databricks")
        wants_dbt_cloud = settings.uses_dbt_cloud_standin
        if wants_dbt_cloud:
            standin = DbtCloudStandin(dbt_cloud_config(settings), port=settings.dbt_cloud_standin_port)
            stack.enter_context(standin)
            started.append("dbt_cloud")
        yield LocalStandins(settings.databricks_standin_url, settings.dbt_cloud_standin_url, tuple(started))
