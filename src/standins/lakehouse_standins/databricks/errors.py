from __future__ import annotations

from starlette.responses import JSONResponse

from lakehouse_standins.http import error_body


class ApiError(Exception):
    """An error answered as Databricks does: an HTTP status and `{"error_code", "message"}`."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.error_code, self.message), status_code=self.status)
