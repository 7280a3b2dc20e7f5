"""What an operator granted, against what a manifest asks for.

Installing a module grants what its manifest requests (the operator sees the
list). An update that asks for more is refused until the operator grants the
new permissions explicitly, so an update cannot widen a module's reach
silently. At run time the host enforces the granted set, not the manifest.
"""

from __future__ import annotations

from .capabilities.registry import ALL, Capabilities, permission_items
from .errors import ExitCode, TrafiError
from .manifest.model import Permissions


class PermissionEscalation(TrafiError):
    """An update requests permissions the operator has not granted."""

    exit_code = ExitCode.PERMISSION_ESCALATION


def escalation(
    requested: Permissions, granted: Permissions, capabilities: Capabilities = ALL
) -> dict[str, str]:
    """Requested items not covered by the granted set."""
    already = permission_items(granted, capabilities)
    return {
        item: reason
        for item, reason in permission_items(requested, capabilities).items()
        if item not in already
    }


def effective(requested: Permissions, granted: Permissions | None) -> Permissions:
    """What the host enforces: the granted set (all of the manifest's when none is recorded)."""
    if granted is None:
        return requested
    missing = escalation(requested, granted)
    if missing:
        # Installed files changed behind the host's back: enforce the grant, not the files.
        return granted
    return requested


__all__ = ["PermissionEscalation", "effective", "escalation", "permission_items"]
