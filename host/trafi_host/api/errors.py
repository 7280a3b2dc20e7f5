"""Every API error is JSON: `{"error": "...", ...detail}` with the right status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **detail: Any
    ) -> None:
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.detail = detail


# RFC 6750: a 401 names the scheme the client must use; a bearer credential refused also says why.
MISSING_CREDENTIAL_CHALLENGE = 'Bearer realm="trafi"'
BAD_CREDENTIAL_CHALLENGE = 'Bearer realm="trafi", error="invalid_token"'


async def api_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    headers = dict(error.headers)
    if error.status == 401 and "WWW-Authenticate" not in headers:
        sent = request.headers.get("authorization", "").lower().startswith("bearer ")
        headers["WWW-Authenticate"] = BAD_CREDENTIAL_CHALLENGE if sent else MISSING_CREDENTIAL_CHALLENGE
    return JSONResponse({"error": error.message, **error.detail}, status_code=error.status, headers=headers)


async def validation_error_handler(_: Request, error: Exception) -> JSONResponse:
    """A request body or query that does not fit the model: every problem, with where it is."""
    assert isinstance(error, RequestValidationError)
    issues = [
        {"path": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
        for issue in error.errors()
    ]
    summary = "; ".join(f"{issue['path']}: {issue['message']}" for issue in issues)
    return JSONResponse({"error": f"invalid request: {summary}", "issues": issues}, status_code=422)


async def http_error_handler(_: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) in the same shape as ours."""
    assert isinstance(error, HTTPException)
    return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)
