"""Who an /api request is, and whether it may: the authentication and permission dependencies.

Three credentials, declared as security schemes in the OpenAPI document:
- `Authorization: Bearer trafi_...`, an API key (its scopes are its grants);
- `Authorization: Bearer trafit_...`, a user's token for scripts (its user's roles);
- the `trafi_session` cookie, a user's dashboard session (its user's roles).
The header wins over the cookie. A cookie-authenticated request that changes
something (POST, PUT, PATCH, DELETE) must also carry `X-Trafi-CSRF: 1`: a page
on another site can make a browser send the cookie (were SameSite=Strict not
honoured) but cannot add a custom header without a CORS preflight, which this
host never grants. Failed attempts from one address are throttled (429).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from ..auth import ApiKeyRecord, verify_api_key
from ..auth.caller import Caller, Credential
from ..auth.credentials import is_user_credential, verify_credential
from ..errors import AuthError
from ..module_host import ModuleHost
from .errors import ApiError

log = logging.getLogger("trafi.auth")
SESSION_COOKIE = "trafi_session"
CSRF_HEADER = "x-trafi-csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Declared for the OpenAPI document (and Swagger UI's Authorize dialog); `authenticate` reads
# the headers itself, so that one error message covers every case.
api_key_scheme = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="trafi_<key id>_<secret>",
    description="An API key (`trafi apikey create --tenant ... --scope ...`): its scopes are its "
    "permissions, in its tenant.",
    auto_error=False,
)
user_token_scheme = HTTPBearer(
    scheme_name="userToken",
    bearerFormat="trafit_<token id>_<secret>",
    description="A user's bearer token for scripts (`trafi user token create`): its user's roles.",
    auto_error=False,
)
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="A dashboard session (POST /api/auth/login). Requests that change something also "
    "need the header `X-Trafi-CSRF: 1`.",
    auto_error=False,
)


def module_host(request: Request) -> ModuleHost:
    host: ModuleHost = request.app.state.host
    return host


def _from_key(record: ApiKeyRecord) -> Caller:
    return Caller(
        id=record.key_id,
        kind="api-key",
        name=record.name,
        tenant_id=record.tenant_id,
        grants=record.scopes,
        credential="api-key",
        credential_id=record.key_id,
    )


def _presented(request: Request) -> tuple[Credential, str]:
    """The credential's kind and text; 401/403 when there is none or it is sent wrongly."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "send 'Authorization: Bearer <API key or user token>'")
        token = token.strip()
        return ("token" if is_user_credential(token) else "api-key"), token
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method in UNSAFE_METHODS and request.headers.get(CSRF_HEADER) != "1":
            raise ApiError(
                403,
                f"a request signed in by the {SESSION_COOKIE} cookie that changes something needs the "
                "header 'X-Trafi-CSRF: 1'",
            )
        return "session", cookie
    raise ApiError(
        401,
        "missing credentials: send 'Authorization: Bearer <API key or user token>' or sign in "
        "(POST /api/auth/login)",
    )


async def authenticate(
    request: Request,
    _key: object = Security(api_key_scheme),
    _token: object = Security(user_token_scheme),
    _session: object = Security(session_scheme),
) -> Caller:
    """The dependency of core routes; the security schemes are there for the OpenAPI document."""
    return await caller_of(request)


async def caller_of(request: Request) -> Caller:
    """Who sent `request`: 401 without valid credentials, 429 after too many failed attempts.

    Called directly by the module proxy, the hottest route, which has no use for FastAPI's
    dependency resolution (module routes are documented by api/module_openapi.py)."""
    kind, token = _presented(request)
    host = module_host(request)
    if kind == "api-key":
        cached = host.key_cache.get(token)
        if cached is not None:
            return _from_key(cached)
    source = request.client.host if request.client is not None else "unknown"
    wait = host.failed_attempts.retry_after(source)
    if wait is not None:
        raise ApiError(
            429,
            "too many failed sign-in attempts from this address; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    try:
        if kind == "api-key":
            record = await run_in_threadpool(verify_api_key, host.database, token)
            host.key_cache.put(token, record)
            return _from_key(record)
        # Never cached: a disabled user or a changed role applies at the next request.
        return await run_in_threadpool(verify_credential, host.database, token, kind)  # session | token
    except AuthError as error:
        host.failed_attempts.failed(source)
        raise ApiError(401, str(error)) from None


async def deny(request: Request, caller: Caller, permission: str, module: str = "") -> None:
    """403 naming the missing permission, after its audit entry."""
    line = f"{request.method} {request.url.path}"
    try:
        await run_in_threadpool(
            module_host(request).denials.record, caller.describe(), permission, module, line
        )
    except SQLAlchemyError as error:  # the refusal stands without its record; say so in the log
        log.error("could not audit a denial (%s %s to %s): %s", line, permission, caller.describe(), error)
    raise ApiError(
        403,
        f"forbidden: {line} needs the permission {permission!r}, which {caller.describe()} does not hold",
        permission=permission,
    )


def require(permission: str) -> Callable[..., Awaitable[Caller]]:
    """The dependency of a core route: the authenticated caller, holding `permission`."""

    async def permitted(request: Request, caller: Caller = Depends(authenticate)) -> Caller:
        if not caller.allows(permission):
            await deny(request, caller, permission)
        return caller

    return permitted
