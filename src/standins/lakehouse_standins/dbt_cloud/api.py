"""The dbt Cloud Administrative API v2 routes, with dbt Cloud's envelope, paging and filters."""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.dbt_cloud.runner import RunExecutor
from lakehouse_standins.dbt_cloud.store import Job, Run, StandinConfig, Store

MAX_LIMIT = 100


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def envelope(
    data: Any, status: int = 200, extra: dict[str, Any] | None = None, message: str = "Success!"
) -> dict[str, Any]:
    return {
        "status": {
            "code": status,
            "is_success": status < 400,
            "user_message": message,
            "developer_message": "" if status < 400 else message,
        },
        "data": data,
        "extra": extra or {},
    }


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse(envelope(None, status, message=message), status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


# --- what every endpoint shares ---------------------------------------------------------------
def _store(request: Request) -> Store:
    return request.app.state.store


def _executor(request: Request) -> RunExecutor:
    return request.app.state.executor


def _refusal(request: Request, config: StandinConfig) -> JSONResponse | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # dbt Cloud documents `Token <token>` and also accepts `Bearer <token>`.
    if scheme.lower() not in ("token", "bearer") or not token:
        return error_response(401, "Invalid token.")
    if not hmac.compare_digest(token.strip().encode(), config.token.encode()):
        return error_response(401, "Invalid token.")
    if request.path_params["account_id"] != config.account_id:
        return error_response(404, "The requested account was not found.")
    return None


def endpoint(fn: Callable[[Request], Awaitable[Any]]) -> Handler:
    """Authenticate, check the account and turn `ApiError` into an enveloped error."""

    async def handle(request: Request) -> Response:
        if refusal := _refusal(request, _store(request).config):
            return refusal
        try:
            result = await fn(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        return result if isinstance(result, Response) else JSONResponse(result)

    return handle


def _job_or_404(request: Request) -> Job:
    job = _store(request).jobs.get(request.path_params["job_id"])
    if job is None or job.state != 1:
        raise ApiError(404, "The requested job was not found.")
    return job


def _run_or_404(request: Request) -> Run:
    run = _store(request).runs.get(request.path_params["run_id"])
    if run is None:
        raise ApiError(404, "The requested run was not found.")
    return run


# --- account, project, environment -----------------------------------------------------------
async def account(request: Request) -> Any:
    config = _store(request).config
    return envelope({"id": config.account_id, "name": "Lakehouse (local stand-in)", "state": 1})


async def project(request: Request) -> Any:
    config = _store(request).config
    if request.path_params["project_id"] != config.project_id:
        raise ApiError(404, "The requested project was not found.")
    return envelope(
        {"id": config.project_id, "account_id": config.account_id, "name": "kaizen_wars", "state": 1}
    )


async def environment(request: Request) -> Any:
    config = _store(request).config
    if request.path_params["environment_id"] != config.environment_id:
        raise ApiError(404, "The requested environment was not found.")
    return envelope(
        {
            "id": config.environment_id,
            "account_id": config.account_id,
            "project_id": config.project_id,
            "name": "Production",
            "type": "deployment",
            "deployment_type": "production",
            "state": 1,
        }
    )


# --- jobs ------------------------------------------------------------------------------------
async def list_jobs(request: Request) -> Any:
    jobs = [
        job
        for job in _store(request).active_jobs()
        if _matches(request, "project_id", job.project_id)
        and _matches(request, "environment_id", job.environment_id)
    ]
    return _page(request, [job.to_api() for job in sorted(jobs, key=lambda j: j.id)])


async def create_job(request: Request) -> Any:
    store = _store(request)
    body = await _json_body(request)
    if not body.get("name"):
        raise ApiError(400, "name is required.")
    for key, expected in (
        ("project_id", store.config.project_id),
        ("environment_id", store.config.environment_id),
    ):
        if key in body and int(body[key]) != expected:
            raise ApiError(404, f"The requested {key.removesuffix('_id')} was not found.")
    steps = _steps(body.get("execute_steps")) or ["dbt build"]
    job = store.create_job(str(body["name"]), str(body.get("description") or ""), steps)
    return JSONResponse(envelope(job.to_api(), 201), status_code=201)


async def get_job(request: Request) -> Any:
    return envelope(_job_or_404(request).to_api())


async def delete_job(request: Request) -> Any:
    store, job = _store(request), _job_or_404(request)
    with store.lock:
        job.state = 2
        store.save()
    return envelope(job.to_api())


async def trigger(request: Request) -> Any:
    job = _job_or_404(request)
    body = await _json_body(request)
    if not body.get("cause"):
        raise ApiError(400, "cause is required.")
    commands = _steps(body.get("steps_override")) or list(job.execute_steps)
    run = _store(request).new_run(job, str(body["cause"]), commands, str(request.base_url).rstrip("/"))
    _executor(request).submit(run)
    return envelope(run.to_api())


# --- runs ------------------------------------------------------------------------------------
def _listed(
    request: Request, run: Run, statuses: set[int] | None, window: tuple[datetime, datetime] | None
) -> bool:
    return (
        _matches(request, "job_definition_id", run.job.id)
        and _matches(request, "project_id", run.job.project_id)
        and _matches(request, "environment_id", run.job.environment_id)
        and _matches(request, "status", int(run.status))
        and (statuses is None or int(run.status) in statuses)
        and (window is None or (run.finished_at is not None and window[0] <= run.finished_at <= window[1]))
    )


async def list_runs(request: Request) -> Any:
    store = _store(request)
    statuses = _int_list(request, "status__in")
    window = _range(request, "finished_at__range")
    with store.lock:
        runs = [run for run in store.runs.values() if _listed(request, run, statuses, window)]
    runs = _ordered(runs, request.query_params.get("order_by", "id"))
    related = _related(request)
    return _page(request, [r.to_api("run_steps" in related, "job" in related) for r in runs])


async def get_run(request: Request) -> Any:
    related = _related(request)
    return envelope(_run_or_404(request).to_api("run_steps" in related, "job" in related))


async def cancel(request: Request) -> Any:
    run = _run_or_404(request)
    await run_in_threadpool(_executor(request).cancel, run.id)
    return envelope(run.to_api())


async def artifacts(request: Request) -> Any:
    return envelope(_run_or_404(request).artifacts())


async def artifact(request: Request) -> Any:
    run, path = _run_or_404(request), request.path_params["path"]
    if path not in run.artifacts():
        raise ApiError(404, f"The artifact {path} was not found for run {run.id}.")
    return FileResponse(run.target_dir / path)


async def run_page(request: Request) -> Response:
    """The `href` of a run, so the link in Dagster's metadata opens something useful."""
    run = _store(request).runs.get(request.path_params["run_id"])
    if run is None:
        return HTMLResponse("<h1>Run not found</h1>", status_code=404)
    steps = "".join(
        f"<h2>{html.escape(s.name)}: {s.status.humanized}</h2><pre>{html.escape(s.logs())}</pre>"
        for s in run.steps
    )
    title = f"Run #{run.id} of {html.escape(run.job.name)}: {run.status.humanized}"
    return HTMLResponse(f"<html><body><h1>{title}</h1><p>{html.escape(run.cause)}</p>{steps}</body></html>")


PREFIX = "/api/v2/accounts/{account_id:int}"
ROUTES = [
    Route(PREFIX, endpoint(account)),
    Route(PREFIX + "/", endpoint(account)),
    Route(PREFIX + "/projects/{project_id:int}", endpoint(project)),
    Route(PREFIX + "/environments/{environment_id:int}", endpoint(environment)),
    Route(PREFIX + "/jobs", endpoint(list_jobs), methods=["GET"]),
    Route(PREFIX + "/jobs", endpoint(create_job), methods=["POST"]),
    Route(PREFIX + "/jobs/{job_id:int}", endpoint(get_job), methods=["GET"]),
    Route(PREFIX + "/jobs/{job_id:int}", endpoint(delete_job), methods=["DELETE"]),
    Route(PREFIX + "/jobs/{job_id:int}/run", endpoint(trigger), methods=["POST"]),
    Route(PREFIX + "/runs", endpoint(list_runs)),
    Route(PREFIX + "/runs/{run_id:int}", endpoint(get_run)),
    Route(PREFIX + "/runs/{run_id:int}/cancel", endpoint(cancel), methods=["POST"]),
    Route(PREFIX + "/runs/{run_id:int}/artifacts", endpoint(artifacts)),
    Route(PREFIX + "/runs/{run_id:int}/artifacts/{path:path}", endpoint(artifact)),
    Route("/deploy/{account_id:int}/projects/{project_id:int}/runs/{run_id:int}/", run_page),
]


def build_app(store: Store, executor: RunExecutor) -> Starlette:
    """The API over `store`; each endpoint above reads the store and executor from the app's state."""
    app = Starlette(routes=ROUTES)
    app.state.store = store
    app.state.executor = executor
    return app


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Invalid JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return body


def _steps(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) and s.split()[:1] == ["dbt"] for s in value):
        raise ApiError(400, "Steps must be a list of dbt commands, each starting with `dbt`.")
    return list(value)


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer.") from None


def _matches(request: Request, name: str, actual: int) -> bool:
    expected = _int_param(request, name)
    return expected is None or expected == actual


def _int_list(request: Request, name: str) -> set[int] | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return {int(v) for v in json.loads(value)}
    except (ValueError, TypeError):
        raise ApiError(400, f"{name} must be a JSON list of integers, e.g. [1,2,3].") from None


def _range(request: Request, name: str) -> tuple[datetime, datetime] | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        low, high = (datetime.fromisoformat(v) for v in json.loads(value))
    except (ValueError, TypeError):
        raise ApiError(
            400, f'{name} must be a JSON list of two ISO timestamps, e.g. ["...", "..."].'
        ) from None
    return (low if low.tzinfo else low.replace(tzinfo=UTC), high if high.tzinfo else high.replace(tzinfo=UTC))


def _ordered(runs: list[Run], order_by: str) -> list[Run]:
    field = order_by.removeprefix("-")
    if field not in ("id", "created_at", "finished_at", "started_at"):
        raise ApiError(400, f"Cannot order runs by {order_by!r}.")
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(
        runs,
        key=lambda run: (run.id if field == "id" else getattr(run, field) or floor, run.id),
        reverse=order_by.startswith("-"),
    )


def _related(request: Request) -> set[str]:
    value = request.query_params.get("include_related", "")
    if value.startswith("["):
        try:
            return set(json.loads(value))
        except ValueError:
            raise ApiError(400, "include_related must be a list.") from None
    return {part.strip() for part in value.split(",") if part.strip()}


def _page(request: Request, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    limit = _int_param(request, "limit")
    limit = MAX_LIMIT if limit is None else limit
    offset = _int_param(request, "offset") or 0
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT} and offset must not be negative.")
    page = list(items[offset : offset + limit])
    filters = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
    extra = {
        "filters": {**filters, "limit": limit, "offset": offset},
        "order_by": request.query_params.get("order_by"),
        "pagination": {"count": len(page), "total_count": len(items)},
    }
    return envelope(page, extra=extra)
