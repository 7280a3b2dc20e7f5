"""The API-key dependency: every /api route uses it, and the key fixes the tenant."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ..auth import ApiKeyRecord, verify_api_key
from ..errors import AuthError
from ..module_host import ModuleHost
from .errors import ApiError

# RFC 6750: a 401 names the scheme the client must use; a bad key also says why (`invalid_token`).
MISSING_KEY_CHALLENGE = 'Bearer realm="trafi"'
BAD_KEY_CHALLENGE = 'Bearer realm="trafi", error="invalid_token"'


def module_host(request: Request) -> ModuleHost:
    host: ModuleHost = request.app.state.host
    return host


async def require_api_key(request: Request) -> ApiKeyRecord:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": MISSING_KEY_CHALLENGE},
        )
    host = module_host(request)
    cached = host.key_cache.get(token)
    if cached is not None:
        return cached
    source = request.client.host if request.client is not None else "unknown"
    wait = host.failed_attempts.retry_after(source)
    if wait is not None:
        raise ApiError(
            429,
            "too many failed API-key attempts from this address; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    try:
        record = await run_in_threadpool(verify_api_key, host.database, token)
    except AuthError as error:
        host.failed_attempts.failed(source)
        raise ApiError(401, str(error), headers={"WWW-Authenticate": BAD_KEY_CHALLENGE}) from None
    host.key_cache.put(token, record)
    return record
