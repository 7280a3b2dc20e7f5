"""`trafi module migrate` and `trafi module migrations`: a module's database schema, shown and moved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .context import ProjectOption, console, emit_json, exclusive, open_project, reported_errors

if TYPE_CHECKING:
    from trafi_host.manifest.model import Manifest
    from trafi_host.project import Project


def _installed(project: Path | None, name: str) -> tuple[Project, Path, Manifest]:
    """The project, and the installed module's folder and manifest (an unknown name is refused)."""
    from trafi_host.manifest.load import load_manifest

    proj = open_project(project)
    proj.module_entry(name)
    folder = proj.module_dir(name)
    return proj, folder, load_manifest(folder)


def migrations(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Show a module's migrations: shipped by the installed version, applied, when and by which version."""
    from rich.table import Table

    from trafi_host.module_data import project_runner, shipped_migrations

    from .outputs import MigrationRow

    with reported_errors(as_json):
        proj, folder, manifest = _installed(project, name)
        with project_runner(proj) as runner:
            status = runner.status(name, shipped_migrations(manifest, folder))
    rows = [
        MigrationRow(
            id=s.id,
            applied=s.applied is not None,
            appliedAt=s.applied.applied_at if s.applied else None,
            appliedVersion=s.applied.applied_version if s.applied else None,
            shipped=s.shipped,
            changed=s.changed,
        )
        for s in status
    ]
    if as_json:
        emit_json([r.model_dump(mode="json", by_alias=True) for r in rows])
        return
    if not rows:
        console.print(f"{name}: no migrations")
        return
    table = Table("migration", "state", "applied at", "by version")
    for row in rows:
        state = "changed since applied" if row.changed else "applied" if row.applied else "pending"
        if row.applied and not row.shipped:
            state = "applied (not shipped by this version)"
        at = row.applied_at.isoformat(timespec="seconds") if row.applied_at else ""
        table.add_row(row.id, state, at, row.applied_version or "")
    console.print(table)


def migrate(
    name: str,
    to: str | None = typer.Option(None, "--to", help="The migration to stop at (kept, with --down)."),
    down: bool = typer.Option(False, "--down", help="Revert: every migration after --to (all without it)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Move a module's tables to its shipped migrations, to one of them (--to), or back (--down)."""
    from trafi_host.errors import MigrationError
    from trafi_host.module_data import project_runner, shipped_migrations, sync_migrations

    from .outputs import MigrateResult

    with reported_errors(as_json):
        proj, folder, manifest = _installed(project, name)
        # Moving tables while an install or a removal of the module runs would race it.
        with exclusive(proj), project_runner(proj) as runner:
            if dry_run:
                planned = runner.plan(name, shipped_migrations(manifest, folder), to=to, down=down)
            else:
                planned = sync_migrations(runner, manifest, folder, to=to, down=down).steps
        if (
            to is not None
            and not planned
            and not dry_run
            and to not in {m.id for m in shipped_migrations(manifest, folder)}
        ):
            raise MigrationError(f"module {name}: no migration {to!r}")
    steps = [f"{s.direction} {s.id}" for s in planned]
    if as_json:
        emit_json(MigrateResult(module=name, dryRun=dry_run, steps=steps))
        return
    if not steps:
        console.print(f"{name}: nothing to do")
    for step in steps:
        console.print(f"{'would run' if dry_run else 'ran'} {step}")
