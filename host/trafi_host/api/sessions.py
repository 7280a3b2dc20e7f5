"""`/api/auth/...`: dashboard sign-in and sign-out, and who the caller is.

The session cookie is HttpOnly (page scripts cannot read it), SameSite=Strict
(other sites cannot make the browser send it) and Secure (HTTPS only) except on
plain-HTTP localhost, for development. Sessions expire (12 hours) and are
stored as a hash. See docs/users-and-roles.md.
"""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ..auth.caller import Caller
from ..auth.credentials import SESSION_LIFETIME, login, revoke_credential
from ..auth.passwords import MAX_LENGTH
from ..auth.permissions import CORE_PERMISSIONS
from ..errors import AuthError
from ..permission_catalogue import module_permissions
from .auth import SESSION_COOKIE, authenticate, module_host
from .errors import ApiError

router = APIRouter(prefix="/api/auth", tags=["auth"])
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class SignedIn(BaseModel):
    username: str
    tenant: str
    expiresAt: datetime


class Me(BaseModel):
    id: str
    kind: str
    name: str
    tenant: str
    credential: str
    permissions: list[str] = Field(description="Every permission held, wildcards expanded.")


def _secure_cookie(request: Request) -> bool:
    """Secure unless the page is plain-HTTP localhost (development): a browser drops a Secure
    cookie sent over HTTP. Behind a TLS-terminating proxy the host is not localhost: Secure."""
    return not (request.url.scheme == "http" and request.url.hostname in LOCAL_HOSTS)


@router.post("/login", response_model=SignedIn, responses={401: {}, 429: {}})
async def sign_in(credentials: Credentials, request: Request, response: Response) -> SignedIn:
    host = module_host(request)
    source = request.client.host if request.client is not None else "unknown"
    wait = host.failed_attempts.retry_after(source)
    if wait is not None:
        raise ApiError(
            429,
            "too many failed sign-in attempts from this address; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    try:
        session = await run_in_threadpool(login, host.database, credentials.username, credentials.password)
    except AuthError as error:
        host.failed_attempts.failed(source)
        raise ApiError(401, str(error)) from None
    response.set_cookie(
        SESSION_COOKIE,
        session.secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        expires=session.expires_at,
        path="/",
        secure=_secure_cookie(request),
        httponly=True,
        samesite="strict",
    )
    return SignedIn(username=session.username, tenant=session.tenant_id, expiresAt=session.expires_at)


@router.post("/logout", status_code=204, responses={400: {}, 401: {}})
async def sign_out(request: Request, caller: Caller = Depends(authenticate)) -> Response:
    if caller.credential != "session":
        raise ApiError(400, "logout ends a dashboard session; revoke a token with `trafi user token revoke`")
    await run_in_threadpool(
        revoke_credential, module_host(request).database, caller.credential_id, f"user {caller.name}"
    )
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=_secure_cookie(request), httponly=True, samesite="strict"
    )
    return response


@router.get("/me", response_model=Me, responses={401: {}})
async def me(request: Request, caller: Caller = Depends(authenticate)) -> Me:
    """The caller and its permissions among the core's and the running modules'."""
    catalogue = dict(CORE_PERMISSIONS)
    for image in list(module_host(request).images.values()):
        catalogue.update(module_permissions(image.manifest))
    return Me(
        id=caller.id,
        kind=caller.kind,
        name=caller.name,
        tenant=caller.tenant_id,
        credential=caller.credential,
        permissions=list(caller.permissions_in(catalogue)),
    )
