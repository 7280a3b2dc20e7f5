"""App factory: the module proxy, commerce, /health, /metrics; request limits, rate limits, JSON errors,
and the OpenAPI document with the modules' routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from ..change_watch import watch_changes
from ..delivery.background import relay_loop, start_workers, sweep_loop
from ..module_host import ModuleHost
from ..project import Project
from ..rate_limits.limiter import ModuleRateLimiter
from ..version import HOST_VERSION
from . import commerce, health, metrics, module_list, module_proxy, sessions
from .errors import ApiError, api_error_handler, http_error_handler, validation_error_handler
from .module_openapi import ModuleOpenApi
from .request_limits import BodyCap, RequestLimits
from .server_errors import JsonServerErrors


class HostApp(FastAPI):
    """The app whose OpenAPI document holds the routes of the modules served now."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.module_openapi = ModuleOpenApi()

    def openapi(self) -> dict[str, Any]:
        core = super().openapi()
        host: ModuleHost | None = getattr(self.state, "host", None)
        if host is None:  # before the lifespan starts: the core's routes only
            return core
        return self.module_openapi.document(core, dict(host.images))


def create_app(project: Project, host: ModuleHost | None = None) -> FastAPI:
    """The host's ASGI app. With `host=None` it owns a ModuleHost for its lifespan."""
    owned = host is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        module_host = host or ModuleHost(project)
        if owned:
            module_host.reconcile()
        app.state.host = module_host
        # Here, not in the host: its Redis connections belong to this app's event loop.
        app.state.rate_limiter = ModuleRateLimiter(
            module_host.project.redis_url(), module_host.project.settings.rate_limit_prefix
        )
        loops = [
            asyncio.create_task(watch_changes(module_host)),
            asyncio.create_task(relay_loop(module_host.dispatcher)),
        ]
        consumer = None
        if module_host.job_workers > 0:
            worker, consumer = start_workers(module_host.dispatcher, module_host.job_workers, embedded=True)
            loops.append(asyncio.create_task(sweep_loop(worker)))
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            if consumer is not None:
                consumer.stop()
            await app.state.rate_limiter.close()
            if owned:
                module_host.close()

    app = HostApp(title="Trafi module host", version=HOST_VERSION, lifespan=lifespan)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    # Added last, so outermost: limits refuse before any route reads; errors catch everything.
    app.add_middleware(RequestLimits, body_caps=[BodyCap("/api/modules/", module_proxy.MAX_BODY_BYTES)])
    app.add_middleware(JsonServerErrors)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(sessions.router)
    app.include_router(module_list.router)
    app.include_router(module_proxy.router)
    app.include_router(commerce.router)
    return app
