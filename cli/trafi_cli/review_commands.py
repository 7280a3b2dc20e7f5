"""`trafi module validate` and `trafi module inspect`: what a security reviewer runs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .context import ProjectOption, console, emit_json, open_project, reported_errors
from .overrides import AllowOption, ReasonOption, overrides_from


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
    from trafi_host.errors import ExitCode
    from trafi_host.runtime.artifacts import ArtifactCache, default_artifact_dir
    from trafi_host.runtime.engine import EngineSettings
    from trafi_host.settings import HostSettings
    from trafi_host.validation.dependency_scan import AdvisorySources
    from trafi_host.validation.sarif import to_sarif
    from trafi_host.validation.validate import validate_module

    from .report_view import render_report

    overrides = overrides_from(allow, reason)
    with reported_errors(as_json):
        settings = HostSettings.from_environment()
        sources = AdvisorySources(
            directory=advisories or settings.advisories_dir,
            osv_url=osv_url or settings.osv_url,
            strict=strict or settings.strict_dependencies,
        )
        artifacts = ArtifactCache.for_settings(default_artifact_dir(settings.artifact_dir), EngineSettings())
        report = validate_module(Path(directory).resolve(), artifacts, overrides, sources)
    if sarif is not None:
        sarif.write_text(json.dumps(to_sarif(report), indent=2) + "\n")
    if as_json:
        emit_json(report)
    else:
        render_report(report, console, show_info=show_all)
    if not report.passed:
        raise typer.Exit(ExitCode.VALIDATION_BLOCKED)


def inspect(
    target: str = typer.Argument(..., help="A module folder, or the name of an installed module."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What a security reviewer audits: permissions with reasons, component imports and exports."""
    from rich.table import Table

    from trafi_host.inspection import inspect_module
    from trafi_host.manifest.load import load_manifest
    from trafi_host.manifest.model import Permissions
    from trafi_host.runtime.artifacts import ArtifactCache, default_artifact_dir
    from trafi_host.runtime.engine import EngineSettings
    from trafi_host.settings import HostSettings
    from trafi_host.validation.import_audit import component_surface

    with reported_errors(as_json):
        settings = HostSettings.from_environment()
        folder = Path(target)
        cache = default_artifact_dir(settings.artifact_dir)
        granted: Permissions | None = None
        if not (folder / "trafi-module.json").is_file():
            proj = open_project(project, settings)
            entry = proj.module_entry(target)  # a clear error for an unknown name
            folder, cache = proj.module_dir(target), proj.artifacts_dir
            granted = entry.granted or Permissions()
        manifest = load_manifest(folder)
        artifacts = ArtifactCache.for_settings(cache, EngineSettings())
        component, _ = artifacts.load(folder / manifest.entry.backend, manifest.name)
        surface = component_surface(component, artifacts.engine)
    inspection = inspect_module(manifest, surface, granted)
    if as_json:
        emit_json(inspection)
        return
    console.print(f"[bold]{inspection.module}[/] {inspection.version} ({inspection.world})")
    console.print(f"limits: {inspection.limits}")
    table = Table("permission", "status", "reason", title="permissions")
    for grant in inspection.permissions:
        table.add_row(grant.permission, grant.status, grant.reason)
    if not inspection.permissions:
        table.add_row("(none)", "", "")
    console.print(table)
    imports = Table("import", "status", "detail")
    for item in inspection.imports:
        imports.add_row(item.name, item.status, item.detail or "")
    console.print(imports)
    console.print("exports: " + ", ".join(inspection.exports))
