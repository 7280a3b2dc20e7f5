"""`GET /health`: the host and each module's load state (no auth: load balancers call it)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..version import HOST_VERSION
from .auth import module_host

router = APIRouter()


class ModuleHealth(BaseModel):
    name: str
    version: str
    status: str
    error: str | None = None
    loadMs: float | None = None


class EventHealth(BaseModel):
    """Event deliveries by this process since it started (sync ones and, with job workers, async)."""

    syncDone: int
    syncFailed: int
    asyncQueued: int
    asyncDone: int
    asyncRetried: int
    deadLettered: int
    failuresByModule: dict[str, int]


class ProcessHealth(BaseModel):
    """The process that answered: under `trafi serve --workers N`, one of N."""

    pid: int
    worker: int | None  # its slot, 1..N; None when the host runs as one process
    eventLeader: bool  # whether it runs the relay, sweeper and job workers (always, as one process)


class Health(BaseModel):
    status: str
    version: str
    modules: list[ModuleHealth]
    events: EventHealth
    process: ProcessHealth


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    modules = [
        ModuleHealth(name=s.name, version=s.version, status=s.status, error=s.error, loadMs=s.load_ms)
        for s in module_host(request).states.values()
    ]
    degraded = any(m.status == "failed" for m in modules)
    stats = module_host(request).dispatcher.stats
    events = EventHealth(
        syncDone=stats.sync_done,
        syncFailed=stats.sync_failed,
        asyncQueued=stats.async_queued,
        asyncDone=stats.async_done,
        asyncRetried=stats.async_retried,
        deadLettered=stats.dead_lettered,
        failuresByModule=dict(stats.by_module_errors),
    )
    role = request.app.state.worker_role
    leader = request.app.state.event_leader
    process = ProcessHealth(
        pid=os.getpid(),
        worker=None if role is None else role.index,
        eventLeader=leader is None or leader.leading,
    )
    return Health(
        status="degraded" if degraded else "ok",
        version=HOST_VERSION,
        modules=modules,
        events=events,
        process=process,
    )
