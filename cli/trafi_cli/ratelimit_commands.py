"""`trafi ratelimit ...`: the operator's rate limits per (module, tenant), over the manifests' defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from pydantic import BaseModel

from .context import ProjectOption, console, emit_json, open_project, reported_errors

if TYPE_CHECKING:
    from trafi_host.db import Database
    from trafi_host.project import Project

# The host is imported inside each command (`trafi --help` and `trafi version` stay fast).
EVERY_TENANT = "*"  # trafi_host.rate_limits.EVERY_TENANT: a test keeps the two equal

app = typer.Typer(help="Rate limits of module routes per tenant (docs/rate-limits.md).", no_args_is_help=True)

TenantOption = typer.Option(
    EVERY_TENANT, "--tenant", help="The tenant it applies to (default `*`: every tenant without its own)."
)


class RateLimitRow(BaseModel):
    module: str
    tenant: str  # a tenant id, or `*`
    rate: str  # `unlimited` lifts the limit
    source: Literal["override", "manifest", "host"]
    changedBy: str | None = None


class RateLimitListOutput(BaseModel):
    """`trafi ratelimit list --json`: what applies, most specific first (override, manifest, host)."""

    schemaVersion: Literal[1] = 1
    hostDefault: str | None
    limits: list[RateLimitRow]


def _announce(project: Project, database: Database) -> None:
    """Running hosts reread the overrides now (Redis) or at their next poll."""
    from trafi_host.lifecycle.module_state import RATE_LIMITS_CHANGED, ModuleStates

    ModuleStates(database, project.redis_url()).announce(RATE_LIMITS_CHANGED)


@app.command("set")
def ratelimit_set(
    module: str = typer.Argument(..., help="The module."),
    rate: str = typer.Argument(..., help="e.g. `120/minute`, `10/second`, or `unlimited`."),
    tenant: str = TenantOption,
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set the rate of a module's routes for one tenant or all; running hosts apply it within a second."""
    from trafi_host.db import Database
    from trafi_host.rate_limits import set_override

    with reported_errors(as_json):
        proj = open_project(project)
        with Database(proj.database_url()) as database:
            database.migrate()
            override = set_override(database, module, rate, tenant, actor=proj.settings.actor)
            _announce(proj, database)
    if as_json:
        emit_json({"module": override.module, "tenant": override.tenant, "rate": override.rate})
    else:
        console.print(f"rate limit of {module} for tenant {tenant}: {override.rate}", highlight=False)


@app.command("clear")
def ratelimit_clear(
    module: str = typer.Argument(..., help="The module."),
    tenant: str = TenantOption,
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Remove an override: the next one down applies again (the `*` row, the manifest, the host's)."""
    from trafi_host.db import Database
    from trafi_host.rate_limits import clear_override

    with reported_errors(as_json):
        proj = open_project(project)
        with Database(proj.database_url()) as database:
            database.migrate()
            was = clear_override(database, module, tenant, actor=proj.settings.actor)
            _announce(proj, database)
    if as_json:
        emit_json({"module": module, "tenant": tenant, "cleared": was})
    else:
        console.print(f"cleared the rate limit of {module} for tenant {tenant} (was {was})", highlight=False)


def _manifest_rate(project: Project, module: str) -> str | None:
    from trafi_host.errors import TrafiError
    from trafi_host.manifest.load import load_manifest

    try:
        return load_manifest(project.module_dir(module)).rate_limit
    except TrafiError:
        return None  # `trafi module list` says what is wrong with it


@app.command("list")
def ratelimit_list(
    module: str | None = typer.Option(None, help="Only this module."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the overrides, each installed module's manifest rate and the host's default."""
    from trafi_host.db import Database
    from trafi_host.rate_limits import list_overrides

    with reported_errors(as_json):
        proj = open_project(project)
        config = proj.load_config()
        with Database(proj.database_url()) as database:
            database.migrate()
            overrides = list_overrides(database, module)
        rows = [
            RateLimitRow(
                module=o.module, tenant=o.tenant, rate=o.rate, source="override", changedBy=o.changed_by
            )
            for o in overrides
        ]
        for name in sorted(config.modules):
            if module is not None and name != module:
                continue
            rate = _manifest_rate(proj, name)
            if rate is not None:
                rows.append(RateLimitRow(module=name, tenant=EVERY_TENANT, rate=rate, source="manifest"))
            elif config.host.rate_limit is not None:
                rows.append(
                    RateLimitRow(module=name, tenant=EVERY_TENANT, rate=config.host.rate_limit, source="host")
                )
    output = RateLimitListOutput(hostDefault=config.host.rate_limit, limits=rows)
    if as_json:
        emit_json(output)
        return
    for row in rows:
        by = f"\t(by {row.changedBy})" if row.changedBy else ""
        console.print(f"{row.module}\t{row.tenant}\t{row.rate}\t{row.source}{by}", highlight=False)
    if not rows:
        console.print("no rate limits", highlight=False)
