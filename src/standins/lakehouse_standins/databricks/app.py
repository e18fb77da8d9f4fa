"""The Databricks stand-in: app factory and the handle tests and `task dev` start."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lakehouse_resources.settings import LOCAL_STANDIN_CLUSTER_ID
from starlette.applications import Starlette

from lakehouse_standins.databricks import jobs, run_page, volumes
from lakehouse_standins.databricks.auth import require_token
from lakehouse_standins.databricks.runs import Executor, Run, RunFault
from lakehouse_standins.databricks.tasks import TaskLauncher
from lakehouse_standins.http import BackgroundServer, Recorder, with_recorder

DEFAULT_CLUSTER_ID = LOCAL_STANDIN_CLUSTER_ID
DEFAULT_VOLUME = "main/lakehouse/pipes"


@dataclass
class StandinState:
    """What a running app holds; `app.state.databricks` exposes it to the handle."""

    jobs: jobs.Jobs
    volumes: volumes.Volumes


def create_databricks_app(
    state_dir: Path,
    warehouse_path: Path,
    recorder: Recorder,
    *,
    token: str,
    code_roots: Iterable[Path] = (),
    clusters: Iterable[str] = (DEFAULT_CLUSTER_ID,),
    known_volumes: Iterable[str] = (DEFAULT_VOLUME,),
    wheel_entries: Mapping[str, Path] | None = None,
) -> Starlette:
    """Jobs, Files (Volumes) and Clusters APIs; volumes are `catalog/schema/volume` names."""
    vols = volumes.Volumes(state_dir / "volumes", list(known_volumes))
    launcher = TaskLauncher(
        code_roots=[Path(root) for root in code_roots],
        warehouse_path=warehouse_path,
        volumes_root=vols.root,
        wheel_entries=dict(wheel_entries or {}),
    )
    runs_dir = state_dir / "runs"
    job_api = jobs.Jobs(Executor(launcher, vols), runs_dir, clusters)
    app = Starlette(routes=[*jobs.routes(job_api), *volumes.routes(vols), *run_page.routes(job_api)])
    app.state.databricks = StandinState(job_api, vols)
    return with_recorder(require_token(app, token), recorder)


class DatabricksStandin:
    """A stand-in on 127.0.0.1 (port 0 picks a free one); use as a context manager or start()/stop().

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
        code_roots: Iterable[Path] = (),
        clusters: Iterable[str] = (DEFAULT_CLUSTER_ID,),
        known_volumes: Iterable[str] = (DEFAULT_VOLUME,),
        wheel_entries: Mapping[str, Path] | None = None,
    ) -> None:
        self.recorder = recorder or Recorder()
        # The token clients must send; a test that names none gets a random one (`standin.token`).
        self.token = token or secrets.token_urlsafe(24)
        app = create_databricks_app(
            state_dir,
            warehouse_path,
            self.recorder,
            token=self.token,
            code_roots=code_roots,
            clusters=clusters,
            known_volumes=known_volumes,
            wheel_entries=wheel_entries,
        )
        self._state: StandinState = app.state.databricks
        self._server = BackgroundServer(app, port=port)

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._state.jobs.cancel_all()
        self._server.stop()

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

    def script_run(self, fault: RunFault) -> None:
        """Apply `fault` to the next submitted run (faults queue up, one per run)."""
        self._state.jobs.scripted_faults.append(fault)

    def run(self, run_id: int) -> Run:
        return self._state.jobs.get(run_id)

    @property
    def runs(self) -> list[Run]:
        return list(self._state.jobs.runs.values())

    def volume_files(self) -> list[Path]:
        return self._state.volumes.files()
