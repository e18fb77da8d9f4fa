"""Jobs API for deployed jobs: create, reset, update, get, list, delete and run-now.

What `databricks bundle deploy` and an orchestrator's run-now use (contracts.md, "deployed jobs";
fields as in `databricks.sdk.service.jobs`). A run executes its tasks one after the other in
`depends_on` order, each in its own child process with its own task run id; a failed task skips
its dependants with UPSTREAM_FAILED. One-time runs (`runs/submit`) stay in jobs.py; `runs/get`,
`runs/get-output` and `runs/cancel` answer for both.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError, answers_api_errors
from lakehouse_standins.databricks.history import STOPPING, restore_job_runs, save_job_run
from lakehouse_standins.databricks.job_runs import JobRun, TaskRun
from lakehouse_standins.databricks.runs import Run
from lakehouse_standins.databricks.spark_runtime import SparkServer
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.task_process import run_task
from lakehouse_standins.databricks.tasks import TASK_TYPES, TaskLauncher

_LIST_LIMIT_MAX = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def _task_order(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {task["task_key"]: task for task in tasks}
    graph = {key: [d["task_key"] for d in task.get("depends_on") or []] for key, task in by_key.items()}
    return [by_key[key] for key in TopologicalSorter(graph).static_order()]


class DeployedJobs:
    """Jobs and their runs, kept in `store` (a restart keeps them, `history.py`); ids never repeat."""

    def __init__(
        self, launcher: TaskLauncher, spark: SparkServer, runs_dir: Path, clusters: set[str], store: Store
    ) -> None:
        self.launcher = launcher
        self.spark = spark
        self.runs_dir = runs_dir
        self.clusters = clusters
        self.store = store
        self.jobs: dict[int, dict[str, Any]] = {job["job_id"]: job for job in store.load("job")}
        self.runs: dict[int, JobRun] = {run.run_id: run for run in restore_job_runs(store)}
        self.task_runs: dict[int, tuple[JobRun, TaskRun]] = {
            task.run_id: (run, task) for run in self.runs.values() for task in run.tasks
        }
        self._job_ids = store.ids("job", 7001)
        # Run ids far from runs/submit's, so one lookup answers for either kind.
        self._run_ids = store.ids("job_run", 900_001)
        tokens = store.load("run_now_token")
        self._tokens: dict[str, int] = {b["token"]: b["run_id"] for b in tokens if b["run_id"] in self.runs}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ---- definitions -----------------------------------------------------------------------
    def _validate(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = copy.deepcopy(settings)
        settings.setdefault("name", "Untitled")
        tasks = settings.get("tasks") or []
        keys = [task.get("task_key") for task in tasks]
        if any(not key for key in keys) or len(set(keys)) != len(keys):
            raise _invalid("Every task needs a unique task_key")
        clusters = {c.get("job_cluster_key") for c in settings.get("job_clusters") or []}
        environments = {e.get("environment_key") for e in settings.get("environments") or []}
        for task in tasks:
            kinds = [kind for kind in TASK_TYPES if kind in task]
            if len(kinds) != 1:
                raise _invalid(f"Task {task['task_key']} needs exactly one of {', '.join(TASK_TYPES)}")
            for dep in task.get("depends_on") or []:
                if dep.get("task_key") not in keys:
                    raise _invalid(
                        f"Task {task['task_key']} depends on {dep.get('task_key')}, which is not in the job"
                    )
            if task.get("job_cluster_key") and task["job_cluster_key"] not in clusters:
                raise _invalid(
                    f"Task {task['task_key']}: job_cluster_key {task['job_cluster_key']} is not defined"
                )
            if task.get("environment_key") and task["environment_key"] not in environments:
                raise _invalid(
                    f"Task {task['task_key']}: environment_key {task['environment_key']} is not defined"
                )
            if task.get("existing_cluster_id") and task["existing_cluster_id"] not in self.clusters:
                raise _invalid(f"Cluster {task['existing_cluster_id']} does not exist")
        try:
            _task_order(tasks)
        except CycleError:
            raise _invalid("The tasks' depends_on form a cycle") from None
        return settings

    def create(self, body: dict[str, Any]) -> int:
        settings = self._validate({k: v for k, v in body.items() if k not in ("access_control_list",)})
        with self._lock:
            job_id = next(self._job_ids)
            self.jobs[job_id] = {
                "job_id": job_id,
                "settings": settings,
                "created_time": _now_ms(),
                "creator_user_name": "lakehouse",
            }
            self.store.put("job", job_id, self.jobs[job_id])
        return job_id

    def job(self, job_id: Any) -> dict[str, Any]:
        try:
            return self.jobs[int(job_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.") from None

    def reset(self, body: dict[str, Any]) -> None:
        job = self.job(body.get("job_id"))
        job["settings"] = self._validate(body.get("new_settings") or {})
        self.store.put("job", job["job_id"], job)

    def update(self, body: dict[str, Any]) -> None:
        job = self.job(body.get("job_id"))
        settings = {**job["settings"], **(body.get("new_settings") or {})}
        for name in body.get("fields_to_remove") or []:
            settings.pop(name, None)
        job["settings"] = self._validate(settings)
        self.store.put("job", job["job_id"], job)

    def delete(self, job_id: Any) -> None:
        job = self.job(job_id)
        with self._lock:
            del self.jobs[job["job_id"]]
            self.store.remove("job", job["job_id"])

    def list(self, params: dict[str, str]) -> dict[str, Any]:
        limit = int(params.get("limit") or 20)
        if not 1 <= limit <= _LIST_LIMIT_MAX:
            raise _invalid(f"limit must be between 1 and {_LIST_LIMIT_MAX}")
        offset = int(params.get("page_token") or params.get("offset") or 0)
        expand = str(params.get("expand_tasks", "false")).lower() == "true"
        name = params.get("name")
        found = [
            job for _, job in sorted(self.jobs.items()) if name is None or job["settings"].get("name") == name
        ]
        page = found[offset : offset + limit]
        jobs = []
        for job in page:
            settings = (
                job["settings"]
                if expand
                else {k: v for k, v in job["settings"].items() if k not in ("tasks", "job_clusters")}
            )
            jobs.append({**job, "settings": settings})
        body: dict[str, Any] = {"jobs": jobs, "has_more": offset + limit < len(found)}
        if body["has_more"]:
            body["next_page_token"] = str(offset + limit)
        return body

    # ---- runs ------------------------------------------------------------------------------
    def run_now(self, body: dict[str, Any]) -> JobRun:
        job = self.job(body.get("job_id"))
        token = body.get("idempotency_token")
        with self._lock:
            if token and token in self._tokens:
                return self.runs[self._tokens[token]]
            settings = copy.deepcopy(job["settings"])
            tasks = self._tasks_for_run(settings, body)
            active = [r for r in self.runs.values() if r.job_id == job["job_id"] and not r.end_time]
            limit = int(settings.get("max_concurrent_runs") or 1)
            run_id = next(self._run_ids)
            run = JobRun(
                run_id=run_id,
                job_id=job["job_id"],
                number_in_job=sum(1 for r in self.runs.values() if r.job_id == job["job_id"]) + 1,
                run_name=settings.get("name", "Untitled"),
                tasks=[TaskRun(next(self._run_ids), task) for task in tasks],
                timeout_seconds=int(settings.get("timeout_seconds") or 0),
                folder=self.runs_dir / f"job-{job['job_id']}" / str(run_id),
                job_parameters=dict(body.get("job_parameters") or {}),
                environments={e.get("environment_key"): e for e in settings.get("environments") or []},
            )
            self.runs[run_id] = run
            for task_run in run.tasks:
                self.task_runs[task_run.run_id] = (run, task_run)
            save_job_run(self.store, run)
            if token:
                self._tokens[token] = run_id
                self.store.put("run_now_token", token, {"token": token, "run_id": run_id})
        if len(active) >= limit:
            self._finish(
                run,
                "SKIPPED",
                "MAXIMUM_CONCURRENT_RUNS_REACHED",
                "Skipped: the job's max_concurrent_runs is reached.",
            )
            return run
        thread = threading.Thread(target=self._execute, args=(run,), name=f"job-run-{run_id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return run

    def list_runs(self, params: dict[str, str], one_time: Iterable[Run] = ()) -> dict[str, Any]:
        """Job runs and one-time runs (`runs/submit`'s, `run_type` SUBMIT_RUN) as a workspace lists
        them, newest start first; `job_id` (job runs only), `run_type`, `active_only`,
        `completed_only`, `limit`, `page_token`."""
        job_id = params.get("job_id")
        runs: list[JobRun | Run] = [r for r in self.runs.values() if not job_id or str(r.job_id) == job_id]
        if not job_id:
            runs.extend(one_time)
        runs.sort(key=lambda r: (r.start_time, r.run_id), reverse=True)
        if params.get("run_type"):
            wanted = params["run_type"].upper()
            runs = [r for r in runs if ("SUBMIT_RUN" if isinstance(r, Run) else "JOB_RUN") == wanted]
        if str(params.get("active_only", "false")).lower() == "true":
            runs = [r for r in runs if not r.end_time]
        if str(params.get("completed_only", "false")).lower() == "true":
            runs = [r for r in runs if r.end_time]
        limit = int(params.get("limit") or 25)
        offset = int(params.get("page_token") or 0)
        return {
            "runs": runs[offset : offset + limit],
            "has_more": offset + limit < len(runs),
            "offset": offset + limit,
        }

    def _tasks_for_run(self, settings: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
        clusters = {
            c["job_cluster_key"]: c.get("new_cluster") or {} for c in settings.get("job_clusters") or []
        }
        only = body.get("only") or []
        unknown = [key for key in only if key not in {t["task_key"] for t in settings.get("tasks") or []}]
        if unknown:
            raise _invalid(f"Tasks {', '.join(unknown)} are not in the job")
        tasks = []
        for task in _task_order(settings.get("tasks") or []):
            if only and task["task_key"] not in only:
                continue
            task = copy.deepcopy(task)
            if only:
                task["depends_on"] = [d for d in task.get("depends_on") or [] if d["task_key"] in only]
            if task.get("job_cluster_key"):
                # The job cluster's spark_env_vars reach the task as on a real job cluster.
                task.setdefault("new_cluster", clusters.get(task["job_cluster_key"], {}))
            if "spark_python_task" in task and body.get("python_params") is not None:
                task["spark_python_task"]["parameters"] = list(body["python_params"])
            if "notebook_task" in task and body.get("notebook_params"):
                params = task["notebook_task"].setdefault("base_parameters", {})
                params.update(body["notebook_params"])
            tasks.append(task)
        return tasks

    def _execute(self, run: JobRun) -> None:
        try:
            self._execute_tasks(run)
        except Exception as exc:
            # A stand-in bug must end the run visibly, not leave it RUNNING for ever.
            self._finish(run, "INTERNAL_ERROR", "FAILED", f"Stand-in internal error: {exc!r}")

    def _execute_tasks(self, run: JobRun) -> None:
        run.life_cycle_state = "RUNNING"
        deadline = time.monotonic() + run.timeout_seconds if run.timeout_seconds else None
        failed: dict[str, str] = {}
        for task_run in run.tasks:
            upstream = [d["task_key"] for d in task_run.task.get("depends_on") or []]
            broken = [key for key in upstream if key in failed]
            if broken:
                cancelled = any(failed[key] in ("CANCELED", "UPSTREAM_CANCELED") for key in broken)
                result = "UPSTREAM_CANCELED" if cancelled else "UPSTREAM_FAILED"
                task_run.life_cycle_state, task_run.result_state = "SKIPPED", result
                task_run.state_message = f"Upstream task(s) {', '.join(broken)} did not succeed."
                task_run.code = result
                failed[task_run.key] = result
                continue
            if run.cancel_requested.is_set():
                task_run.life_cycle_state, task_run.result_state = "TERMINATED", "CANCELED"
                task_run.state_message, task_run.code = run.cancel_message, run.cancel_code
                failed[task_run.key] = "CANCELED"
                continue
            task_run.life_cycle_state, task_run.start_time = "RUNNING", _now_ms()
            save_job_run(self.store, run)
            outcome = run_task(
                self.launcher,
                self.spark,
                task_run.task,
                run.folder / task_run.key,
                run.cancel_requested,
                deadline,
                run.environments,
            )
            if outcome.result_state == "CANCELED":  # a user's cancel, or the stand-in stopping
                outcome.message = run.cancel_message + outcome.message.removeprefix("Run cancelled.")
                outcome.code = run.cancel_code
            task_run.outcome = outcome
            task_run.life_cycle_state, task_run.result_state = "TERMINATED", outcome.result_state
            task_run.state_message, task_run.code, task_run.end_time = (
                outcome.message,
                outcome.code,
                _now_ms(),
            )
            if outcome.result_state != "SUCCESS":
                failed[task_run.key] = outcome.result_state
        results = [t.result_state for t in run.tasks]
        if all(r == "SUCCESS" for r in results):
            self._finish(run, "TERMINATED", "SUCCESS", "")
        else:
            first = next(
                t
                for t in run.tasks
                if t.result_state not in ("SUCCESS", "UPSTREAM_FAILED", "UPSTREAM_CANCELED")
            )
            result = first.result_state if first.result_state in ("CANCELED", "TIMEDOUT") else "FAILED"
            self._finish(
                run,
                "TERMINATED",
                result,
                f"Task {first.key} ended {first.result_state}: {first.state_message}",
            )

    def _finish(self, run: JobRun, life_cycle: str, result: str, message: str) -> None:
        run.result_state, run.state_message, run.code = result, message, result
        run.end_time = _now_ms()
        run.life_cycle_state = life_cycle
        save_job_run(self.store, run)

    def cancel_all(self, timeout: float = 10.0) -> None:
        """Cancel every run, saying the stand-in stops, and wait until their processes are killed."""
        for run in self.runs.values():
            run.cancel_message, run.cancel_code = STOPPING, "CANCELED"
            run.cancel_requested.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def routes(api: DeployedJobs, run_routes: list[Route], one_time: Callable[[], Iterable[Run]]) -> list[Route]:
    """The deployed-jobs endpoints, and `runs/get|get-output|cancel` that fall back to `run_routes`
    (the one-time runs' own) for a run id that is not a job run's; `runs/list` lists both kinds,
    the one-time runs from `one_time()`."""
    fallback = {
        (route.path, method): route.endpoint for route in run_routes for method in route.methods or ()
    }

    async def create(request: Request) -> Response:
        return JSONResponse({"job_id": api.create(await request.json())})

    async def reset(request: Request) -> Response:
        api.reset(await request.json())
        return JSONResponse({})

    async def update(request: Request) -> Response:
        api.update(await request.json())
        return JSONResponse({})

    async def delete(request: Request) -> Response:
        api.delete((await request.json()).get("job_id"))
        return JSONResponse({})

    async def get(request: Request) -> Response:
        return JSONResponse(api.job(request.query_params.get("job_id")))

    async def list_jobs(request: Request) -> Response:
        return JSONResponse(api.list(dict(request.query_params)))

    async def list_runs(request: Request) -> Response:
        found = api.list_runs(dict(request.query_params), one_time())
        base = str(request.base_url).rstrip("/")
        # A run's tasks come only with expand_tasks=true, as on a workspace.
        expand = request.query_params.get("expand_tasks", "false").lower() == "true"
        runs = [run.as_json(base) for run in found["runs"]]
        if not expand:
            runs = [{k: v for k, v in run.items() if k != "tasks"} for run in runs]
        body: dict[str, Any] = {"runs": runs, "has_more": found["has_more"]}
        if found["has_more"]:
            body["next_page_token"] = str(found["offset"])
        return JSONResponse(body)

    async def run_now(request: Request) -> Response:
        run = api.run_now(await request.json())
        return JSONResponse({"run_id": run.run_id, "number_in_job": run.number_in_job})

    def run_lookup(kind: str, method: str) -> Any:
        async def endpoint(request: Request) -> Response:
            run_id: Any = request.query_params.get("run_id")
            if method == "POST":
                run_id = (await request.json()).get("run_id")
            base = str(request.base_url).rstrip("/")
            key = int(str(run_id)) if str(run_id).isdigit() else -1
            if key in api.runs:
                run = api.runs[key]
                if kind == "cancel":
                    run.cancel_requested.set()
                    return JSONResponse({})
                if kind == "get":
                    return JSONResponse(run.as_json(base))
                raise _invalid(
                    f"Retrieving the output of run {key}, a job run with tasks, is not supported: use a task run id"
                )
            if key in api.task_runs:
                run, task_run = api.task_runs[key]
                if kind == "cancel":
                    run.cancel_requested.set()
                    return JSONResponse({})
                if kind == "get":
                    return JSONResponse(
                        {**run.as_json(base), "run_id": key, "tasks": [task_run.as_json(run, base)]}
                    )
                output = task_run.outcome.output() if task_run.outcome else {}
                return JSONResponse({**output, "metadata": task_run.as_json(run, base)})
            return await fallback[(request.url.path, method)](request)

        return endpoint

    found: list[Route] = []
    for version in ("2.2", "2.1"):
        jobs = f"/api/{version}/jobs"
        found += [
            Route(f"{jobs}/create", answers_api_errors(create), methods=["POST"]),
            Route(f"{jobs}/reset", answers_api_errors(reset), methods=["POST"]),
            Route(f"{jobs}/update", answers_api_errors(update), methods=["POST"]),
            Route(f"{jobs}/delete", answers_api_errors(delete), methods=["POST"]),
            Route(f"{jobs}/get", answers_api_errors(get), methods=["GET"]),
            Route(f"{jobs}/list", answers_api_errors(list_jobs), methods=["GET"]),
            Route(f"{jobs}/run-now", answers_api_errors(run_now), methods=["POST"]),
            Route(f"{jobs}/runs/list", answers_api_errors(list_runs), methods=["GET"]),
            Route(f"{jobs}/runs/get", answers_api_errors(run_lookup("get", "GET")), methods=["GET"]),
            Route(
                f"{jobs}/runs/get-output", answers_api_errors(run_lookup("output", "GET")), methods=["GET"]
            ),
            Route(f"{jobs}/runs/cancel", answers_api_errors(run_lookup("cancel", "POST")), methods=["POST"]),
        ]
    return found
