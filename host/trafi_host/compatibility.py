"""Does a module's `trafi` range admit this host?"""

from __future__ import annotations

import nodesemver

from .errors import CompatibilityError
from .manifest.model import Manifest
from .version import HOST_VERSION


def compatibility_problem(manifest: Manifest, host_version: str = HOST_VERSION) -> str | None:
    """None when compatible, else a sentence saying why not."""
    if nodesemver.satisfies(host_version, manifest.trafi, False):
        return None
    return (
        f"module {manifest.name} {manifest.version} needs trafi {manifest.trafi}; this host is {host_version}"
    )


def require_compatible(manifest: Manifest, host_version: str = HOST_VERSION) -> None:
    problem = compatibility_problem(manifest, host_version)
    if problem is not None:
        raise CompatibilityError(problem)
