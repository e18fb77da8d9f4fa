"""The Databricks stand-in: app factory and the handle tests and `task dev` start."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lakehouse_resources.settings import LOCAL_STANDIN_CLUSTER_ID
from starlette.applications import Starlette
from starlette.routing import Route

from lakehouse_standins.databricks import (
    deployed_jobs,
    history,
    jobs,
    pipeline_history,
    pipelines,
    run_page,
    tables,
    volumes,
    workspace,
)
from lakehouse_standins.databricks.auth import require_token
from lakehouse_standins.databricks.bridge import WarehouseBridge
from lakehouse_standins.databricks.environments import Environments
from lakehouse_standins.databricks.errors import unknown_endpoint
from lakehouse_standins.databricks.runs import Executor, Run, RunFault
from lakehouse_standins.databricks.spark_runtime import ExternalSpark, SparkRuntime, SparkServer
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.tasks import TaskLauncher
from lakehouse_standins.http import BackgroundServer, Recorder, with_recorder

DEFAULT_CLUSTER_ID = LOCAL_STANDIN_CLUSTER_ID
DEFAULT_VOLUME = "main/lakehouse/pipes"


@dataclass
class StandinState:
    """What a running app holds; `app.state.databricks` exposes it to the handle."""

    jobs: jobs.Jobs
    volumes: volumes.Volumes
    spark: SparkServer
    deployed_jobs: deployed_jobs.DeployedJobs
    pipelines: pipelines.Pipelines
    warehouse_path: Path
    workspace: workspace.Workspace
    store: Store


def create_databricks_app(
    state_dir: Path,
    warehouse_path: Path,
    recorder: Recorder,
    *,
    token: str,
    clusters: Iterable[str] = (DEFAULT_CLUSTER_ID,),
    known_volumes: Iterable[str] = (DEFAULT_VOLUME,),
    wheel_entries: Mapping[str, Path] | None = None,
    spark: SparkServer | None = None,
    catalog: str = "main",
) -> Starlette:
    """Jobs, Files (Volumes) and Clusters APIs; volumes are `catalog/schema/volume` names.

    Tasks run on `spark` (default: a server of its own under `<state_dir>/spark`, started with
    the stand-in's handle). The DuckDB warehouse at `warehouse_path` and Spark see each other's
    tables through the bridge (`bridge.py`), named by the local rule with `catalog`. Runs, jobs,
    pipelines and their updates are kept in `<state_dir>/history.sqlite` (`store.py`), the workspace's
    files under `<state_dir>/workspace`: a stand-in started again on `state_dir` still has them."""
    spark = spark or SparkRuntime(state_dir / "spark")
    vols = volumes.Volumes(state_dir / "volumes", list(known_volumes))
    files = workspace.Workspace(state_dir / "workspace")
    launcher = TaskLauncher(
        workspace=files,
        import_paths=Environments(state_dir / "environments", files),
        volumes_root=vols.root,
        wheel_entries=dict(wheel_entries or {}),
    )
    runs_dir = state_dir / "runs"
    store = Store(state_dir / "history.sqlite")
    bridge = WarehouseBridge(warehouse_path, state_dir / "bridge", catalog=catalog)
    executor = Executor(launcher, vols, spark, bridge, save=lambda run: history.save_run(store, run))
    job_api = jobs.Jobs(executor, runs_dir, clusters, store)
    # Deployed jobs and pipelines (what `databricks bundle deploy` creates); their runs/* routes
    # answer for job runs and hand one-time runs to the runs/submit routes.
    deployed = deployed_jobs.DeployedJobs(launcher, spark, runs_dir, set(clusters), store)
    pipeline_api = pipeline_history.PersistentPipelines(launcher, spark, state_dir / "pipelines", store)
    run_routes = jobs.routes(job_api)
    app = Starlette(
        routes=[
            *deployed_jobs.routes(deployed, run_routes, lambda: list(job_api.runs.values())),
            *run_routes,
            *pipelines.routes(pipeline_api),
            *volumes.routes(vols),
            *run_page.routes(job_api, deployed, pipeline_api),
            *workspace.routes(files),
            *tables.routes(spark),
            # Last: whatever no route above serves is a 404 naming the call.
            Route(
                "/{path:path}", unknown_endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
            ),
        ]
    )
    app.state.databricks = StandinState(
        job_api, vols, spark, deployed, pipeline_api, warehouse_path, files, store
    )
    app.state.unknown_calls = []
    return with_recorder(require_token(app, token), recorder)


class DatabricksStandin:
    """A stand-in on 127.0.0.1 (port 0 picks a free one); use as a context manager or start()/stop().

    It owns one local Spark (a Connect server with its catalog under `spark_dir`, default
    `<state_dir>/spark`) that starts in the background with the stand-in, so the JVM's 7-10 s
    overlap whatever runs before the first Databricks task, and stops with it. `spark_remote`
    (an `sc://` URL) uses a server someone else owns instead, as the tests' shared one.
    Every API call needs `Authorization: Bearer <token>`, as on a workspace.
    """

    def __init__(
        self,
        state_dir: Path,
        warehouse_path: Path,
        *,
        port: int = 0,
        recorder: Recorder | None = None,
        token: str | None = None,
        clusters: Iterable[str] = (DEFAULT_CLUSTER_ID,),
        known_volumes: Iterable[str] = (DEFAULT_VOLUME,),
        wheel_entries: Mapping[str, Path] | None = None,
        spark_dir: Path | None = None,
        spark_remote: str | None = None,
        catalog: str = "main",
        spark_at_start: bool = True,
    ) -> None:
        self.recorder = recorder or Recorder()
        # False: the JVM starts with the first Spark task (`SparkServer.remote()` starts it).
        self._spark_at_start = spark_at_start
        spark = (
            ExternalSpark(spark_remote) if spark_remote else SparkRuntime(spark_dir or state_dir / "spark")
        )
        # The token clients must send; a test that names none gets a random one (`standin.token`).
        self.token = token or secrets.token_urlsafe(24)
        app = create_databricks_app(
            state_dir,
            warehouse_path,
            self.recorder,
            token=self.token,
            clusters=clusters,
            known_volumes=known_volumes,
            wheel_entries=wheel_entries,
            spark=spark,
            catalog=catalog,
        )
        self._state: StandinState = app.state.databricks
        # The calls no route answered (404 ENDPOINT_NOT_FOUND), in order.
        self.unknown_calls: list[str] = app.state.unknown_calls
        self._server = BackgroundServer(app, port=port)

    def start(self) -> str:
        url = self._server.start()
        if self._spark_at_start:
            self._state.spark.start()
        return url

    def stop(self) -> None:
        self._state.jobs.cancel_all()
        self._state.deployed_jobs.cancel_all()
        self._state.pipelines.cancel_all()
        self._server.stop()
        self._state.spark.stop()
        self._state.store.close()

    def __enter__(self) -> DatabricksStandin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def volumes_root(self) -> Path:
        return self._state.volumes.root

    @property
    def warehouse_path(self) -> Path:
        return self._state.warehouse_path

    @property
    def spark(self) -> SparkServer:
        return self._state.spark

    @property
    def deployed_jobs(self) -> deployed_jobs.DeployedJobs:
        return self._state.deployed_jobs

    @property
    def pipelines(self) -> pipelines.Pipelines:
        return self._state.pipelines

    def script_run(self, fault: RunFault) -> None:
        """Apply `fault` to the next submitted run (faults queue up, one per run)."""
        self._state.jobs.scripted_faults.append(fault)

    def run(self, run_id: int) -> Run:
        return self._state.jobs.get(run_id)

    @property
    def runs(self) -> list[Run]:
        return list(self._state.jobs.runs.values())

    @property
    def workspace(self) -> workspace.Workspace:
        return self._state.workspace

    def volume_files(self) -> list[Path]:
        return self._state.volumes.files()
