"""App factory: the module proxy, commerce, /health, /metrics, the dashboard (/admin and its API);
request limits, rate limits, JSON errors, and the OpenAPI document with the modules' routes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from ..change_watch import watch_changes
from ..delivery.background import keep_events_moving, keep_events_moving_when_leading
from ..delivery.leader import EventLeader
from ..module_host import ModuleHost
from ..project import Project
from ..rate_limits.limiter import ModuleRateLimiter
from ..version import HOST_VERSION
from . import (
    admin_events,
    admin_module_metrics,
    admin_modules,
    admin_views,
    commerce,
    health,
    metrics,
    module_list,
    module_proxy,
    sessions,
)
from .admin_static import dashboard_router
from .api_docs_page import api_docs_router
from .errors import ApiError, api_error_handler, http_error_handler, validation_error_handler
from .module_openapi import ModuleOpenApi
from .request_limits import BodyCap, RequestLimits
from .server_errors import JsonServerErrors
from .sibling_metrics import serve_own_metrics
from .worker_role import WorkerRole

CHANGE_WATCH_TASK = "trafi-change-watch"
EVENT_LOOPS_TASK = "trafi-event-loops"  # the relay, the sweeper and the embedded job workers


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


def create_app(project: Project, host: ModuleHost | None = None, worker: WorkerRole | None = None) -> FastAPI:
    """The host's ASGI app. With `host=None` it owns a ModuleHost for its lifespan.

    `worker`: this process is one of `trafi serve --workers N`; it runs the event loops only
    while it is the event leader, and answers its metrics to its siblings."""
    owned = host is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        module_host = host or ModuleHost(project)
        if owned:
            module_host.reconcile()
        app.state.host = module_host
        # Here, not in the host: its Redis connections belong to this app's event loop.
        app.state.rate_limiter = ModuleRateLimiter(
            module_host.project.redis_url(),
            module_host.project.settings.rate_limit_prefix,
            # Without Redis the workers of one `trafi serve` count together in their run folder.
            None if worker is None else worker.rate_limit_file,
        )
        events = (
            keep_events_moving(module_host.dispatcher, module_host.job_workers)
            if app.state.event_leader is None
            else keep_events_moving_when_leading(
                module_host.dispatcher, module_host.job_workers, app.state.event_leader
            )
        )
        # Named: what runs in the background of every request (bench/bench_server.py stops them).
        loops = [
            asyncio.create_task(watch_changes(module_host), name=CHANGE_WATCH_TASK),
            asyncio.create_task(events, name=EVENT_LOOPS_TASK),
        ]
        # Last: the socket's existence tells the supervisor this worker has started.
        sibling_server = (
            None
            if worker is None
            else await serve_own_metrics(worker.metrics_socket(os.getpid()), lambda: metrics.own_metrics(app))
        )
        try:
            yield
        finally:
            if sibling_server is not None:
                sibling_server.close()
                assert worker is not None
                worker.metrics_socket(os.getpid()).unlink(missing_ok=True)
            for loop in loops:
                loop.cancel()
            # The event loops stop their job consumer (and give up the leader lock) as they end.
            await asyncio.gather(*loops, return_exceptions=True)
            await app.state.rate_limiter.close()
            if owned:
                module_host.close()

    app = HostApp(title="Trafi module host", version=HOST_VERSION, lifespan=lifespan, docs_url=None)
    app.state.worker_role = worker
    app.state.event_leader = None if worker is None else EventLeader(project.state_dir)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    # Added last, so outermost: limits refuse before any route reads; errors catch everything.
    app.add_middleware(
        RequestLimits, body_caps=[BodyCap(module_proxy.PREFIX, module_proxy.module_body_limit)]
    )
    app.add_middleware(JsonServerErrors)
    # First: the module proxy is the hottest route, and FastAPI tries each route in turn (about
    # 25K instructions apiece, measured by bench/instructions.py); its `/api/modules/<name>/...`
    # shadows no other route.
    app.include_router(module_proxy.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(sessions.router)
    app.include_router(module_list.router)
    app.include_router(commerce.router)
    app.include_router(admin_modules.router)
    app.include_router(admin_module_metrics.router)
    app.include_router(admin_views.router)
    app.include_router(admin_events.router)
    app.include_router(dashboard_router(project.settings.dashboard_dir))
    app.include_router(api_docs_router(project.settings.dashboard_dir))
    return app
