"""Every API error is JSON: `{"error": "...", ...detail}` with the right status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, **detail: Any) -> None:
        self.status = status
        self.message = message
        self.detail = detail


async def api_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse({"error": error.message, **error.detail}, status_code=error.status)
