"""Enabling, disabling, removing and quarantining a module, and lifting a quarantine.

Each writes the module's state row (the truth every host process follows),
mirrors it in `trafi.config.json` (for people and the lock file), records what
changed in the audit log, and announces it on the change channel, so running
hosts apply it at once. Commands do all this under the project lock; a host
(quarantining a module) writes the database only, never the config. A host
that misses the announcement applies it at its next poll of the table; one
that is down, when it starts.

Only real changes are recorded: enabling an enabled module writes the same
state again, and leaves no audit entry and no `module.enabled` event.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from ..audit_log import AuditLog, current_actor
from ..install import revalidate
from ..module_data import DataChoice, delete_module_data, delete_write_folders, project_runner
from ..project import ModuleEntry, Project
from ..project.journal import FolderMove, Journal, new_journal_id
from ..project.versions import remove_versions
from ..runtime.artifacts import ArtifactCache
from ..validation.validate import ValidationFailed
from .module_state import DesiredState, ModuleStates, project_module_states


def enable(
    project: Project, name: str, artifacts: ArtifactCache | None = None, states: ModuleStates | None = None
) -> ModuleEntry:
    """Run the module again, lifting its quarantine if it has one.

    With an artifact cache, the installed copy is validated again first: rules may have
    changed since it was installed.
    """
    with project.exclusive():
        project.module_entry(name)  # an unknown name is refused before any validation
        if artifacts is not None:
            report = revalidate(project, name, artifacts)
            if not report.passed:
                raise ValidationFailed(report)
        with _state_store(project, states) as store:
            return _change(project, store, name, lambda before: DesiredState(True, None))


def disable(project: Project, name: str, states: ModuleStates | None = None) -> ModuleEntry:
    """Stop running the module; its files, its data and any quarantine stay."""
    with project.exclusive(), _state_store(project, states) as store:
        return _change(project, store, name, lambda before: DesiredState(False, before.quarantined))


def quarantine(
    project: Project,
    name: str,
    reason: str,
    states: ModuleStates | None = None,
    actor: str | None = None,
    *,
    mirror_config: bool = True,
) -> bool:
    """Keep the module from running until an operator lifts it (`enable`, or `lift_quarantine`).

    A host quarantining a module passes `mirror_config=False`: hosts write the database only
    (never the config, which only commands write, under the project lock); the config's
    `quarantined` catches up at the next command (`refresh_mirror`). A host's quarantine is
    taken once: False when another process had quarantined the module already."""
    with ExitStack() as held:
        if mirror_config:
            held.enter_context(project.exclusive())
        store = held.enter_context(_state_store(project, states))
        config = project.load_config()
        if name not in config.modules:
            # Removed while it misbehaved: no state to keep, but the decision stays on record.
            AuditLog(store.database).record(name, "quarantined", reason=reason, actor=actor)
            return True
        if not mirror_config:
            who = actor or current_actor(project.settings.actor)
            return store.quarantine_once(name, reason, who, config.modules[name].enabled)
        _change(
            project,
            store,
            name,
            lambda before: DesiredState(before.enabled, reason),
            actor,
            mirror=mirror_config,
        )
        return True


def lift_quarantine(project: Project, name: str, states: ModuleStates | None = None) -> ModuleEntry:
    """Let a quarantined module run again if it is enabled, without validating it again."""
    with project.exclusive(), _state_store(project, states) as store:
        return _change(project, store, name, lambda before: DesiredState(before.enabled, None))


def remove(
    project: Project, name: str, states: ModuleStates | None = None, data: DataChoice = "keep"
) -> ModuleEntry:
    """Disable, then delete the module's files and its entry. Its data stays (`keep`: a
    reinstall finds it) or goes first (`delete`: the down migrations in reverse, then its
    key-value rows); the choice is in the audit log.

    Journaled: once begun, a removal killed at any step is finished by the next command."""
    with project.exclusive():
        config = project.load_config()
        entry = project.module_entry(name)
        del config.modules[name]
        journal_id = new_journal_id()
        target = project.module_dir(name)
        journal = Journal.begin(
            project,
            "remove",
            config_after=config,
            folders=[
                FolderMove(
                    module=name,
                    target=target.relative_to(project.root).as_posix(),
                    aside=target.with_name(f".{name}.removed-{journal_id}")
                    .relative_to(project.root)
                    .as_posix(),
                )
            ],
            detail={"module": name, "data": data, "version": entry.version},
            journal_id=journal_id,
        )
        with _state_store(project, states) as store:
            finish_remove(project, journal, store)
        return entry


def finish_remove(project: Project, journal: Journal, store: ModuleStates) -> None:
    """The removal's steps, each skipped once the journal says it is done (recovery calls this
    again after a crash; every step may run twice):

    1. `disabled`: the state row (hosts stop serving it), without touching the config;
    2. `data`: with `delete`, the down migrations in reverse and its key-value rows;
    3. `moved`: its folder aside;
    4. `config`: the config and lock without it;
    5. `cleaned`: the folder aside deleted;
    6. `forgotten`: its state row deleted and the removal in the audit log; then the journal goes.
    """
    record = journal.record
    name, data = record.detail["module"], record.detail["data"]
    move = record.folders[0]
    if journal.needs("disabled"):
        _change(project, store, name, lambda before: DesiredState(False, before.quarantined), mirror=False)
        journal.mark("disabled")
    if journal.needs("data"):
        if data == "delete":
            with project_runner(project) as runner:
                reverted = delete_module_data(runner, name)
            journal.note_migrated(name, [f"{step.direction} {step.id}" for step in reverted])
            delete_write_folders(project, name)
        journal.mark("data")
    if journal.needs("moved"):
        target, aside = journal.path(move.target), journal.path(move.aside)
        if target.exists():
            os.replace(target, aside)
        journal.mark("moved")
    if journal.needs("config"):
        journal.write_config()
    if journal.needs("cleaned"):
        shutil.rmtree(journal.path(move.aside), ignore_errors=True)
        remove_versions(project, name)  # nothing left to roll back to
        journal.mark("cleaned")
    if journal.needs("forgotten"):
        store.remove(name)
        detail = f"version {record.detail['version']}; data: {data}"
        if data == "delete":
            reverted_count = len(record.migrated.get(name, []))
            detail += f" ({reverted_count} migration(s) reverted, key-value rows deleted)"
        if record.pid != os.getpid():
            detail += f"; finished by recovery after the removing command (pid {record.pid}) was interrupted"
        AuditLog(store.database).record(name, "removed", detail=detail)
        journal.mark("forgotten")
    journal.end()


def refresh_mirror(project: Project, store: ModuleStates) -> list[str]:
    """Bring the config's `enabled`/`quarantined` to the state rows (a host's quarantine, which
    only writes the database); returns the modules whose entry changed. Under the project lock."""
    config = project.load_config()
    rows = store.load()
    changed = []
    for name, entry in config.modules.items():
        row = rows.get(name)
        if row is not None and (row.enabled, row.quarantined) != (entry.enabled, entry.quarantined):
            config.modules[name] = entry.model_copy(
                update={"enabled": row.enabled, "quarantined": row.quarantined}
            )
            changed.append(name)
    if changed:
        project.save_config(config)
    return changed


@contextmanager
def _state_store(project: Project, states: ModuleStates | None) -> Iterator[ModuleStates]:
    """The caller's store (a running host's), or the project's for this one change."""
    if states is not None:
        yield states
        return
    with project_module_states(project) as opened:
        yield opened


def _change(
    project: Project,
    store: ModuleStates,
    name: str,
    next_state: Callable[[DesiredState], DesiredState],
    actor: str | None = None,
    *,
    mirror: bool = True,
) -> ModuleEntry:
    """The database first (the state and its audit entries, one transaction), since it is what
    hosts follow; then the config mirror (unless `mirror` is off: a host's change, or a removal
    that drops the entry)."""
    actor = actor or current_actor(project.settings.actor)
    config = project.load_config()
    entry = project.module_entry(name)
    before = store.desired(name, entry, store.load())
    after = next_state(before)
    # `module.enabled`/`module.disabled` follow the operator's switch, and a lifted quarantine
    # (the module is back); the host's own quarantine is not announced to tenants.
    runs_again = after.enabled and before.quarantined is not None and after.quarantined is None
    event = before.enabled != after.enabled or runs_again
    store.set(
        name,
        after.enabled,
        after.quarantined,
        actor,
        announce_version=entry.version if event else None,
        audit=_audit_actions(before, after),
    )
    config.modules[name] = entry.model_copy(
        update={"enabled": after.enabled, "quarantined": after.quarantined}
    )
    if mirror:
        project.save_config(config)
    return config.modules[name]


def _audit_actions(before: DesiredState, after: DesiredState) -> list[tuple[str, str | None]]:
    actions: list[tuple[str, str | None]] = []
    if before.quarantined and not after.quarantined:
        actions.append(("quarantine-lifted", f"was: {before.quarantined}"))
    if after.quarantined and after.quarantined != before.quarantined:
        actions.append(("quarantined", after.quarantined))
    if after.enabled != before.enabled:
        actions.append(("enabled" if after.enabled else "disabled", None))
    return actions
