"""App factory: module proxy under /api/modules, /health, auth on every /api route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from ..auth import ApiKeyRecord, verify_api_key
from ..errors import AuthError
from ..module_host import ModuleHost
from ..project import Project
from ..runtime import ModuleRequest, Principal
from ..version import HOST_VERSION

MAX_BODY_BYTES = 1 << 20
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **detail: Any) -> None:
        self.status = status
        self.message = message
        self.detail = detail


class ModuleHealth(BaseModel):
    name: str
    version: str
    status: str
    error: str | None = None
    loadMs: float | None = None


class Health(BaseModel):
    status: str
    version: str
    modules: list[ModuleHealth]


def create_app(project: Project, host: ModuleHost | None = None) -> FastAPI:
    owned = host is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        module_host = host or ModuleHost(project)
        if owned:
            module_host.load_all()
        app.state.host = module_host
        try:
            yield
        finally:
            if owned:
                module_host.close()

    app = FastAPI(title="Trafi module host", version=HOST_VERSION, lifespan=lifespan)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse({"error": error.message, **error.detail}, status_code=error.status)

    async def api_key(request: Request) -> ApiKeyRecord:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'")
        module_host: ModuleHost = request.app.state.host
        try:
            return await run_in_threadpool(verify_api_key, module_host.database, token)
        except AuthError as error:
            raise ApiError(401, str(error)) from None

    @app.get("/health", response_model=Health)
    async def health(request: Request) -> Health:
        module_host: ModuleHost = request.app.state.host
        modules = [
            ModuleHealth(name=s.name, version=s.version, status=s.status, error=s.error, loadMs=s.load_ms)
            for s in module_host.states.values()
        ]
        degraded = any(m.status == "failed" for m in modules)
        return Health(status="degraded" if degraded else "ok", version=HOST_VERSION, modules=modules)

    @app.api_route(
        "/api/modules/{name}/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        summary="Call a module's HTTP handler",
    )
    async def module_proxy(
        name: str, path: str, request: Request, key: ApiKeyRecord = Depends(api_key)
    ) -> Response:
        module_host: ModuleHost = request.app.state.host
        image = module_host.images.get(name)
        if image is None:
            state = module_host.states.get(name)
            if state is None:
                raise ApiError(404, f"no module named {name!r}")
            if state.status == "disabled":
                raise ApiError(404, f"module {name!r} is disabled")
            raise ApiError(503, f"module {name!r} failed to load", reason=state.error)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
        module_request = ModuleRequest(
            method=request.method,
            path="/" + path,
            tenant_id=key.tenant_id,
            principal=Principal(id=key.key_id, kind="api-key", scopes=key.scopes),
            query=tuple(request.query_params.multi_items()),
            headers=tuple((k.lower(), v) for k, v in request.headers.items() if k.lower() != "authorization"),
            body=body,
        )
        result = await module_host.runtime.call_http(image, module_request)
        headers = {k: v for k, v in result.headers if k.lower() not in _HOP_BY_HOP}
        return Response(content=result.body, status_code=result.status, headers=headers)

    return app
