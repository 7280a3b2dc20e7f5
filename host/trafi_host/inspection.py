"""What `trafi module inspect` shows a security reviewer: permissions with reasons and
their grant status, component imports with the audit's verdict, exports.

Built from the capability registry (permission listing, import audit), so a new
capability appears here without touching this file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from .capabilities.registry import ALL, Capabilities
from .manifest.model import Manifest, Permissions
from .permissions import escalation, permission_items
from .validation.import_audit import ComponentSurface, audit_imports


class InspectImport(BaseModel):
    name: str
    status: Literal["ok", "info", "warning", "error"]
    detail: str | None = None


class InspectGrant(BaseModel):
    permission: str
    reason: str
    status: Literal["granted", "requested", "not granted"]


class Inspection(BaseModel):
    """`trafi module inspect --json`."""

    schemaVersion: Literal[1] = 1
    module: str
    version: str
    world: str
    limits: dict[str, int]
    permissions: list[InspectGrant]
    imports: list[InspectImport]
    exports: list[str]


def permission_rows(
    requested: Permissions, granted: Permissions | None, capabilities: Capabilities = ALL
) -> list[InspectGrant]:
    """Each requested permission with its reason; for an installed module, whether it is granted."""
    items = permission_items(requested, capabilities)
    if granted is None:
        return [InspectGrant(permission=item, reason=why, status="requested") for item, why in items.items()]
    missing = escalation(requested, granted, capabilities)
    return [
        InspectGrant(permission=item, reason=why, status="not granted" if item in missing else "granted")
        for item, why in items.items()
    ]


def inspect_module(
    manifest: Manifest,
    surface: ComponentSurface,
    granted: Permissions | None = None,
    capabilities: Capabilities = ALL,
) -> Inspection:
    audit = audit_imports(surface, manifest, capabilities)
    by_import = {f.subject: f for f in audit if f.subject in surface.imports}
    return Inspection(
        module=manifest.name,
        version=manifest.version,
        world=manifest.world,
        limits={
            "memoryMb": manifest.limits.memory_mb,
            "timeoutMs": manifest.limits.timeout_ms,
            "instancesPerTenant": manifest.limits.instances_per_tenant,
        },
        permissions=permission_rows(manifest.permissions, granted, capabilities),
        imports=[
            InspectImport(
                name=name,
                status=by_import[name].severity if name in by_import else "ok",
                detail=by_import[name].message if name in by_import else None,
            )
            for name in surface.imports
        ],
        exports=list(surface.exports),
    )
