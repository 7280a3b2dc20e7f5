"""`trafi module rollback`, and the health gate's automatic one: a kept version back in place.

A kept version (`project/versions.py`) is installed again exactly as it ran:
its folder (the component's digest checked against the record), its config
entry (version, source, config, grants), and its database schema — the
migrations the newer version applied are reverted with the down SQL recorded
when they ran (`capabilities/db/migrations.py`). The commit is the install's
journaled one (operation `rollback`): a process killed at any step leaves the
old or the new state, and the next command finishes it. The version rolled
back from is itself kept, so `--to` can go forward again.

A rollback of a quarantined module lifts the quarantine (with its audit
entry): the version it goes back to is one that ran.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select

from ..audit_log import current_actor
from ..db.schema import AuditEntry, Tenant, utcnow
from ..errors import ProjectBusyError, ProjectError
from ..events.catalogue import ModuleUpdateFailed
from ..events.outbox import record_event
from ..install import finish_install, undo_install
from ..lifecycle.module_state import ModuleStates, project_module_states
from ..manifest.load import load_manifest
from ..module_data import MigrationRun
from ..project import Project
from ..project.journal import FolderMove, Journal, kill_point, new_journal_id
from ..project.versions import KeptVersion, find_kept
from ..runtime.artifacts import component_digest
from .records import UpdateRecord, UpdateRecords


@dataclass(frozen=True)
class RollbackResult:
    name: str
    from_version: str
    to_version: str
    reverted: list[str]  # migrations reverted, `down 0002_x`
    lifted: str | None  # the quarantine lifted, if there was one


def roll_back(
    project: Project,
    name: str,
    *,
    to: str | None = None,
    to_digest: str | None = None,
    why: str | None = None,
    actor: str | None = None,
    states: ModuleStates | None = None,
) -> RollbackResult:
    """Put a kept version of `name` back (the newest other than the installed one, or `to`).

    Takes the project lock (a host rolling back a failed update waits for a running command)."""
    actor = actor or current_actor(project.settings.actor)
    with project.exclusive():
        config = project.load_config()
        current = project.module_entry(name)
        kept = find_kept(project, name, to, installed=current, digest=to_digest)
        _check_kept(kept)
        scratch = project.staging_dir / f"rollback-{uuid.uuid4().hex[:8]}"
        staged = scratch / f"staged-{name}"
        scratch.mkdir(parents=True)
        shutil.copytree(kept.folder, staged, symlinks=True)
        kill_point("rollback", "staged")
        # The kept entry as it ran, with today's switch (enabled or not); the state row decides.
        config.modules[name] = kept.entry.model_copy(update={"enabled": current.enabled, "quarantined": None})
        journal_id = new_journal_id()
        target = project.module_dir(name)
        journal = Journal.begin(
            project,
            "rollback",
            config_after=config,
            folders=[
                FolderMove(
                    module=name,
                    target=target.relative_to(project.root).as_posix(),
                    staged=staged.relative_to(project.root).as_posix(),
                    aside=target.with_name(f".{name}.old-{journal_id}").relative_to(project.root).as_posix(),
                    migrate=True,
                    keep=True,
                )
            ],
            journal_id=journal_id,
        )
        runs: list[MigrationRun] = []
        with _store(project, states) as store:
            try:
                finish_install(project, journal, runs=runs, audit=lambda: None)
            except BaseException:
                undo_install(journal, runs)
                raise
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            reverted = [f"{s.direction} {s.id}" for run in runs for s in run.steps]
            before = store.desired(name, current, store.load())
            detail = (
                f"from {current.version} (digest {current.digest}) to {kept.version} "
                f"(digest {kept.digest}); migrations: {', '.join(reverted) or 'none'}"
            )
            audit: list[tuple[str, str | None]] = [("rolled-back", f"{why}; {detail}" if why else detail)]
            if before.quarantined:
                audit.append(
                    ("quarantine-lifted", f"rolled back to {kept.version}; was: {before.quarantined}")
                )
            store.set(name, before.enabled, None, actor, audit=audit)
            UpdateRecords(store.database).close_open(
                name, "rolled-back", f"rolled back to {kept.version} by {actor}"
            )
        return RollbackResult(name, current.version, kept.version, reverted, before.quarantined)


def roll_back_failed_update(
    project: Project, record: UpdateRecord, why: str, states: ModuleStates, attempts: int = 5
) -> RollbackResult:
    """The health gate's rollback (run by the host that failed the window): back to exactly the
    version the update replaced, then the window marked `rolled-back`, an `update-failed` audit
    entry and a `module.update-failed` event to every tenant (one transaction)."""
    for attempt in range(attempts):
        try:
            result = roll_back(
                project, record.module, to_digest=record.from_digest, why=why, actor="host", states=states
            )
            break
        except ProjectBusyError:
            if attempt == attempts - 1:
                raise  # a command held the project throughout; `trafi module rollback` remains
    records = UpdateRecords(states.database)
    records.mark(record.id, "rolled-back", why)
    payload = ModuleUpdateFailed(
        module=record.module, version=result.to_version, failed_version=record.to_version, reason=why
    )
    with states.database.session() as session:
        session.add(
            AuditEntry(at=utcnow(), actor="host", module=record.module, action="update-failed", reason=why)
        )
        for tenant in session.scalars(select(Tenant.id)):
            record_event(session, tenant, "module.update-failed", payload)
    return result


def _check_kept(kept: KeptVersion) -> None:
    """The kept folder must hold the component that ran: a changed file is refused."""
    manifest = load_manifest(kept.folder)
    component = kept.folder / manifest.entry.backend
    found = component_digest(component) if component.is_file() else "missing"
    if found != kept.digest:
        raise ProjectError(
            f"module {kept.name} {kept.version}: the kept component {component} is not the one that "
            f"ran (sha256 {found[:12]}, recorded {kept.digest[:12]}); it cannot be rolled back to"
        )


@contextmanager
def _store(project: Project, states: ModuleStates | None) -> Iterator[ModuleStates]:
    """The caller's store (a running host's), or the project's for this rollback."""
    if states is not None:
        yield states
        return
    with project_module_states(project) as opened:
        yield opened


__all__ = ["RollbackResult", "roll_back", "roll_back_failed_update"]
