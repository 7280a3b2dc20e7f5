"""Running the installer for `trafi module add|install`, and what they print (`--json` or text).

Imported by those commands only: it imports the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from trafi_host.audit_log import AuditLog
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.install import Installer, InstallResult
from trafi_host.permissions import permission_items
from trafi_host.project import Project
from trafi_host.project.config import ModuleSource
from trafi_host.runtime import ModuleRuntime

from .context import console, exclusive, open_project
from .progress import progress_reporter


class InstalledItem(BaseModel):
    name: str
    version: str
    replaced: str | None
    dependencyOf: str | None
    source: ModuleSource
    warnings: list[str] = []  # validation warnings, `RULE location: message`


class InstallOutput(BaseModel):
    """`trafi module add|install --json`: every module installed, dependencies first."""

    schemaVersion: Literal[1] = 1
    name: str | None  # the module asked for (add), None for install
    version: str | None
    replaced: str | None
    installed: list[InstalledItem]


@contextmanager
def installer_session(
    proj: Project, *, quiet: bool, build: bool = False, grant: bool = False
) -> Iterator[tuple[Installer, Database]]:
    """An Installer for one command (`add`, `install`, `update`), under the project lock, with its
    runtime, database and progress line; `quiet`: no progress (`--json`, or a prompt may come)."""
    with (
        exclusive(proj),
        ModuleRuntime(
            proj.artifacts_dir, host_capabilities(MemoryKv()), limits=proj.host_limits()
        ) as runtime,
        Database(proj.database_url()) as database,
    ):
        database.migrate()
        with progress_reporter(quiet=quiet) as progress:
            yield (
                Installer(
                    proj,
                    runtime,
                    audit=AuditLog(database, proj.settings.actor),
                    progress=progress,
                    build=build,
                    grant_new_permissions=grant,
                ),
                database,
            )


def run_installer(
    project: Path | None,
    as_json: bool,
    action: Callable[[Installer], list[InstallResult]],
    *,
    build: bool = False,
    grant: bool = False,
) -> list[InstallResult]:
    with installer_session(open_project(project), quiet=as_json, build=build, grant=grant) as (installer, _):
        return action(installer)


def print_installed(results: list[InstallResult]) -> None:
    for result in results:
        verb = f"updated from {result.replaced}" if result.replaced else "installed"
        needed = f" [dim](needed by {result.dependency_of})[/]" if result.dependency_of else ""
        console.print(
            f"{verb}: [bold]{result.manifest.name}[/] {result.manifest.version} "
            f"[dim]from {result.entry.source.resolved}[/]{needed}",
            highlight=False,
        )
        if result.replaced is None:
            for item, why in permission_items(result.manifest.permissions).items():
                console.print(f"  granted {item}  [dim]({why})[/]", highlight=False)
        for warning in _warnings(result):
            console.print(f"  [yellow]warning[/] {warning}", highlight=False)


def _warnings(result: InstallResult) -> list[str]:
    return [f"{f.rule} {f.location}: {f.message}" for f in result.report.warnings]


def installed_items(results: list[InstallResult]) -> list[InstalledItem]:
    return [
        InstalledItem(
            name=r.manifest.name,
            version=r.manifest.version,
            replaced=r.replaced,
            dependencyOf=r.dependency_of,
            source=r.entry.source,
            warnings=_warnings(r),
        )
        for r in results
    ]
