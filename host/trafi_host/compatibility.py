"""Can this host run the module: does its `trafi` range admit this host, and does it
subscribe only to events this host (or another module) emits?"""

from __future__ import annotations

import difflib

import nodesemver

from .errors import CompatibilityError
from .events.catalogue import EVENTS, RESERVED_NAMESPACES
from .manifest.model import Manifest
from .version import HOST_VERSION


def compatibility_problem(manifest: Manifest, host_version: str = HOST_VERSION) -> str | None:
    """None when compatible, else a sentence saying why not."""
    if not nodesemver.satisfies(host_version, manifest.trafi, False):
        return (
            f"module {manifest.name} {manifest.version} needs trafi {manifest.trafi}; "
            f"this host is {host_version}"
        )
    for subscription in manifest.events:
        event = subscription.event
        if event.split(".")[0] in RESERVED_NAMESPACES and event not in EVENTS:
            close = difflib.get_close_matches(event, list(EVENTS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else " (see `trafi events list`)"
            return f"module {manifest.name} subscribes to {event}, which this host does not emit{hint}"
    return None


def require_compatible(manifest: Manifest, host_version: str = HOST_VERSION) -> None:
    problem = compatibility_problem(manifest, host_version)
    if problem is not None:
        raise CompatibilityError(problem)
