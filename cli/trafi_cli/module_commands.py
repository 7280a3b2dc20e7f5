"""`trafi module ...`: new, build, add, list, enable, disable, remove (update: update_commands)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import typer
from pydantic import BaseModel
from rich.table import Table

from trafi_host import lifecycle
from trafi_host.audit_log import AuditLog
from trafi_host.build import build_module
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.errors import UpdateRefused, UsageError
from trafi_host.install import Installer, InstallResult
from trafi_host.lifecycle.removal_order import removal_order
from trafi_host.module_data import DataChoice, has_data, project_runner
from trafi_host.module_list import list_modules
from trafi_host.permissions import permission_items
from trafi_host.project.config import ModuleSource
from trafi_host.runtime import ModuleRuntime
from trafi_host.runtime.artifacts import ArtifactCache
from trafi_host.runtime.engine import EngineSettings
from trafi_host.scaffold import scaffold_module
from trafi_host.settings import HostSettings

from . import data_commands, review_commands, update_commands
from .context import ProjectOption, console, emit_json, exclusive, open_project, reported_errors
from .overrides import AllowOption, ReasonOption, overrides_from
from .progress import progress_reporter

app = typer.Typer(help="Create, build, install and manage modules.", no_args_is_help=True)


@app.command("new")
def new(
    name: str = typer.Argument(..., help="Module name, lowercase kebab-case."),
    directory: Path | None = typer.Option(None, "--dir", help="Where to create it (default: ./<name>)."),
) -> None:
    """Scaffold a module from the template."""
    with reported_errors():
        target = scaffold_module(name, directory or Path(name))
    console.print(f"created module [bold]{name}[/] in {target}")
    console.print(f"next: trafi module build {target}")


@app.command("build")
def build(
    directory: Path = typer.Argument(Path("."), help="The module folder (with trafi-module.json)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Build the module's Python source into its WebAssembly component (componentize-py)."""
    with reported_errors(as_json):
        result = build_module(directory, wit_root=HostSettings.from_environment().wit_dir)
    if as_json:
        emit_json({"name": result.manifest.name, "component": str(result.component), "size": result.size})
    else:
        console.print(f"built {result.manifest.name} → {result.component} ({result.size / 1e6:.1f} MB)")


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


def _run_installer(
    project: Path | None,
    as_json: bool,
    action: Callable[[Installer], list[InstallResult]],
    *,
    build: bool = False,
    grant: bool = False,
) -> list[InstallResult]:
    proj = open_project(project)
    with (
        exclusive(proj),
        ModuleRuntime(
            proj.artifacts_dir, host_capabilities(MemoryKv()), limits=proj.host_limits()
        ) as runtime,
        Database(proj.database_url()) as database,
    ):
        database.migrate()
        with progress_reporter(quiet=as_json) as progress:
            installer = Installer(
                proj,
                runtime,
                audit=AuditLog(database, proj.settings.actor),
                progress=progress,
                build=build,
                grant_new_permissions=grant,
            )
            return action(installer)


def _print_installed(results: list[InstallResult]) -> None:
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


def _installed_items(results: list[InstallResult]) -> list[InstalledItem]:
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


@app.command("add")
def add(
    source: str = typer.Argument(
        ...,
        help="A folder, a .tgz, github:user/repo[#ref], git+https|ssh|file://…[#ref], "
        "or an npm package: name, name@range, @scope/name@1.2.3.",
    ),
    build_first: bool = typer.Option(
        False, "--build", help="Build the component from the module's source (in staging) before installing."
    ),
    allow: list[str] = AllowOption,
    reason: str | None = ReasonOption,
    grant: bool = typer.Option(
        False, "--grant", help="Grant the new permissions an update asks for (after reviewing them)."
    ),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Install a module (and the modules it depends on) from a folder, .tgz, git or npm.

    Fetches into staging, validates (manifest, compatibility, security), compiles and
    trial-starts every module of the install before anything is moved into place. Grants
    what a manifest requests on first install; an update asking for more needs --grant.
    """
    overrides = overrides_from(allow, reason)
    with reported_errors(as_json):
        results = _run_installer(
            project,
            as_json,
            lambda installer: installer.install(source, overrides),
            build=build_first,
            grant=grant,
        )
    root = results[-1]
    if as_json:
        emit_json(
            InstallOutput(
                name=root.manifest.name,
                version=root.manifest.version,
                replaced=root.replaced,
                installed=_installed_items(results),
            )
        )
    else:
        _print_installed(results)
        _say_if_quarantined(project, root.manifest.name)


def _say_if_quarantined(project: Path | None, name: str) -> None:
    """A module re-added while quarantined stays quarantined: say so, and how to lift it."""
    with lifecycle.project_module_states(open_project(project)) as states:
        row = states.load().get(name)
    if row is not None and row.quarantined:
        console.print(
            f"  [yellow]still quarantined[/]: {row.quarantined} (`trafi module enable {name}` lifts it; "
            f"`trafi module update {name} --lift-quarantine` updates and lifts it)",
            highlight=False,
        )


@app.command("install")
def install(
    project: Path | None = ProjectOption,
    build_first: bool = typer.Option(False, "--build", help="Build components from source (git sources)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Install exactly the modules recorded in trafi.lock.json.

    Same versions, commits and integrity as where the lock was written; a module already
    installed at the locked digest is left alone, one whose digest differs is refused.
    """
    with reported_errors(as_json):
        results = _run_installer(
            project, as_json, lambda installer: installer.install_locked(), build=build_first
        )
    if as_json:
        emit_json(InstallOutput(name=None, version=None, replaced=None, installed=_installed_items(results)))
    elif results:
        _print_installed(results)
    else:
        console.print("up to date: every module in trafi.lock.json is installed")


@app.command("list")
def list_command(project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Installed modules: version, status, source and compatibility.

    Status is enabled, disabled, failed (with the reason) or quarantined; `--json` follows
    docs/module-list.schema.json (versioned).
    """
    with reported_errors(as_json):
        listing = list_modules(open_project(project))
    if as_json:
        emit_json(listing)
        return
    table = Table("name", "version", "status", "source", "compatibility", "load ms", "reason")
    for item in listing.modules:
        color = {"enabled": "green", "disabled": "yellow", "failed": "red", "quarantined": "red"}[item.status]
        table.add_row(
            item.name,
            item.version,
            f"[{color}]{item.status}[/]",
            item.source,
            item.compatibility,
            f"{item.loadMs:.0f}" if item.loadMs is not None else "",
            item.reason or "",
        )
    console.print(table)
    for warning in listing.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


@app.command("enable")
def enable(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Enable an installed module."""
    with reported_errors(as_json):
        proj = open_project(project)
        with exclusive(proj):
            proj.module_entry(name)  # an unknown name is refused before anything is compiled
            # Enabling re-validates, which needs the component compiled as the hosts compile it.
            artifacts = ArtifactCache.for_settings(
                proj.artifacts_dir, EngineSettings.for_limits(proj.host_limits())
            )
            entry = lifecycle.enable(proj, name, artifacts)
    _print_toggled(name, entry.enabled, as_json)


@app.command("disable")
def disable(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Disable an installed module (its files and data stay)."""
    with reported_errors(as_json):
        proj = open_project(project)
        with exclusive(proj):
            entry = lifecycle.disable(proj, name)
    _print_toggled(name, entry.enabled, as_json)


def _print_toggled(name: str, enabled: bool, as_json: bool) -> None:
    if as_json:
        emit_json({"name": name, "enabled": enabled})
    else:
        console.print(
            f"{name}: {'enabled' if enabled else 'disabled'} (a running host applies it within a second)"
        )


@app.command("remove")
def remove(
    name: str,
    keep_data: bool = typer.Option(False, "--keep-data", help="Keep its tables and key-value data."),
    delete_data: bool = typer.Option(
        False, "--delete-data", help="Run its down migrations, delete its key-value data and write folders."
    ),
    force: bool = typer.Option(
        False, "--force", help="Do not ask: delete its data (and, with --cascade, go on)."
    ),
    cascade: bool = typer.Option(
        False, "--cascade", help="Also remove the installed modules that depend on it (listed first)."
    ),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Disable a module, remove its files, kept versions and entry; keep or delete its data.

    Asks keep or delete when it has data (tables, key-value rows); --force deletes without
    asking. Modules that depend on it block the removal unless --cascade, which lists them and
    removes them first. Every removal is in the audit log.
    """
    with reported_errors(as_json):
        if keep_data and (delete_data or force):
            raise UsageError("--keep-data contradicts --delete-data/--force: choose one")
        proj = open_project(project)
        with exclusive(proj):
            proj.module_entry(name)
            order = removal_order(proj, name)
            dependents = order[:-1]
            if dependents and not cascade:
                raise UpdateRefused(
                    f"module {name} is needed by {', '.join(dependents)}: remove them first, or say "
                    "--cascade to remove them with it"
                )
            if dependents and not as_json:
                console.print(f"removing with {name}: {', '.join(dependents)} (they depend on it)")
            if dependents and not (force or _confirmed(f"remove {', '.join(order)}?")):
                raise UpdateRefused(f"removal of {', '.join(order)} not confirmed; nothing changed")
            choice: DataChoice = "delete" if (delete_data or force) else "keep"
            if not (keep_data or delete_data or force):
                with project_runner(proj) as runner:
                    asked = any(has_data(runner, one) for one in order)
                if asked and not sys.stdin.isatty():
                    raise UsageError(
                        f"module {name} has data (tables or key-value rows): say --keep-data or "
                        "--delete-data (--force deletes without asking)"
                    )
                if asked:
                    answer = typer.prompt(
                        f"{' and '.join(order)} have data: keep or delete it?", default="keep"
                    )
                    if answer not in ("keep", "delete"):
                        raise UsageError(f"answer keep or delete, not {answer!r}")
                    choice = "delete" if answer == "delete" else "keep"
            removed = [(one, lifecycle.remove(proj, one, data=choice)) for one in order]
    if as_json:
        emit_json(
            {
                "name": name,
                "version": removed[-1][1].version,
                "removed": True,
                "data": choice,
                "cascade": [{"name": one, "version": entry.version} for one, entry in removed[:-1]],
            }
        )
    else:
        for one, entry in removed:
            console.print(
                f"removed {one} {entry.version} (data: {'deleted' if choice == 'delete' else 'kept'})"
            )


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(f"{question} needs confirmation: run again with --force")
    return typer.confirm(question, default=False)


# What a security reviewer runs: defined in review_commands, listed under `trafi module`.
app.command("validate")(review_commands.validate)
app.command("update")(update_commands.update)
app.command("rollback")(update_commands.rollback)
app.command("versions")(update_commands.versions)
app.command("prune")(update_commands.prune)
app.command("migrations")(data_commands.migrations)
app.command("migrate")(data_commands.migrate)
app.command("inspect")(review_commands.inspect)
