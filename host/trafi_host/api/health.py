"""`GET /health`: the host and each module's load state (no auth: load balancers call it)."""

from __future__ import annotations

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


class Health(BaseModel):
    status: str
    version: str
    modules: list[ModuleHealth]


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    modules = [
        ModuleHealth(name=s.name, version=s.version, status=s.status, error=s.error, loadMs=s.load_ms)
        for s in module_host(request).states.values()
    ]
    degraded = any(m.status == "failed" for m in modules)
    return Health(status="degraded" if degraded else "ok", version=HOST_VERSION, modules=modules)
