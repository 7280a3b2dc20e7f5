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
from trafi_host.manifest import Manifest, load_manifest
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime
from trafi_host.runtime.artifacts import default_artifact_dir
from trafi_host.scaffold import scaffold_module
from trafi_host.validation import validate_module
from trafi_host.validation.dependency_scan import AdvisorySources
from trafi_host.validation.findings import Override
from trafi_host.validation.import_audit import audit_imports, component_surface
from trafi_host.validation.sarif import to_sarif

from .context import ProjectOption, console, emit_json, project_root, reported_errors
from .report_view import render_report

AllowOption = typer.Option(
    [], "--allow", help="Accept findings of this rule (repeatable); needs --reason.", show_default=False
)
ReasonOption = typer.Option(None, "--reason", help="Why the rule is accepted; recorded in the audit log.")


def _overrides(allow: list[str], reason: str | None) -> list[Override]:
    if allow and not reason:
        raise typer.BadParameter("--allow needs --reason TEXT", param_hint="--reason")
    return [Override(rule=rule, reason=reason or "") for rule in allow]


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
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate (manifest, compatibility, security), compile and install a module."""
    overrides = _overrides(allow, reason)
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
                proj, path, runtime, spec=source, overrides=overrides, audit=AuditLog(database)
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


def _list(project: Project) -> ModuleList:
    items: list[ModuleListItem] = []
    warnings: list[str] = []
    for name, entry in sorted(project.load_config().modules.items()):
        status: Literal["enabled", "disabled", "failed", "quarantined"] = (
            "quarantined" if entry.quarantined else "enabled" if entry.enabled else "disabled"
        )
        try:
            problem = compatibility_problem(load_manifest(project.module_dir(name)))
        except TrafiError as error:
            problem, status = str(error), "failed"
        if problem:
            warnings.append(problem)
        if entry.quarantined:
            warnings.append(
                f"{name} is quarantined: {entry.quarantined} (`trafi module enable {name}` lifts it)"
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
        was_quarantined = proj.module_entry(name).quarantined
        runtime = ModuleRuntime(proj.artifacts_dir, MemoryKv(), limits=proj.host_limits())
        try:
            entry = set_enabled(proj, name, enabled, runtime)
        finally:
            runtime.close()
        if enabled and was_quarantined:
            database = Database(proj.database_url())
            try:
                database.migrate()
                AuditLog(database).record(name, "quarantine-lifted", reason=f"was: {was_quarantined}")
            finally:
                database.close()
    if as_json:
        emit_json({"name": name, "enabled": entry.enabled})
    else:
        console.print(f"{name}: {'enabled' if enabled else 'disabled'} (applies at next host start)")


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


@app.command("validate")
def validate(
    directory: Path = typer.Argument(Path("."), help="The module folder (with trafi-module.json)."),
    allow: list[str] = AllowOption,
    reason: str | None = ReasonOption,
    sarif: Path | None = typer.Option(None, "--sarif", help="Also write the report as SARIF 2.1.0."),
    advisories: Path | None = typer.Option(
        None, "--advisories", help="Folder of OSV JSON advisories (default: $TRAFI_ADVISORIES_DIR)."
    ),
    osv_url: str | None = typer.Option(None, "--osv-url", help="OSV API base URL (default: $TRAFI_OSV_URL)."),
    strict: bool = typer.Option(False, "--strict", help="Dependencies that could not be scanned block."),
    show_all: bool = typer.Option(False, "--all", help="Show info findings too."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Run every security check on a module folder; exit 10 when activation would be blocked."""
    overrides = _overrides(allow, reason)
    with reported_errors(as_json):
        runtime = ModuleRuntime(default_artifact_dir(), MemoryKv())
        try:
            env = AdvisorySources.from_environment()
            sources = AdvisorySources(
                directory=advisories or env.directory,
                osv_url=osv_url or env.osv_url,
                strict=strict or env.strict,
            )
            report = validate_module(Path(directory).resolve(), runtime.artifacts, overrides, sources)
        finally:
            runtime.close()
    if sarif is not None:
        import json

        sarif.write_text(json.dumps(to_sarif(report), indent=2) + "\n")
    if as_json:
        emit_json(report)
    else:
        render_report(report, console, show_info=show_all)
    if not report.passed:
        raise typer.Exit(10)


class InspectImport(BaseModel):
    name: str
    status: Literal["ok", "info", "warning", "error"]
    detail: str | None = None


class InspectGrant(BaseModel):
    permission: str
    detail: str
    reason: str


class Inspection(BaseModel):
    schemaVersion: Literal[1] = 1
    module: str
    version: str
    world: str
    limits: dict[str, int]
    permissions: list[InspectGrant]
    imports: list[InspectImport]
    exports: list[str]


def _grants(manifest: Manifest) -> list[InspectGrant]:
    """Every permission the manifest requests, with its reason (all are granted at install)."""
    perms = manifest.permissions
    rows: list[tuple[str, str, str]] = []
    for key in ("kv", "db"):
        grant = getattr(perms, key)
        if grant is not None:
            rows.append((key, "", grant.reason))
    if perms.fs is not None:
        rows += [("fs.read", item.path, item.reason) for item in perms.fs.read]
        rows += [("fs.write", item.path, item.reason) for item in perms.fs.write]
    for net in perms.network:
        where = f"{','.join(net.schemes)}://{net.host}:{','.join(map(str, net.ports))}"
        rows.append(("network", where, net.reason))
    rows += [("env", env.name, env.reason) for env in perms.env]
    rows += [("core", scope.scope, scope.reason) for scope in perms.core]
    return [InspectGrant(permission=p, detail=d, reason=r) for p, d, r in rows]


@app.command("inspect")
def inspect(
    target: str = typer.Argument(..., help="A module folder, or the name of an installed module."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What a security reviewer audits: permissions with reasons, component imports and exports."""
    with reported_errors(as_json):
        folder = Path(target)
        cache = default_artifact_dir()
        if not (folder / "trafi-module.json").is_file():
            proj = Project.open(project_root(project))
            proj.module_entry(target)  # a clear error for an unknown name
            folder, cache = proj.module_dir(target), proj.artifacts_dir
        manifest = load_manifest(folder)
        runtime = ModuleRuntime(cache, MemoryKv())
        try:
            component, _ = runtime.artifacts.load(folder / manifest.entry.backend, manifest.name)
            surface = component_surface(component, runtime.engine)
        finally:
            runtime.close()
    by_import = {f.subject: f for f in audit_imports(surface, manifest) if f.subject in surface.imports}
    inspection = Inspection(
        module=manifest.name,
        version=manifest.version,
        world=manifest.world,
        limits={
            "memoryMb": manifest.limits.memory_mb,
            "timeoutMs": manifest.limits.timeout_ms,
            "instancesPerTenant": manifest.limits.instances_per_tenant,
        },
        permissions=_grants(manifest),
        imports=[
            InspectImport(
                name=name,
                status=by_import[name].severity if name in by_import else "ok",
                detail=by_import[name].message if name in by_import else None,
            )
            for name in surface.imports
        ],
        exports=list(surface.exports),
    )
    if as_json:
        emit_json(inspection)
        return
    console.print(f"[bold]{inspection.module}[/] {inspection.version} ({inspection.world})")
    console.print(f"limits: {inspection.limits}")
    table = Table("permission", "what", "reason", title="permissions (requested, granted at install)")
    for grant in inspection.permissions:
        table.add_row(grant.permission, grant.detail, grant.reason)
    if not inspection.permissions:
        table.add_row("(none)", "", "")
    console.print(table)
    imports = Table("import", "status", "detail")
    for item in inspection.imports:
        imports.add_row(item.name, item.status, item.detail or "")
    console.print(imports)
    console.print("exports: " + ", ".join(inspection.exports))
