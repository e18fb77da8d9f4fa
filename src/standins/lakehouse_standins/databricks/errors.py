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
