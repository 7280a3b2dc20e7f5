"""`trafi module ...`: new, build, add, list, enable, disable, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer
from pydantic import BaseModel
from rich.table import Table

from trafi_host.audit_log import AuditLog
from trafi_host.build import build_module
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.compatibility import compatibility_problem
from trafi_host.db import Database
from trafi_host.errors import TrafiError
from trafi_host.install import install_from_path, remove_module, set_enabled
from trafi_host.manifest import load_manifest
from trafi_host.module_state import project_module_states
from trafi_host.permissions import permission_items
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime
from trafi_host.scaffold import scaffold_module

from . import review_commands
from .context import ProjectOption, console, emit_json, project_root, reported_errors
from .overrides import AllowOption, ReasonOption, overrides_from

app = typer.Typer(help="Create, build, install and manage modules.", no_args_is_help=True)


class ModuleListItem(BaseModel):
    name: str
    version: str
    status: Literal["enabled", "disabled", "failed", "quarantined"]
    source: str
    sourceKind: str
    compatible: bool
    compatibility: str


class ModuleList(BaseModel):
    schemaVersion: Literal[1] = 1
    modules: list[ModuleListItem]
    warnings: list[str]


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
        result = build_module(directory)
    if as_json:
        emit_json({"name": result.manifest.name, "component": str(result.component), "size": result.size})
    else:
        console.print(f"built {result.manifest.name} → {result.component} ({result.size / 1e6:.1f} MB)")


@app.command("add")
def add(
    source: str = typer.Argument(..., help="Module source: a local folder or a packed .tgz."),
    build_first: bool = typer.Option(False, "--build", help="Build the component before installing."),
    allow: list[str] = AllowOption,
    reason: str | None = ReasonOption,
    grant: bool = typer.Option(
        False, "--grant", help="Grant the new permissions an update asks for (after reviewing them)."
    ),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate (manifest, compatibility, security), compile and install a module; grants what
    its manifest requests on first install, and refuses an update asking for more without --grant."""
    overrides = overrides_from(allow, reason)
    with reported_errors(as_json):
        proj = Project.open(project_root(project))
        path = Path(source)
        if build_first:
            build_module(path)
        runtime = ModuleRuntime(proj.artifacts_dir, MemoryKv(), limits=proj.host_limits())
        database = Database(proj.database_url())
        try:
            database.migrate()
            result = install_from_path(
                proj,
                path,
                runtime,
                spec=source,
                overrides=overrides,
                audit=AuditLog(database),
                grant_new_permissions=grant,
            )
        finally:
            runtime.close()
            database.close()
    if as_json:
        emit_json(
            {"name": result.manifest.name, "version": result.manifest.version, "replaced": result.replaced}
        )
    else:
        verb = f"updated from {result.replaced}" if result.replaced else "installed"
        console.print(f"{verb}: [bold]{result.manifest.name}[/] {result.manifest.version}")
        for item, why in permission_items(result.manifest.permissions).items():
            console.print(f"  granted {item}  [dim]({why})[/]", highlight=False)


def _list(project: Project) -> ModuleList:
    items: list[ModuleListItem] = []
    warnings: list[str] = []
    with project_module_states(project) as states:
        rows = states.load()
    for name, entry in sorted(project.load_config().modules.items()):
        desired = states.desired(name, entry, rows)
        status: Literal["enabled", "disabled", "failed", "quarantined"] = (
            "quarantined" if desired.quarantined else "enabled" if desired.enabled else "disabled"
        )
        try:
            problem = compatibility_problem(load_manifest(project.module_dir(name)))
        except TrafiError as error:
            problem, status = str(error), "failed"
        if problem:
            warnings.append(problem)
        if desired.quarantined:
            warnings.append(
                f"{name} is quarantined: {desired.quarantined} (`trafi module enable {name}` lifts it)"
            )
        items.append(
            ModuleListItem(
                name=name,
                version=entry.version,
                status=status,
                source=entry.source.spec,
                sourceKind=entry.source.kind,
                compatible=problem is None,
                compatibility="ok" if problem is None else problem,
            )
        )
    return ModuleList(modules=items, warnings=warnings)


@app.command("list")
def list_modules(project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Installed modules: version, status, source, compatibility."""
    with reported_errors(as_json):
        listing = _list(Project.open(project_root(project)))
    if as_json:
        emit_json(listing)
        return
    table = Table("name", "version", "status", "source", "compatibility")
    for item in listing.modules:
        color = {"enabled": "green", "disabled": "yellow", "failed": "red", "quarantined": "red"}[item.status]
        table.add_row(item.name, item.version, f"[{color}]{item.status}[/]", item.source, item.compatibility)
    console.print(table)
    for warning in listing.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def _toggle(name: str, enabled: bool, project: Path | None, as_json: bool) -> None:
    with reported_errors(as_json):
        proj = Project.open(project_root(project))
        current = proj.module_entry(name)
        with project_module_states(proj) as states:
            was_quarantined = states.desired(name, current, states.load()).quarantined
            runtime = ModuleRuntime(proj.artifacts_dir, MemoryKv(), limits=proj.host_limits())
            try:
                entry = set_enabled(proj, name, enabled, runtime, states)
            finally:
                runtime.close()
            if enabled and was_quarantined:
                AuditLog(states.database).record(name, "quarantine-lifted", reason=f"was: {was_quarantined}")
    if as_json:
        emit_json({"name": name, "enabled": entry.enabled})
    else:
        console.print(
            f"{name}: {'enabled' if enabled else 'disabled'} (a running host applies it within a second)"
        )


@app.command("enable")
def enable(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Enable an installed module."""
    _toggle(name, True, project, as_json)


@app.command("disable")
def disable(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Disable an installed module (its files and data stay)."""
    _toggle(name, False, project, as_json)


@app.command("remove")
def remove(
    name: str, project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Remove a module's files and its entry in trafi.config.json."""
    with reported_errors(as_json):
        entry = remove_module(Project.open(project_root(project)), name)
    if as_json:
        emit_json({"name": name, "version": entry.version, "removed": True})
    else:
        console.print(f"removed {name} {entry.version}")


# What a security reviewer runs: defined in review_commands, listed under `trafi module`.
app.command("validate")(review_commands.validate)
app.command("inspect")(review_commands.inspect)
