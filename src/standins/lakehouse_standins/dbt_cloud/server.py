"""The handle tests and `task dev` hold: app, request log, run executor and HTTP server together."""

from __future__ import annotations

from lakehouse_standins.dbt_cloud.api import build_app, envelope
from lakehouse_standins.dbt_cloud.runner import RunExecutor, RunFault
from lakehouse_standins.dbt_cloud.store import StandinConfig, Store
from lakehouse_standins.http import BackgroundServer, Fault, Recorder, with_recorder


def api_fault(
    status: int | None,
    path_glob: str = "/api/v2/*",
    method: str = "*",
    times: int = 1,
    retry_after: float | None = None,
    delay_seconds: float = 0.0,
) -> Fault:
    """A scripted HTTP fault with dbt Cloud's error envelope; `status=None` only delays the request."""
    message = "Too many requests." if status == 429 else f"Scripted stand-in fault ({status})."
    return Fault(
        method=method,
        path_glob=path_glob,
        status=status,
        times=times,
        retry_after=retry_after,
        delay_seconds=delay_seconds,
        body=envelope(None, status, message=message) if status else None,
    )


class DbtCloudStandin:
    def __init__(self, config: StandinConfig, port: int = 0) -> None:
        self.config = config
        self.recorder = Recorder()
        self.store = Store(config)
        self.executor = RunExecutor(self.store)
        self.app = with_recorder(build_app(self.store, self.executor), self.recorder)
        self._server = BackgroundServer(self.app, port=port)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2/accounts/{self.config.account_id}"

    def api_path(self, relative: str) -> str:
        """The request path of an endpoint, for Recorder globs: api_path("runs/*")."""
        return f"/api/v2/accounts/{self.config.account_id}/{relative}".rstrip("/")

    def add_fault(self, fault: Fault) -> Fault:
        return self.recorder.add_fault(fault)

    def add_run_fault(self, fault: RunFault) -> RunFault:
        with self.store.lock:
            self.executor.faults.append(fault)
        return fault

    def run_pid(self, run_id: int) -> int | None:
        """The process group leader of a run's current step, while it runs."""
        return self.executor.pid(run_id)

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        # Kill dbt first: a run left behind would hold the warehouse lock.
        self.executor.close()
        self._server.stop()

    def __enter__(self) -> DbtCloudStandin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
