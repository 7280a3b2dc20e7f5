"""The `trafi` command."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from trafi_host.version import HOST_VERSION

from . import cache_commands, event_commands, identity_commands, module_commands, ratelimit_commands
from .context import ProjectOption, console, emit_json, open_project, reported_errors
from .cpu_affinity import CpuAffinity

if TYPE_CHECKING:
    from trafi_host.db import Database

# Each command imports the host inside its body: `trafi version` and `--help` stay fast.
app = typer.Typer(help="Trafi module host.", no_args_is_help=True, add_completion=False)
app.add_typer(module_commands.app, name="module")
tenant_app = typer.Typer(help="Tenants of the store.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys (each belongs to one tenant).", no_args_is_help=True)
docs_app = typer.Typer(help="Generated reference files.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: overrides, installs, removals.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(tenant_app, name="tenant")
app.add_typer(apikey_app, name="apikey")
app.add_typer(identity_commands.user_app, name="user")
app.add_typer(identity_commands.role_app, name="role")
app.add_typer(docs_app, name="docs")
app.add_typer(event_commands.app, name="events")
app.add_typer(cache_commands.app, name="cache")
app.add_typer(ratelimit_commands.app, name="ratelimit")


def _database(project: Path | None) -> Database:
    """The project's database, migrated; the caller closes it (`with`)."""
    from trafi_host.db import Database

    proj = open_project(project)
    database = Database(proj.database_url())
    database.migrate()
    return database


@app.command()
def version() -> None:
    """Print the host version."""
    console.print(HOST_VERSION)


@app.command()
def init(directory: Path = typer.Argument(Path("."), help="Project folder.")) -> None:
    """Create trafi.config.json and .trafi/ (database, modules, artifact cache)."""
    from trafi_host.db import Database
    from trafi_host.project import Project

    with reported_errors():
        project = Project.init(directory)
        with Database(project.database_url()) as database:
            database.migrate()
    console.print(f"initialised Trafi project in {project.root}")


@app.command()
def serve(
    project: Path | None = ProjectOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    log_level: str = typer.Option("info", help="Log level."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Worker processes serving the port, each a whole host (default: one per core). "
        "1 serves from this process. Several writers want PostgreSQL: SQLite serialises writes.",
        show_default=False,
    ),
    cpu_affinity: CpuAffinity = typer.Option(
        CpuAffinity.AUTO,
        "--cpu-affinity",
        help="With several workers: 'auto' runs each worker process on a CPU of its own (when "
        "there are as many CPUs as workers), 'off' leaves the workers' threads to the kernel.",
        case_sensitive=False,
    ),
) -> None:
    """Run the host: every enabled module served under /api/modules/<name>/."""
    from sqlalchemy.exc import SQLAlchemyError

    from trafi_host.api import create_app
    from trafi_host.db import Database
    from trafi_host.errors import TrafiError

    from .cpu_affinity import allowed_cpus, worker_cpus
    from .serve_worker import worker_command
    from .serving import bind_listener, bind_worker_listeners, run_server
    from .worker_pool import WorkerPool, default_worker_count

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    count = workers or default_worker_count()
    with reported_errors():
        proj = open_project(project)
        # Read here so that a broken config is the project error, not a failed server start.
        proj.load_config()
        if count == 1:
            listener = bind_listener(host, port)
        else:
            listeners = bind_worker_listeners(host, port, count)
            # Once, before the workers: N processes must not each upgrade the schema at once.
            try:
                with Database(proj.database_url()) as database:
                    database.migrate()
            except SQLAlchemyError as error:
                raise TrafiError(f"cannot prepare the database for the workers: {error}") from None
    if count == 1:
        run_server(create_app(proj), listener, log_level)
        return

    def command(fd: int, index: int, run_dir: Path) -> list[str]:
        return worker_command(proj.root, fd, index, run_dir, log_level)

    cpus = worker_cpus(count, allowed_cpus()) if cpu_affinity is CpuAffinity.AUTO else None
    raise typer.Exit(WorkerPool(listeners, command, cpus).run())


@app.command()
def worker(
    project: Path | None = ProjectOption,
    threads: int = typer.Option(2, min=1, max=64, help="Jobs run at once in this process."),
    log_level: str = typer.Option("info", help="Log level."),
) -> None:
    """Run async event handlers (queued jobs) in this process, beside `trafi serve` hosts.

    Start as many as the load needs, on any machine that has the project and reaches its
    database (and Redis, when configured); set `host.jobWorkers` to 0 so the hosts leave
    the jobs to them. Stops on SIGINT/SIGTERM after the running jobs finish.
    """
    import asyncio
    import threading

    from trafi_host.change_watch import watch_changes
    from trafi_host.delivery.background import start_workers, sweep_loop
    from trafi_host.module_host import ModuleHost

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with reported_errors():
        proj = open_project(project)
        host = ModuleHost(proj)
    with host:
        host.reconcile()
        event_worker, consumer = start_workers(host.dispatcher, threads, embedded=False)

        async def keep_current() -> None:
            await asyncio.gather(watch_changes(host), sweep_loop(event_worker))

        threading.Thread(
            target=lambda: asyncio.run(keep_current()), name="trafi-worker-loops", daemon=True
        ).start()
        consumer.run()


@app.command()
def dev(
    directories: list[Path] = typer.Argument(
        None,
        help="Module folders to develop (or folders of modules); default: ./modules.",
        show_default=False,
    ),
    project: Path = typer.Option(Path(".trafi-dev"), "--project", "-C", help="The dev project folder."),
    modules: Path | None = typer.Option(
        None, help="A folder of modules to develop (the same as giving it as an argument)."
    ),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
) -> None:
    """Serve modules from their source, reloading each one when it is saved (no build).

    Prints a demo API key; `/dev/events` streams reloads and errors (server-sent events).
    """
    from .dev_command import run_dev

    run_dev([*(directories or []), *([modules] if modules else [])], project, host, port)


@tenant_app.command("create")
def tenant_create(
    tenant_id: str,
    name: str | None = typer.Option(None, help="Display name."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a tenant."""
    from trafi_host.auth import create_tenant

    with reported_errors(as_json), _database(project) as database:
        tenant = create_tenant(database, tenant_id, name, actor=open_project(project).settings.actor)
    if as_json:
        emit_json({"id": tenant.id, "name": tenant.name})
    else:
        console.print(f"created tenant {tenant.id}")


@tenant_app.command("list")
def tenant_list(project: Path | None = ProjectOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """List tenants."""
    from trafi_host.auth import list_tenants

    with reported_errors(as_json), _database(project) as database:
        tenants = list_tenants(database)
    if as_json:
        emit_json([{"id": t.id, "name": t.name} for t in tenants])
    else:
        for tenant in tenants:
            console.print(f"{tenant.id}\t{tenant.name}")


@apikey_app.command("create")
def apikey_create(
    tenant: str = typer.Option(..., "--tenant", help="The tenant the key acts for."),
    name: str = typer.Option("default", help="A label for the key."),
    scope: list[str] = typer.Option(
        [],
        "--scope",
        help="A permission the key carries, `<namespace>:*` or `*` (repeatable; none: `*`, the "
        "tenant's full access). See `trafi role permissions`.",
    ),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an API key; the key is printed once and stored only hashed."""
    from trafi_host.auth import create_api_key
    from trafi_host.permission_catalogue import permission_catalogue

    with reported_errors(as_json), _database(project) as database:
        proj = open_project(project)
        key, record = create_api_key(
            database,
            tenant,
            name,
            tuple(scope) or ("*",),
            actor=proj.settings.actor,
            known=frozenset(permission_catalogue(proj)),
        )
    if as_json:
        emit_json(
            {
                "key": key,
                "keyId": record.key_id,
                "tenant": record.tenant_id,
                "name": record.name,
                "scopes": list(record.scopes),
            }
        )
    else:
        console.print(key, highlight=False)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: str = typer.Argument(..., help="The key id: the 16 hex characters after `trafi_`."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Revoke an API key; running hosts stop accepting it at once (Redis) or within a second."""
    from trafi_host.auth import revoke_api_key
    from trafi_host.lifecycle.module_state import REVOCATION, ModuleStates

    with reported_errors(as_json), _database(project) as database:
        record = revoke_api_key(database, key_id, actor=open_project(project).settings.actor)
        ModuleStates(database, open_project(project).redis_url()).announce(REVOCATION)
    if as_json:
        emit_json({"keyId": record.key_id, "tenant": record.tenant_id, "revoked": True})
    else:
        console.print(f"revoked key {record.key_id} of tenant {record.tenant_id}")


@audit_app.command("list")
def audit_list(
    module: str | None = typer.Option(None, help="Only this module."),
    limit: int = typer.Option(50, help="Newest first, at most this many."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the audit log."""
    from trafi_host.audit_log import AuditLog

    with reported_errors(as_json), _database(project) as database:
        entries = AuditLog(database).entries(module, limit)
    if as_json:
        emit_json([entry.__dict__ for entry in entries])
        return
    for entry in entries:
        rule = f" {entry.rule}" if entry.rule else ""
        reason = f" reason={entry.reason!r}" if entry.reason else ""
        console.print(
            f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor} {entry.module} {entry.action}{rule}{reason}"
            f" {entry.detail or ''}",
            highlight=False,
        )


@docs_app.command("schema")
def docs_schema(output: Path | None = typer.Option(None, "--output", "-o")) -> None:
    """Print (or write) the manifest JSON Schema generated from the models."""
    from trafi_host.manifest.schema import manifest_json_schema_text

    text = manifest_json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


@docs_app.command("list-schema")
def docs_list_schema(output: Path | None = typer.Option(None, "--output", "-o")) -> None:
    """Print (or write) the JSON Schema of `trafi module list --json`."""
    from trafi_host.module_list import module_list_json_schema_text

    text = module_list_json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


@docs_app.command("ui-schema")
def docs_ui_schema(output: Path | None = typer.Option(None, "--output", "-o")) -> None:
    """Print (or write) the JSON Schema of the UI tree (`trafi-ui/1`) module views render."""
    from trafi_host.ui_tree.check import tree_schema_text

    text = tree_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


def _update_generated(document: Path, transform: Callable[[str], str], check: bool) -> None:
    """Rewrite the generated part of `document` (atomically); with `check`, exit 1 if it would change."""
    from trafi_host.errors import ExitCode, TrafiError
    from trafi_host.project.atomic import write_text_atomic

    with reported_errors():
        try:
            current = document.read_text()
            updated = transform(current)
        except (OSError, ValueError) as error:
            raise TrafiError(f"{document}: {error}") from None
    if check:
        raise typer.Exit(ExitCode.OK if updated == current else ExitCode.OTHER)
    write_text_atomic(document, updated)


CheckOption = typer.Option(False, "--check", help="Exit 1 if the document is out of date.")


@docs_app.command("events")
def docs_events(
    document: Path = typer.Option(Path("docs/events.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the event catalogue into docs/events.md (from the payload models)."""
    from trafi_host.events.reference import with_events

    _update_generated(document, with_events, check)


@docs_app.command("rules")
def docs_rules(
    document: Path = typer.Option(Path("docs/security.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the validation rule table into docs/security.md (from the rules in the code)."""
    from trafi_host.validation.rules_doc import with_rules

    _update_generated(document, with_rules, check)


@docs_app.command("capabilities")
def docs_capabilities(
    document: Path = typer.Option(Path("docs/manifest.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the capability table into docs/manifest.md (from the capability registry)."""
    from trafi_host.capabilities.reference import with_capabilities

    _update_generated(document, with_capabilities, check)


@docs_app.command("exit-codes")
def docs_exit_codes(
    document: Path = typer.Option(Path("docs/cli.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the exit-code table into docs/cli.md (from `ExitCode`)."""
    from trafi_host.reference_tables import with_exit_codes

    _update_generated(document, with_exit_codes, check)


@docs_app.command("settings")
def docs_settings(
    document: Path = typer.Option(Path("docs/settings.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the TRAFI_* variable table and the `host` config key table into docs/settings.md."""
    from trafi_host.project.host_config_reference import with_host_config
    from trafi_host.reference_tables import with_settings

    _update_generated(document, lambda text: with_host_config(with_settings(text)), check)


@docs_app.command("sdk")
def docs_sdk(
    document: Path = typer.Option(Path("docs/sdk.md"), "--doc", help="The document to update."),
    check: bool = CheckOption,
) -> None:
    """Write the SDK reference into docs/sdk.md (from trafi_sdk's signatures and docstrings)."""
    from trafi_host.sdk_reference import with_sdk_reference

    _update_generated(document, with_sdk_reference, check)


def main() -> None:
    os.environ.setdefault("RUST_BACKTRACE", "0")
    app()
