"""What a workspace demands of every API call: a valid bearer token, and JSON where JSON is expected.

The stand-in listens on 127.0.0.1, where any local user or web page could otherwise reach it: a page
can POST `text/plain` to a loopback port without a CORS preflight, so a body that is not declared
JSON is refused, as a workspace refuses it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from lakehouse_standins.databricks.errors import ApiError

# The Files API and the workspace files import take raw bytes; every other API call with a body sends JSON.
_RAW_BODY_PREFIXES = ("/api/2.0/fs/files/", "/api/2.0/workspace-files/import-file/")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _refusal(request: Request, token: str, body: bytes) -> ApiError | None:
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sent:
        return ApiError(
            401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
        )
    if not hmac.compare_digest(sent.strip().encode(), token.encode()):
        return ApiError(403, "PERMISSION_DENIED", "Invalid access token.")
    if body and request.method in _BODY_METHODS and not request.url.path.startswith(_RAW_BODY_PREFIXES):
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return ApiError(
                400,
                "MALFORMED_REQUEST",
                f"Expected a JSON body (Content-Type: application/json), got {media_type or 'none'}.",
            )
    return None


def require_token(app: Starlette, token: str) -> Starlette:
    """Answer API calls (paths under /api/) only with `Authorization: Bearer <token>` and JSON bodies."""

    async def check(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith("/api/") and (
            refusal := _refusal(request, token, await request.body())
        ):
            return refusal.response()
        return await call_next(request)

    app.add_middleware(BaseHTTPMiddleware, dispatch=check)
    return app
