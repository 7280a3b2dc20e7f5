"""The permission catalogue: the core's permissions, each installed module's, and those of the
modules the project serves under `trafi dev`.

A module's are `<module>:use` (every one of its routes requires it) and what its
manifest declares in `apiPermissions`. Roles and API key scopes are checked
against this catalogue when they are created or granted.
"""

from __future__ import annotations

from .auth.permissions import CORE_PERMISSIONS, module_use
from .errors import TrafiError
from .manifest.load import load_manifest
from .manifest.model import Manifest
from .project import Project
from .project.dev_folders import dev_folders


def module_permissions(manifest: Manifest) -> dict[str, str]:
    return {
        module_use(manifest.name): f"Call the {manifest.name} module's API routes",
        **manifest.api_permissions,
    }


def permission_catalogue(project: Project) -> dict[str, str]:
    """Every permission a grant may name in this project, to what it allows."""
    catalogue = dict(CORE_PERMISSIONS)
    for name in sorted(project.load_config().modules):
        try:
            manifest = load_manifest(project.module_dir(name))
        except TrafiError:
            # Unreadable now (reported by `trafi module list`): its base permission still exists.
            catalogue[module_use(name)] = f"Call the {name} module's API routes"
            continue
        catalogue.update(module_permissions(manifest))
    for folder in dev_folders(project.state_dir):
        try:
            catalogue.update(module_permissions(load_manifest(folder)))
        except TrafiError:
            continue  # `trafi dev` reports it; nothing of it to grant until it loads
    return catalogue
