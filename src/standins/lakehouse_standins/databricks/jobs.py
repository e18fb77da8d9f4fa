"""Jobs runs API (`/api/2.2` and `/api/2.1`) and Clusters `get`."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from databricks.sdk.service.jobs import SubmitTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError, answers_api_errors
from lakehouse_standins.databricks.history import STOPPING, restore_runs, save_run
from lakehouse_standins.databricks.runs import Executor, Run, RunFault
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.tasks import TASK_TYPES

_PYTHON_TASKS = ("spark_python_task", "python_wheel_task")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


class Jobs:
    """One-time runs, kept in `store` (a restart keeps them, `history.py`); ids never repeat."""

    def __init__(self, executor: Executor, runs_dir: Path, clusters: Iterable[str], store: Store) -> None:
        self.executor = executor
        self.runs_dir = runs_dir
        self.clusters = set(clusters)
        self.store = store
        self.runs: dict[int, Run] = {run.run_id: run for run in restore_runs(store)}
        self.scripted_faults: deque[RunFault] = deque()
        self._ids = store.ids("run", 1001)
        tokens = store.load("submit_token")
        self._tokens: dict[str, int] = {b["token"]: b["run_id"] for b in tokens if b["run_id"] in self.runs}
        self._lock = threading.Lock()

    def submit(self, body: dict[str, Any]) -> int:
        # Fields the API does not define (tags on a task, say) are dropped, as Databricks drops them.
        raw_tasks = body.get("tasks") or []
        if not isinstance(raw_tasks, list) or not all(isinstance(task, dict) for task in raw_tasks):
            raise _invalid("tasks must be a list of task objects")
        tasks = [SubmitTask.from_dict(task).as_dict() for task in raw_tasks]
        if not tasks:
            raise _invalid("A run needs at least one task")
        environments = {env.get("environment_key") for env in body.get("environments") or []}
        for task in tasks:
            self._validate(task, environments)
        with self._lock:
            token = body.get("idempotency_token")
            if token and token in self._tokens:
                return self._tokens[token]
            run_id = next(self._ids)
            fault = self.scripted_faults.popleft() if self.scripted_faults else None
            run = Run(
                run_id=run_id,
                run_name=body.get("run_name") or f"Untitled run {run_id}",
                tasks=tasks,
                timeout_seconds=int(body.get("timeout_seconds") or 0),
                fault=fault,
                folder=self.runs_dir / str(run_id),
                environments={e.get("environment_key"): e for e in body.get("environments") or []},
            )
            self.runs[run_id] = run
            save_run(self.store, run)
            if token:
                self._tokens[token] = run_id
                self.store.put("submit_token", token, {"token": token, "run_id": run_id})
        self.executor.start(run)
        return run_id

    def _validate(self, task: dict[str, Any], environments: set[Any]) -> None:
        key = task.get("task_key")
        kinds = [kind for kind in TASK_TYPES if kind in task]
        if not key or len(kinds) != 1:
            raise _invalid(f"Task {key!r} needs a task_key and exactly one of {', '.join(TASK_TYPES)}")
        cluster_id = task.get("existing_cluster_id")
        if cluster_id is not None and cluster_id not in self.clusters:
            raise _invalid(f"Cluster {cluster_id} does not exist")
        env_key = task.get("environment_key")
        if env_key is not None and env_key not in environments:
            raise _invalid(f"Task {key}: environment_key {env_key!r} is not defined in environments")
        if kinds[0] in _PYTHON_TASKS and not (cluster_id or task.get("new_cluster") or env_key):
            raise _invalid(
                f"Task {key}: a {kinds[0]} needs existing_cluster_id, new_cluster or, on serverless, an environment_key"
            )

    def get(self, run_id: Any) -> Run:
        try:
            return self.runs[int(run_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.") from None

    def cancel_all(self, timeout: float = 10.0) -> None:
        """Cancel every run, saying the stand-in stops, and wait until their processes are killed."""
        for run in self.runs.values():
            run.cancel_reason = ("CANCELED", STOPPING, "CANCELED")
            run.cancel_requested.set()
        self.executor.join(timeout)


def routes(jobs: Jobs) -> list[Route]:
    async def submit(request: Request) -> Response:
        return JSONResponse({"run_id": jobs.submit(await request.json())})

    async def get(request: Request) -> Response:
        run = jobs.get(request.query_params.get("run_id"))
        return JSONResponse(run.as_json(str(request.base_url).rstrip("/")))

    async def cancel(request: Request) -> Response:
        run = jobs.get((await request.json()).get("run_id"))
        run.cancel_requested.set()
        return JSONResponse({})

    async def output(request: Request) -> Response:
        run = jobs.get(request.query_params.get("run_id"))
        body = {**run.output, "metadata": run.as_json(str(request.base_url).rstrip("/"))}
        return JSONResponse(body)

    async def cluster(request: Request) -> Response:
        cluster_id = request.query_params.get("cluster_id")
        if cluster_id not in jobs.clusters:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
        return JSONResponse(
            {
                "cluster_id": cluster_id,
                "cluster_name": cluster_id,
                "state": "RUNNING",
                "spark_version": "standin",
            }
        )

    found: list[Route] = []
    for version in ("2.2", "2.1"):
        base = f"/api/{version}/jobs/runs"
        found += [
            Route(f"{base}/submit", answers_api_errors(submit), methods=["POST"]),
            Route(f"{base}/get", answers_api_errors(get), methods=["GET"]),
            Route(f"{base}/cancel", answers_api_errors(cancel), methods=["POST"]),
            Route(f"{base}/get-output", answers_api_errors(output), methods=["GET"]),
        ]
    found += [
        Route(f"/api/{v}/clusters/get", answers_api_errors(cluster), methods=["GET"]) for v in ("2.1", "2.0")
    ]
    return found
