"""A module's data through its lifecycle: migrations run on install, enable and load; kept or
deleted on removal.

The tables themselves and their migrations are the db capability's
(`capabilities/db/`); this is where the lifecycle decides when they move.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import delete, select

from .capabilities.db.migration_files import Migration, read_migrations
from .capabilities.db.migrations import AppliedMigration, MigrationRunner, Step
from .db.engine import Database
from .db.schema import KV
from .manifest.model import Manifest
from .project import Project

DataChoice = Literal["keep", "delete"]


@dataclass(frozen=True)
class MigrationRun:
    """What a sync did, and how to take it back (a later step of the same change failed)."""

    runner: MigrationRunner
    module: str
    steps: list[Step]
    before: dict[str, AppliedMigration]
    migrations: list[Migration]

    def undo(self) -> None:
        self.runner.undo(self.module, self.steps, self.before, {m.id: m for m in self.migrations})


def shipped_migrations(manifest: Manifest, folder: Path) -> list[Migration]:
    if manifest.wit_version == "0.1.0" and not (folder / manifest.migrations).is_dir():
        return []
    return read_migrations(manifest.name, folder, manifest.migrations)


def sync_migrations(
    runner: MigrationRunner,
    manifest: Manifest,
    folder: Path,
    *,
    to: str | None = None,
    down: bool = False,
) -> MigrationRun:
    """Brings the module's tables to what `folder` ships (or `to`).

    MigrationError leaves them as they were.
    """
    migrations = shipped_migrations(manifest, folder)
    before = {a.id: a for a in runner.applied(manifest.name)}
    if not migrations and not before:
        return MigrationRun(runner, manifest.name, [], before, migrations)
    steps = runner.sync(manifest.name, manifest.version, migrations, to=to, down=down)
    return MigrationRun(runner, manifest.name, steps, before, migrations)


@contextmanager
def project_runner(project: Project) -> Iterator[MigrationRunner]:
    with Database(project.database_url()) as database:
        database.migrate()
        yield MigrationRunner(database.engine)


def has_data(runner: MigrationRunner, module: str) -> bool:
    """Whether removing the module has a question to ask: tables or key-value rows of its own."""
    if runner.applied(module):
        return True
    with runner.engine.connect() as connection:
        found = connection.execute(select(KV.c.key).where(KV.c.module == module).limit(1)).first()
    return found is not None


def delete_module_data(runner: MigrationRunner, module: str) -> list[Step]:
    """Runs the down migrations in reverse and deletes the module's key-value rows, every tenant's."""
    steps = runner.remove_all(module)
    with runner.engine.begin() as connection:
        connection.execute(delete(KV).where(KV.c.module == module))
    return steps


def delete_write_folders(project: Project, module: str) -> list[Path]:
    """Every tenant's write folder of the module (`permissions.fs.write`): `data/<tenant>/<module>`."""
    gone = []
    if project.data_dir.is_dir():
        for tenant in project.data_dir.iterdir():
            folder = tenant / module
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder)
    return gone


__all__ = [
    "DataChoice",
    "MigrationRun",
    "delete_module_data",
    "delete_write_folders",
    "has_data",
    "project_runner",
    "shipped_migrations",
    "sync_migrations",
]
