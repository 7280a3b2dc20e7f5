"""`trafi module update|rollback|versions|prune`: moving an installed module between versions.

The host is imported inside each command: `trafi --help` and `trafi version` stay fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from pydantic import BaseModel

from .context import ProjectOption, console, emit_json, exclusive, open_project, reported_errors

if TYPE_CHECKING:
    from trafi_host.project import Project
    from trafi_host.updates.plan import UpdatePlan
    from trafi_host.updates.update import UpdateOutcome


class ChangeItem(BaseModel):
    kind: str
    breaking: bool
    detail: str


class UpdatedItem(BaseModel):
    name: str
    fromVersion: str
    toVersion: str
    upToDate: bool
    changes: list[ChangeItem]
    healthWindow: int | None  # the `trafi_module_updates` row hosts watch; None: not running
    quarantineLifted: bool = False
    error: str | None = None  # `--all`: this module's update failed, the others went on


class UpdateOutput(BaseModel):
    """`trafi module update --json`."""

    schemaVersion: Literal[1] = 1
    updates: list[UpdatedItem]


class RollbackOutput(BaseModel):
    """`trafi module rollback --json`."""

    schemaVersion: Literal[1] = 1
    name: str
    fromVersion: str
    toVersion: str
    migrationsReverted: list[str]
    quarantineLifted: str | None


def _describe(plan: UpdatePlan) -> None:
    console.print(
        f"update [bold]{plan.name}[/] {plan.from_version} -> {plan.to_version} [dim]from {plan.source}[/]",
        highlight=False,
    )
    for change in plan.changes:
        mark = "[red]breaking[/]" if change.breaking else "[dim]change[/]  "
        console.print(f"  {mark} {change.detail}", highlight=False)
    if plan.quarantined:
        console.print(f"  [yellow]quarantined[/] {plan.quarantined}", highlight=False)


class _Confirmation:
    """Asks before each update commits: `--yes` answers for scripts; without a terminal and
    without `--yes` nothing is committed."""

    def __init__(self, yes: bool, lift: bool | None, as_json: bool) -> None:
        self.yes = yes
        self.lift = lift
        self.as_json = as_json
        self.lifted: set[str] = set()

    def __call__(self, plan: UpdatePlan) -> bool:
        from trafi_host.errors import UpdateRefused

        if not self.as_json:
            _describe(plan)
        if plan.quarantined:
            lift = self.lift
            if lift is None:
                lift = self.yes or (
                    sys.stdin.isatty() and typer.confirm("lift the quarantine?", default=True)
                )
            if lift:
                self.lifted.add(plan.name)
        if self.yes:
            return True
        if not sys.stdin.isatty():
            breaking = f" ({len(plan.breaking)} breaking change(s) listed)" if plan.breaking else ""
            raise UpdateRefused(
                f"update of {plan.name} to {plan.to_version} needs confirmation{breaking}: "
                "review it, then run again with --yes"
            )
        return typer.confirm(f"update {plan.name} to {plan.to_version}?", default=not plan.breaking)


def update(
    name: str | None = typer.Argument(None, help="The module to update (or --all)."),
    to: str | None = typer.Option(
        None,
        "--to",
        help="A version or range (npm), a tag, branch or commit (git), or a folder/.tgz (path). "
        "Needed to go to an older version.",
    ),
    every: bool = typer.Option(False, "--all", help="Update every installed module from its source."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (scripts)."),
    grant: bool = typer.Option(False, "--grant", help="Grant the new permissions the update asks for."),
    lift: bool | None = typer.Option(
        None,
        "--lift-quarantine/--keep-quarantine",
        help="A quarantined module: lift its quarantine with the update (default: ask; --yes lifts).",
    ),
    build_first: bool = typer.Option(False, "--build", help="Build the component from source first."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Update an installed module from the source it was installed from.

    Fetches, validates (security included), compiles and trial-starts the new version, checks
    that the modules depending on it accept it, keeps and migrates its config, lists what
    changes (breaking changes marked) and asks before committing. A downgrade needs --to.
    Running hosts switch to the new version without dropping a request, and roll it back
    automatically if it fails its health window (docs/updating.md).
    """
    from trafi_host.errors import TrafiError, UsageError

    with reported_errors(as_json):
        if (name is None) == (not every):
            raise UsageError("name one module, or say --all")
        if every and to is not None:
            raise UsageError("--to applies to one module: not with --all")
        proj = open_project(project)
        names = sorted(proj.load_config().modules) if every else [name or ""]
        confirm = _Confirmation(yes, lift, as_json)
        items: list[UpdatedItem] = []
        failed = 0
        for one in names:
            try:
                outcome = _update_one(proj, one, to, confirm, grant, build_first, as_json or not yes)
            except TrafiError as error:
                if not every:
                    raise
                failed += 1
                items.append(
                    UpdatedItem(
                        name=one,
                        fromVersion="",
                        toVersion="",
                        upToDate=False,
                        changes=[],
                        healthWindow=None,
                        error=str(error),
                    )
                )
                console.print(f"[red]{one}: {error}[/]", highlight=False)
                continue
            items.append(_item(outcome, one in confirm.lifted))
    if as_json:
        emit_json(UpdateOutput(updates=items))
    else:
        for item in items:
            if item.error is None:
                _print_item(item)
    if failed:
        from trafi_host.errors import ExitCode

        raise typer.Exit(ExitCode.OTHER)  # each module's own error is in its item


def _update_one(
    proj: Project, name: str, to: str | None, confirm: _Confirmation, grant: bool, build: bool, quiet: bool
) -> UpdateOutcome:
    from trafi_host import lifecycle
    from trafi_host.updates.update import Updater

    from .installing import installer_session

    # A prompt cannot share the terminal with a live status line: `quiet` unless --yes.
    with installer_session(proj, quiet=quiet, build=build, grant=grant) as (installer, database):
        outcome = Updater(proj, installer, database, confirm).update(name, to)
        if name in confirm.lifted and not outcome.up_to_date:
            lifecycle.lift_quarantine(proj, name)
        return outcome


def _item(outcome: UpdateOutcome, lifted: bool) -> UpdatedItem:
    plan = outcome.plan
    return UpdatedItem(
        name=plan.name,
        fromVersion=plan.from_version,
        toVersion=plan.to_version,
        upToDate=outcome.up_to_date,
        changes=[ChangeItem(kind=c.kind, breaking=c.breaking, detail=c.detail) for c in plan.changes],
        healthWindow=outcome.window_id,
        quarantineLifted=lifted and not outcome.up_to_date,
    )


def _print_item(item: UpdatedItem) -> None:
    if item.upToDate:
        console.print(f"{item.name} {item.fromVersion}: up to date", highlight=False)
        return
    console.print(f"updated: [bold]{item.name}[/] {item.fromVersion} -> {item.toVersion}", highlight=False)
    if item.quarantineLifted:
        console.print("  quarantine lifted", highlight=False)
    if item.healthWindow is not None:
        console.print(
            "  running hosts switch to it now and watch its health window; a failing window rolls it "
            "back (see `trafi module list`)",
            highlight=False,
        )


def rollback(
    name: str = typer.Argument(..., help="The module to roll back."),
    to: str | None = typer.Option(None, "--to", help="A kept version (default: the one before)."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Put a previous version of a module back: its files, config and database schema.

    The versions an update replaced are kept on disk (`updates.keepVersions`, `trafi module
    versions`); the migrations the newer version applied are reverted with their down SQL. A
    quarantine is lifted: the version rolled back to is one that ran.
    """
    from trafi_host.updates.rollback import roll_back

    with reported_errors(as_json):
        proj = open_project(project)
        with exclusive(proj):
            result = roll_back(proj, name, to=to)
    if as_json:
        emit_json(
            RollbackOutput(
                name=name,
                fromVersion=result.from_version,
                toVersion=result.to_version,
                migrationsReverted=result.reverted,
                quarantineLifted=result.lifted,
            )
        )
        return
    console.print(
        f"rolled back: [bold]{name}[/] {result.from_version} -> {result.to_version}", highlight=False
    )
    for step in result.reverted:
        console.print(f"  migration {step}", highlight=False)
    if result.lifted:
        console.print(f"  quarantine lifted (was: {result.lifted})", highlight=False)


class KeptItem(BaseModel):
    version: str
    digest: str
    keptAt: str
    source: str


def versions(
    name: str = typer.Argument(..., help="The module."),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The versions of a module kept on disk for rollback, newest first."""
    from trafi_host.project.versions import kept_versions

    with reported_errors(as_json):
        proj = open_project(project)
        proj.module_entry(name)
        kept = [
            KeptItem(
                version=k.version, digest=k.digest, keptAt=k.kept_at.isoformat(), source=k.entry.source.spec
            )
            for k in kept_versions(proj, name)
        ]
    if as_json:
        emit_json([item.model_dump() for item in kept])
        return
    if not kept:
        console.print(f"{name}: no previous version kept")
    for item in kept:
        console.print(
            f"{item.version}  [dim]{item.digest[:12]}  kept {item.keptAt}  from {item.source}[/]",
            highlight=False,
        )


def prune(
    name: str | None = typer.Argument(None, help="One module (default: every module)."),
    keep: int | None = typer.Option(
        None, "--keep", min=0, help="Versions to keep (default: updates.keepVersions)."
    ),
    project: Path | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete kept versions beyond the newest N of each module (their artifacts go with them)."""
    from trafi_host.project.versions import prune_versions, versions_dir

    with reported_errors(as_json):
        proj = open_project(project)
        with exclusive(proj):
            limit = proj.load_config().updates.keep_versions if keep is None else keep
            root = versions_dir(proj)
            names = (
                [name]
                if name
                else sorted(p.name for p in root.iterdir() if p.is_dir())
                if root.is_dir()
                else []
            )
            gone = {one: [k.version for k in prune_versions(proj, one, limit)] for one in names}
    if as_json:
        emit_json({"pruned": gone, "kept": limit})
        return
    for one, removed in gone.items():
        for version in removed:
            console.print(f"pruned {one} {version}", highlight=False)
    if not any(gone.values()):
        console.print(f"nothing to prune (keeping {limit} per module)")
