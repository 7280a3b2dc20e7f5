"""`GET /api/modules`: the modules this host runs or should run, and their state (`modules:read`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from ..auth.caller import Caller
from ..permission_catalogue import module_permissions
from .auth import module_host, require

router = APIRouter(tags=["modules"])


class ModuleSummary(BaseModel):
    name: str
    version: str
    status: str
    error: str | None = None
    permissions: dict[str, str]


may_read_modules = require("modules:read")


@router.get("/api/modules", response_model=list[ModuleSummary], responses={401: {}, 403: {}})
async def list_modules(request: Request, _: Caller = Depends(may_read_modules)) -> list[ModuleSummary]:
    host = module_host(request)
    images = dict(host.images)
    return [
        ModuleSummary(
            name=state.name,
            version=state.version,
            status=state.status,
            error=state.error,
            permissions=module_permissions(images[state.name].manifest) if state.name in images else {},
        )
        for state in sorted(host.states.values(), key=lambda s: s.name)
    ]
