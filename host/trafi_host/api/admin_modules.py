"""`/api/admin/modules...`: the dashboard's operator pages (docs/dashboard.md).

Reading needs `modules:read`; enabling and disabling need `modules:manage` and do
exactly what `trafi module enable/disable` does (the state row, the config
mirror, the announcement), with the signed-in caller as the audit log's actor.
This host applies the change before answering, so the page shows the new state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from .. import lifecycle
from ..auth.caller import Caller
from ..errors import ProjectBusyError, TrafiError, UnknownModuleError
from ..inspection import InspectGrant, permission_rows
from ..install import revalidate
from ..manifest.load import load_manifest
from ..manifest.model import Manifest
from ..module_host import ModuleHost
from ..module_list import ModuleListItem, list_modules
from ..validation.findings import ValidationReport
from ..validation.validate import ValidationFailed
from .auth import module_host, require
from .errors import ApiError

router = APIRouter(prefix="/api/admin/modules", tags=["dashboard"])
may_read_modules = require("modules:read")
may_manage_modules = require("modules:manage")
# What the audit log records of a module's misbehaviour and its consequences.
INCIDENT_ACTIONS = ("incident", "quarantined", "quarantine-lifted")


class AdminModule(BaseModel):
    name: str
    version: str
    status: Literal["enabled", "disabled", "failed", "quarantined"]
    running: bool = Field(description="Whether this host serves it now.")
    reason: str | None = Field(description="Why it is failed or quarantined.")
    source: str
    sourceKind: str
    resolved: str
    compatible: bool
    compatibility: str
    loadMs: float | None
    incidents: int = Field(description="Incidents in the audit log (the latest 200 entries of the module).")
    permissions: list[InspectGrant] = Field(description="Each capability it asks for, granted or not.")


class Incident(BaseModel):
    at: datetime
    action: str
    kind: str | None
    detail: str | None
    actor: str


class EventSubscription(BaseModel):
    event: str
    mode: str
    maxRetries: int


class Services(BaseModel):
    provides: list[str] = Field(description="The services it offers (read when it started).")
    dependsOn: dict[str, str] = Field(description="Modules it calls, with the version range it needs.")


class MetricSummary(BaseModel):
    name: str
    type: str
    help: str
    labels: list[str]


class ViewEntry(BaseModel):
    module: str
    id: str
    title: str
    navLabel: str


class ModuleDetail(BaseModel):
    module: AdminModule
    world: str
    apiPermissions: dict[str, str]
    events: list[EventSubscription]
    services: Services
    metrics: list[MetricSummary]
    incidents: list[Incident]
    views: list[ViewEntry] = Field(
        description="Its dashboard views (all of them, whatever the reader holds)."
    )


def _incidents(host: ModuleHost, name: str) -> list[Incident]:
    return [
        Incident(
            at=entry.at,
            action=entry.action,
            kind=entry.rule,
            detail=entry.detail or entry.reason,
            actor=entry.actor,
        )
        for entry in host.audit.entries(module=name)
        if entry.action in INCIDENT_ACTIONS
    ]


def module_manifest(host: ModuleHost, name: str) -> Manifest | None:
    """The manifest of the version this host runs, else of the installed copy (None if unreadable)."""
    image = host.images.get(name)
    if image is not None:
        return image.manifest
    try:
        return load_manifest(host.project.module_dir(name))
    except TrafiError:
        return None


def _row(host: ModuleHost, item: ModuleListItem, incidents: int) -> AdminModule:
    manifest = module_manifest(host, item.name)
    entry = host.project.load_config().modules.get(item.name)
    grants = permission_rows(manifest.permissions, entry.granted if entry else None) if manifest else []
    return AdminModule(
        name=item.name,
        version=item.version,
        status=item.status,
        running=item.name in host.images,
        reason=item.reason,
        source=item.source,
        sourceKind=item.sourceKind,
        resolved=item.resolved,
        compatible=item.compatible,
        compatibility=item.compatibility,
        loadMs=item.loadMs,
        incidents=incidents,
        permissions=grants,
    )


def _dev_row(host: ModuleHost, name: str) -> AdminModule:
    """A module `trafi dev` serves from its source: not installed, so not in the module list."""
    state = host.states.get(name)
    image = host.images.get(name)
    folder = str(image.folder) if image is not None else "?"
    status: Literal["enabled", "failed"] = (
        "enabled" if state is not None and state.status == "loaded" else "failed"
    )
    return AdminModule(
        name=name,
        version=state.version if state else "?",
        status=status,
        running=image is not None,
        reason=state.error if state else None,
        source=f"trafi dev {folder}",
        sourceKind="path",
        resolved=folder,
        compatible=True,
        compatibility="ok",
        loadMs=state.load_ms if state else None,
        incidents=sum(1 for i in _incidents(host, name) if i.action == "incident"),
        permissions=permission_rows(image.manifest.permissions, None) if image else [],
    )


def admin_modules(host: ModuleHost) -> list[AdminModule]:
    rows = [
        _row(host, item, sum(1 for i in _incidents(host, item.name) if i.action == "incident"))
        for item in list_modules(host.project, host.module_states).modules
    ]
    rows += [_dev_row(host, name) for name in sorted(host.dev_modules)]
    return sorted(rows, key=lambda row: row.name)


def admin_module(host: ModuleHost, name: str) -> AdminModule:
    """The module's row as the Modules page shows it, or a 404 naming it."""
    for row in admin_modules(host):
        if row.name == name:
            return row
    raise ApiError(404, f"no module named {name!r}")


def module_detail(host: ModuleHost, name: str) -> ModuleDetail:
    row = admin_module(host, name)
    manifest = module_manifest(host, name)
    image = host.images.get(name)
    views = image.declarations.views if image is not None else ()
    return ModuleDetail(
        module=row,
        world=manifest.world if manifest else "?",
        apiPermissions=dict(manifest.api_permissions) if manifest else {},
        events=[
            EventSubscription(event=sub.event, mode=sub.mode, maxRetries=sub.max_retries)
            for sub in (manifest.events if manifest else [])
        ],
        services=Services(
            provides=list(image.service_names) if image is not None else [],
            dependsOn=dict(manifest.dependencies) if manifest else {},
        ),
        metrics=[
            MetricSummary(name=m.name, type=m.type, help=m.help, labels=list(m.labels))
            for m in (manifest.metrics if manifest else [])
        ],
        incidents=_incidents(host, name),
        views=[ViewEntry(module=name, id=v.id, title=v.title, navLabel=v.nav_label) for v in views],
    )


@router.get("", response_model=list[AdminModule], responses={401: {}, 403: {}})
async def list_admin_modules(request: Request, _: Caller = Depends(may_read_modules)) -> list[AdminModule]:
    return await run_in_threadpool(admin_modules, module_host(request))


@router.get("/{name}", response_model=ModuleDetail, responses={401: {}, 403: {}, 404: {}})
async def show_module(name: str, request: Request, _: Caller = Depends(may_read_modules)) -> ModuleDetail:
    return await run_in_threadpool(module_detail, module_host(request), name)


@router.get("/{name}/validation", response_model=ValidationReport, responses={401: {}, 403: {}, 404: {}})
async def validate_installed(
    name: str, request: Request, _: Caller = Depends(may_read_modules)
) -> ValidationReport:
    """The installed copy validated again now, with the overrides recorded for it."""
    host = module_host(request)
    if name in host.dev_modules:
        raise ApiError(404, f"module {name!r} is served from its source by `trafi dev`, not installed")
    try:
        return await run_in_threadpool(revalidate, host.project, name, host.runtime.artifacts)
    except UnknownModuleError as error:
        raise ApiError(404, str(error)) from None


async def _toggle(request: Request, caller: Caller, name: str, enabled: bool) -> AdminModule:
    host = module_host(request)
    if name in host.dev_modules:
        raise ApiError(
            409, f"module {name!r} is served from its source by `trafi dev`; stop or edit it there"
        )
    actor = caller.describe()
    try:
        if enabled:
            await run_in_threadpool(
                lifecycle.enable, host.project, name, host.runtime.artifacts, host.module_states, actor
            )
        else:
            await run_in_threadpool(lifecycle.disable, host.project, name, host.module_states, actor)
    except UnknownModuleError as error:
        raise ApiError(404, str(error)) from None
    except ValidationFailed as error:
        raise ApiError(
            409,
            f"module {name} was not enabled: validation blocks it",
            findings=[finding.model_dump() for finding in error.report.blocking],
        ) from None
    except ProjectBusyError as error:
        raise ApiError(409, str(error)) from None
    # Applied here before answering; other hosts follow the announcement or their next poll.
    await run_in_threadpool(host.reconcile)
    return await run_in_threadpool(admin_module, host, name)


@router.post("/{name}/enable", response_model=AdminModule, responses={401: {}, 403: {}, 404: {}, 409: {}})
async def enable_module(
    name: str, request: Request, caller: Caller = Depends(may_manage_modules)
) -> AdminModule:
    """Validate the installed copy again and run it (lifting a quarantine), as `trafi module enable`."""
    return await _toggle(request, caller, name, True)


@router.post("/{name}/disable", response_model=AdminModule, responses={401: {}, 403: {}, 404: {}, 409: {}})
async def disable_module(
    name: str, request: Request, caller: Caller = Depends(may_manage_modules)
) -> AdminModule:
    """Stop running it everywhere; its files and data stay, as `trafi module disable`."""
    return await _toggle(request, caller, name, False)
