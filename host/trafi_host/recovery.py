"""Finishing what an interrupted command left, sweeping its debris, and pruning the artifact cache.

Every command that changes the project runs inside `exclusive(project)`: the
project lock, then `recover` (an interrupted operation's journal finished,
debris swept, the config's state mirror refreshed), then the command, then
artifacts no installed module uses pruned (also when the command failed: a
refused add leaves no artifact). Other commands and host starts call
`recover_if_idle`, which does the same recovery only when no command holds
the lock (one that does is alive, and finishes its own work).

Interrupted operations are rolled forward: once its journal is written, an
install or a removal is finished, never half undone (see docs/lifecycle.md
for why, step by step). A journal marked `undoing` (the command was putting
things back after an error) is undone instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .audit_log import AuditLog
from .db.engine import Database
from .errors import ProjectError, TrafiError
from .install import finish_install, recorded_install_audit, undo_install
from .lifecycle.module_state import ModuleStates, project_module_states
from .lifecycle.transitions import finish_remove, refresh_mirror
from .project import Project
from .project.debris import sweep_debris
from .project.exclusive import WaitNotice, held_here, lock_if_free
from .project.journal import Journal, move_back
from .project.versions import kept_digests
from .runtime.artifacts import CachedArtifact, prune_artifacts
from .updates.records import UpdateRecords

log = logging.getLogger("trafi.recovery")


@dataclass
class Recovery:
    """What `recover` did."""

    finished: str | None = None  # "install (pid 123)": the operation rolled forward
    undone: str | None = None  # the operation rolled back
    swept: list[Path] = field(default_factory=list)


def recover(project: Project) -> Recovery:
    """Finish (or undo) the operation an interrupted command left, then sweep debris.

    The caller holds the project lock; a journal found then belongs to a dead process."""
    done = Recovery()
    journal = Journal.pending(project)
    if journal is not None:
        record = journal.record
        what = f"{record.operation} (pid {record.pid}, steps done: {', '.join(record.done) or 'none'})"
        log.warning("finishing an interrupted %s", what)
        if record.undoing:
            _undo(project, journal)
            done.undone = what
        elif record.operation in ("install", "update", "rollback"):
            with Database(project.database_url()) as database:
                database.migrate()
                finish_install(
                    project, journal, audit=recorded_install_audit(project, journal, AuditLog(database))
                )
            done.finished = what
        elif record.operation == "remove":
            with project_module_states(project) as store:
                finish_remove(project, journal, store)
            done.finished = what
        else:
            raise ProjectError(
                f"{project.journal_path}: an interrupted {record.operation!r} this version of trafi "
                "cannot finish; finish it with the version that started it"
            )
    done.swept = sweep_debris(project)
    for path in done.swept:
        log.info("swept %s", path)
    return done


def _undo(project: Project, journal: Journal) -> None:
    if journal.record.operation in ("install", "update", "rollback"):
        undo_install(journal, [])
        return
    for move in journal.record.folders:  # a removal never undoes after its first step: none here
        move_back(
            journal.path(move.staged or move.target), journal.path(move.target), journal.path(move.aside)
        )
    if not journal.needs("config"):
        journal.restore_config()
    journal.end()


def prune_unused_artifacts(project: Project, dry_run: bool = False) -> list[CachedArtifact]:
    """Artifacts of components no installed module version uses (any engine settings)."""
    # Kept versions keep their artifacts: a rollback starts without compiling.
    keep = {entry.digest for entry in project.load_config().modules.values()} | kept_digests(project)
    return prune_artifacts(project.artifacts_dir, keep, dry_run)


def owns_artifact_cache(project: Project) -> bool:
    """Whether the cache is the project's own: a shared one (`TRAFI_ARTIFACT_DIR`) also holds
    other projects' artifacts, so it is only pruned when asked (`trafi cache prune`)."""
    return project.settings.artifact_dir is None


@contextmanager
def exclusive(
    project: Project, on_wait: WaitNotice | None = None, *, tidy: bool = True
) -> Iterator[Recovery]:
    """The project lock for one command, with recovery first and (`tidy`) pruning after.

    Nested (the lock is already held by this process): only the lock."""
    outermost = not held_here(project.state_dir)
    with project.exclusive(on_wait):
        if not outermost:
            yield Recovery()
            return
        done = recover(project)
        with project_module_states(project) as store:
            _refresh(project, store)
        try:
            yield done
        finally:
            if tidy:
                _tidy(project)


def _tidy(project: Project) -> None:
    """After a command, whatever it did: artifacts no installed module uses, debris."""
    try:
        if owns_artifact_cache(project):
            for artifact in prune_unused_artifacts(project):
                log.info("pruned artifact %s", artifact.path.name)
        sweep_debris(project)
    except (TrafiError, OSError) as error:  # tidying must not hide what the command did or raised
        log.warning("could not prune the artifact cache or sweep debris: %s", error)


def _refresh(project: Project, store: ModuleStates) -> None:
    changed = refresh_mirror(project, store)
    if changed:
        log.info("config mirror refreshed from the module state for %s", ", ".join(changed))
    installed = {name: (e.version, e.digest) for name, e in project.load_config().modules.items()}
    for name in UpdateRecords(store.database).close_stale(installed):
        log.info("closed the health window of an update of %s that never committed", name)


def recover_if_idle(project: Project) -> Recovery:
    """`recover`, when no command holds the project lock (at a host's start, and before
    commands that only read); nothing when one does."""
    with lock_if_free(project.state_dir) as free:
        if not free:
            return Recovery()
        done = recover(project)
        if (done.finished or done.undone) and owns_artifact_cache(project):
            prune_unused_artifacts(project)
        return done
