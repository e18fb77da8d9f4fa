"""What both stand-ins share: a request log, scripted faults and a server on a background thread."""

from __future__ import annotations

import asyncio
import fnmatch
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        import json

        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """Answer matching requests with `status` (and optional Retry-After) `times` times, or delay them."""

    method: str
    path_glob: str
    status: int | None = None
    times: int = 1
    retry_after: float | None = None
    delay_seconds: float = 0.0
    body: dict[str, Any] | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatch(path, self.path_glob)


@dataclass
class Recorder:
    """The request log and fault script of one stand-in; thread-safe, shared with tests."""

    requests: list[LoggedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def matching(self, method: str, path_glob: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and fnmatch.fnmatch(r.path, path_glob)]

    def _next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.hits < fault.times and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)


def error_body(error_code: str, message: str) -> dict[str, str]:
    """Databricks-style error body; the dbt Cloud stand-in wraps its own envelope."""
    return {"error_code": error_code, "message": message}


def with_recorder(app: Starlette, recorder: Recorder) -> Starlette:
    """Log every request and apply the first matching scripted fault before the route runs."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        body = await request.body()
        path, method = request.url.path, request.method
        fault = recorder._next_fault(method, path)
        response: Response
        if fault and fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)
        if fault and fault.status is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            payload = fault.body or error_body("TEMPORARILY_UNAVAILABLE", f"scripted fault {fault.status}")
            response = JSONResponse(payload, status_code=fault.status, headers=headers)
        else:
            response = await call_next(request)
        recorder._log(LoggedRequest(method, path, dict(request.query_params), body, response.status_code))
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=middleware)
    return app


class BackgroundServer:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a daemon thread; port 0 picks a free port."""

    def __init__(self, app: Starlette, port: int = 0) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="standin-http", daemon=True)

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("stand-in HTTP server did not start (is the port in use?)")
            time.sleep(0.02)
        return self.url

    @property
    def port(self) -> int:
        sockets = self._server.servers[0].sockets if self._server.servers else []
        return int(sockets[0].getsockname()[1]) if sockets else self._server.config.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("stand-in HTTP server did not stop")

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
