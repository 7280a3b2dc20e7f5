"""What an operator granted, against what a manifest asks for.

Installing a module grants what its manifest requests (the operator sees the
list). An update that asks for more is refused until the operator grants the
new permissions explicitly, so an update cannot widen a module's reach
silently. At run time the host enforces the granted set, not the manifest.
"""

from __future__ import annotations

from .errors import ExitCode, TrafiError
from .manifest.model import Permissions


class PermissionEscalation(TrafiError):
    """An update requests permissions the operator has not granted."""

    exit_code = ExitCode.PERMISSION_ESCALATION


def permission_items(permissions: Permissions) -> dict[str, str]:
    """Each grant as `kind: what` with its reason."""
    items: dict[str, str] = {}
    for key in ("kv", "db"):
        grant = getattr(permissions, key)
        if grant is not None:
            items[key] = grant.reason
    if permissions.fs is not None:
        items.update({f"fs.read: {g.path}": g.reason for g in permissions.fs.read})
        items.update({f"fs.write: {g.path}": g.reason for g in permissions.fs.write})
    for grant in permissions.network:
        private = " (private addresses allowed)" if grant.allow_private else ""
        for scheme in grant.schemes:
            for port in grant.ports:
                items[f"network: {scheme}://{grant.host}:{port}{private}"] = grant.reason
    items.update({f"env: {g.name}": g.reason for g in permissions.env})
    items.update({f"core: {g.scope}": g.reason for g in permissions.core})
    return items


def escalation(requested: Permissions, granted: Permissions) -> dict[str, str]:
    """Requested items not covered by the granted set."""
    already = permission_items(granted)
    return {item: reason for item, reason in permission_items(requested).items() if item not in already}


def effective(requested: Permissions, granted: Permissions | None) -> Permissions:
    """What the host enforces: the granted set (all of the manifest's when none is recorded)."""
    if granted is None:
        return requested
    missing = escalation(requested, granted)
    if missing:
        # Installed files changed behind the host's back: enforce the grant, not the files.
        return granted
    return requested
