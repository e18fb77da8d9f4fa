from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lakehouse_standins.http import error_body


class ApiError(Exception):
    """An error answered as Databricks does: an HTTP status and `{"error_code", "message"}`."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.error_code, self.message), status_code=self.status)


Handler = Callable[[Request], Awaitable[Response]]


def answers_api_errors(handler: Handler) -> Handler:
    """An endpoint that answers an `ApiError` raised by `handler` with Databricks' error body."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()

    return endpoint


async def unknown_endpoint(request: Request) -> Response:
    """Any call the stand-in does not implement: a 404 naming it, as a workspace answers one.

    The call is also kept in `app.state.unknown_calls`, so a test sees what a client needed."""
    calls = getattr(request.app.state, "unknown_calls", None)
    if calls is not None:
        calls.append(f"{request.method} {request.url.path}")
    return ApiError(
        404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.url.path}'"
    ).response()
