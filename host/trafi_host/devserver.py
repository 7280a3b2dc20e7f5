"""`trafi dev`: the modules under development served from their source, reloaded on each save.

The dev project (SQLite by default) gets a `demo` tenant and an API key; each
module folder is served through the dev runtime (`trafi_host.dev`) and watched.
Nothing is built: a production build (`trafi module build`) is unchanged and
`trafi serve` never starts the dev runtime.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from sqlalchemy import select

from .auth import create_api_key, create_tenant, verify_api_key
from .auth.roles import create_role, list_roles
from .auth.users import create_user, list_users
from .db import Database, Tenant
from .dev.event_stream import DevEventStream
from .dev.reloader import ConfirmPermissions, DevModules, ReportEvent
from .dev.watcher import ModuleWatcher
from .errors import AuthError, TrafiError
from .manifest.model import MANIFEST_FILE
from .module_host import ModuleHost
from .project import Project
from .project.dev_folders import record_dev_folders

log = logging.getLogger("trafi.dev")
DEV_TENANT = "demo"


class DevSetupError(TrafiError):
    """`trafi dev` was given no module to serve, or a folder that is not one."""


def module_dirs(given: Sequence[Path], default: Path = Path("modules")) -> list[Path]:
    """The module folders to develop: each given folder, or each module inside a given folder of
    modules; with none given, the modules in `./modules` (the repository's examples)."""
    if not given:
        if not default.is_dir():
            raise DevSetupError(
                f"no module to develop: {default.resolve()} does not exist. Run `trafi dev MODULE_DIR` "
                f"with the folder of a module (the one holding its {MANIFEST_FILE}; `trafi module new "
                f"NAME` creates one), or run `trafi dev` in the Trafi repository to serve its examples"
            )
        given = [default]
    found: list[Path] = []
    for folder in given:
        if (folder / MANIFEST_FILE).is_file():
            found.append(folder.resolve())
            continue
        inside = (
            sorted(p.resolve() for p in folder.iterdir() if (p / MANIFEST_FILE).is_file())
            if folder.is_dir()
            else []
        )
        if not inside:
            raise DevSetupError(
                f"{folder} is not a module folder (no {MANIFEST_FILE}) nor a folder of modules"
            )
        found += inside
    return list(dict.fromkeys(found))


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


DEV_ADMIN = "admin"
DEV_ADMIN_ROLE = "dev-admin"


def dev_admin_password(project: Project) -> str | None:
    """The dashboard's sign-in for the dev project: user `admin` of the demo tenant, holding
    everything (`*`), its password kept in plain text inside the dev project only. None when
    that user exists but its password file was deleted (set one with `trafi user ...`)."""
    password_file = project.state_dir / "dev-admin-password"
    if password_file.is_file():
        return password_file.read_text().strip()
    with Database(project.database_url()) as database:
        if any(user.username == DEV_ADMIN for user in list_users(database, DEV_TENANT)):
            return None
        if DEV_ADMIN_ROLE not in {role.name for role in list_roles(database)}:
            create_role(database, DEV_ADMIN_ROLE, ("*",), actor="trafi dev")
        password = secrets.token_urlsafe(12)
        create_user(database, DEV_ADMIN, DEV_TENANT, password, roles=(DEV_ADMIN_ROLE,), actor="trafi dev")
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return password


def prepare_dev_project(project_dir: Path) -> tuple[Project, str]:
    """The dev project (created if new), its `demo` tenant and that tenant's API key."""
    project = Project.init(project_dir)
    with Database(project.database_url()) as database:
        database.migrate()
        with database.session() as session:
            exists = session.scalar(select(Tenant).where(Tenant.id == DEV_TENANT)) is not None
        if not exists:
            create_tenant(database, DEV_TENANT, "Demo store")
        key = _dev_key(project, database)
    return project, key


@dataclass
class DevServer:
    """The host in dev mode, the modules under development and their watcher; close() ends them."""

    project: Project
    api_key: str
    host: ModuleHost
    modules: DevModules
    events: DevEventStream
    watcher: ModuleWatcher
    admin_password: str | None = None

    @classmethod
    def start(
        cls,
        project_dir: Path,
        directories: Sequence[Path],
        confirm: ConfirmPermissions,
        report: ReportEvent | None = None,
    ) -> DevServer:
        project, key = prepare_dev_project(project_dir)
        host = ModuleHost(project, dev=True)
        try:
            events = DevEventStream()
            modules = DevModules(
                host, project.state_dir / "dev", events, confirm, report, wit_root=project.settings.wit_dir
            )
            for directory in directories:  # claimed first: reconcile leaves their names to dev
                modules.claim(directory)
            record_dev_folders(project.state_dir, modules.directories)  # their permissions may be granted
            host.reconcile()  # modules installed in the dev project, beside those developed
            for directory in directories:
                modules.load(directory)
            watcher = ModuleWatcher(modules)
            watcher.start()
        except BaseException:
            host.close()
            raise
        return cls(project, key, host, modules, events, watcher, dev_admin_password(project))

    def close(self) -> None:
        self.watcher.stop()
        self.host.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
