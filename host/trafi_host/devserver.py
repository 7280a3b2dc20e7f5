"""`trafi dev`: a ready-to-call host with the example modules, on the SQLite default.

Builds each example module whose sources changed, installs it into the dev
project, makes sure a `demo` tenant exists and prints an API key for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from .auth import create_api_key, create_tenant, verify_api_key
from .build import build_if_stale
from .capabilities.kv.backend import MemoryKv
from .capabilities.registry import host_capabilities
from .db import Database, Tenant
from .errors import AuthError
from .install import install_from_path
from .manifest.model import MANIFEST_FILE
from .project import Project
from .runtime import ModuleRuntime

log = logging.getLogger("trafi.dev")
DEV_TENANT = "demo"


@dataclass(frozen=True)
class DevSetup:
    project: Project
    api_key: str
    modules: list[str]


def _dev_key(project: Project, database: Database) -> str:
    """The demo tenant's key, kept in plain text inside the dev project only."""
    key_file = project.state_dir / "dev-api-key"
    if key_file.is_file():
        try:
            verify_api_key(database, key_file.read_text().strip())
            return key_file.read_text().strip()
        except AuthError:
            pass
    key, _ = create_api_key(database, DEV_TENANT, "dev")
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def prepare_dev_project(project_dir: Path, modules_dir: Path) -> DevSetup:
    project = Project.init(project_dir)
    installed = project.load_config().modules
    names: list[str] = []
    with ModuleRuntime(
        project.artifacts_dir, host_capabilities(MemoryKv()), limits=project.host_limits()
    ) as runtime:
        for module_dir in sorted(p for p in modules_dir.iterdir() if (p / MANIFEST_FILE).is_file()):
            built = build_if_stale(module_dir, project.settings.wit_dir)
            if built is not None:
                log.info("built %s (%.1f MB)", module_dir.name, built.size / 1e6)
            result = None
            entry = installed.get(module_dir.name)
            if built is not None or entry is None:
                result = install_from_path(project, module_dir, runtime)
            names.append(result.manifest.name if result else module_dir.name)
    with Database(project.database_url()) as database:
        database.migrate()
        with database.session() as session:
            exists = session.scalar(select(Tenant).where(Tenant.id == DEV_TENANT)) is not None
        if not exists:
            create_tenant(database, DEV_TENANT, "Demo store")
        key = _dev_key(project, database)
    return DevSetup(project, key, names)
