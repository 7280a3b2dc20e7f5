"""`trafi module ...`: new, build, add, list, enable, disable, remove (update: update_commands)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from . import data_commands, review_commands, update_commands
from .context import ProjectOption, console, emit_json, err_console, exclusive, open_project, reported_errors
from .overrides import AllowOption, ReasonOption, overrides_from
from .progress import progress_reporter

app = typer.Typer(help="Create, build, install and manage modules.", no_args_is_help=True)


@app.command("new")
def new(
    name: str = typer.Argument(..., help="Module name, lowercase kebab-case."),
    directory: Path | None = typer.Option(None, "--dir", help="Where to create it (default: ./<name>)."),
) -> None:
    """Scaffold a module from the template."""
    from trafi_host.scaffold import scaffold_module

    with reported_errors():
        target = scaffold_module(name, directory or Path(name))
    console.print(f"created module [bold]{name}[/] in {target}")
    console.print(f"test it (no build): python -m pytest {target / 'tests'}")
    console.print(f"then build it: trafi module build {target}")


@app.command("build")
def build(
    directory: Path = typer.Argument(Path("."), help="The module folder (with trafi-module.json)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Build the module's Python source into its WebAssembly component (componentize-py)."""
    from trafi_host.build import build_module
    from trafi_host.settings import HostSettings

    with reported_errors(as_json), progress_reporter(quiet=as_json) as progress:
        result = build_module(directory, wit_root=HostSettings.from_environment().wit_dir, progress=progress)
    if as_json:
        emit_json({"name": result.manifest.name, "component": str(result.component), "size": result.size})
    else:
        console.print(f"built {result.manifest.name} → {result.component} ({result.size / 1e6:.1f} MB)")


@app.command("add")
def add(
    source: str = typer.Argument(
        ...,
        # `\\[` keeps rich from reading `[#ref]` as a colour tag (it printed nothing).
        help="A folder, a .tgz, github:user/repo\\[#ref], git+https|ssh|file://…\\[#ref], "
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
    from trafi_host.sources.fetch import folder_read_as_package

    from .installing import InstallOutput, installed_items, print_installed, run_installer

    overrides = overrides_from(allow, reason)
    folder = folder_read_as_package(source)
    if folder is not None:
        err_console.print(
            f"[yellow]note:[/] {source!r} is an npm package name (as in npm); the folder "
            f"{folder} is not used: to install it, write ./{source.strip()}",
            highlight=False,
            soft_wrap=True,
        )
    with reported_errors(as_json):
        results = run_installer(
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
                installed=installed_items(results),
            )
        )
    else:
        print_installed(results)
        _say_if_quarantined(project, root.manifest.name)


def _say_if_quarantined(project: Path | None, name: str) -> None:
    """A module re-added while quarantined stays quarantined: say so, and how to lift it."""
    from trafi_host import lifecycle

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
    from .installing import InstallOutput, installed_items, print_installed, run_installer

    with reported_errors(as_json):
        results = run_installer(
            project, as_json, lambda installer: installer.install_locked(), build=build_first
        )
    if as_json:
        emit_json(InstallOutput(name=None, version=None, replaced=None, installed=installed_items(results)))
    elif results:
        print_installed(results)
    else:
        console.print("up to date: every module in trafi.lock.json is installed")


@app.command("list")
def list_command(project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Installed modules: version, status, source and compatibility.

    Status is enabled, disabled, failed (with the reason) or quarantined; `--json` follows
    docs/module-list.schema.json (versioned).
    """
    from rich.table import Table

    from trafi_host.module_list import list_modules

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
    from trafi_host import lifecycle
    from trafi_host.runtime.artifacts import ArtifactCache
    from trafi_host.runtime.engine import EngineSettings

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
    from trafi_host import lifecycle

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
    from trafi_host import lifecycle
    from trafi_host.errors import UpdateRefused, UsageError
    from trafi_host.lifecycle.removal_order import removal_order
    from trafi_host.module_data import DataChoice, has_data, project_runner

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
    from trafi_host.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"{question} needs confirmation: run again with --force")
    return typer.confirm(question, default=False)


@app.command("config")
def config_command(
    name: str = typer.Argument(..., help="The installed module."),
    key: str | None = typer.Argument(None, help="A setting; alone, prints its value."),
    value: str | None = typer.Argument(
        None, help="The new value: JSON when it parses (20, true, [1]), else a string."
    ),
    unset: bool = typer.Option(False, "--unset", help="Remove KEY from the settings."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show or change a module's settings (`trafi.config.json`), checked against its `configSchema`.

    Without KEY: every setting. With KEY: its value. With KEY VALUE (or KEY --unset): the
    change, checked against the manifest's `configSchema`, written atomically under the
    project lock and audited; running hosts restart the module with it.
    """
    import json

    from trafi_host.errors import UsageError
    from trafi_host.module_settings import change_setting, parse_value, read_settings

    with reported_errors(as_json):
        proj = open_project(project)
        if unset and (key is None or value is not None):
            raise UsageError("--unset takes a KEY and no VALUE")
        if key is not None and (value is not None or unset):
            with exclusive(proj):
                settings = change_setting(proj, name, key, parse_value(value or ""), unset=unset)
        else:
            settings = read_settings(proj, name)
            if key is not None and key not in settings.values:
                raise UsageError(
                    f"module {name} has no setting {key!r} (set: {', '.join(settings.values) or 'none'})"
                )
    if as_json:
        emit_json(
            settings.values[key]
            if key is not None and value is None and not unset
            else {"module": name, "config": settings.values, "missing": settings.missing}
        )
        return
    if key is not None and value is None and not unset:
        console.print(json.dumps(settings.values[key]), highlight=False, soft_wrap=True)
        return
    for setting, current in sorted(settings.values.items()):
        console.print(f"{setting} = {json.dumps(current)}", highlight=False, soft_wrap=True)
    if not settings.values:
        console.print(f"{name}: no settings", highlight=False)
    if settings.missing:
        err_console.print(
            f"[yellow]warning:[/] the schema requires {', '.join(settings.missing)}, not set yet",
            highlight=False,
        )


# What a security reviewer runs: defined in review_commands, listed under `trafi module`.
app.command("validate")(review_commands.validate)
app.command("update")(update_commands.update)
app.command("rollback")(update_commands.rollback)
app.command("versions")(update_commands.versions)
app.command("prune")(update_commands.prune)
app.command("migrations")(data_commands.migrations)
app.command("migrate")(data_commands.migrate)
app.command("inspect")(review_commands.inspect)
