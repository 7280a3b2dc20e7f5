"""Enabling, disabling, removing and quarantining a module, and lifting a quarantine.

Each writes the module's state row (the truth every host process follows),
mirrors it in `trafi.config.json` (for people and the lock file), records what
changed in the audit log, and announces it on the change channel, so running
hosts apply it at once. A host that misses the announcement applies it at its
next poll of the table; one that is down, when it starts.

Only real changes are recorded: enabling an enabled module writes the same
state again, and leaves no audit entry and no `module.enabled` event.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..audit_log import AuditLog, current_actor
from ..capabilities.db.migrations import Step
from ..install import revalidate
from ..module_data import DataChoice, delete_module_data, project_runner
from ..project import ModuleEntry, Project
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
    project.module_entry(name)  # an unknown name is refused before any validation
    if artifacts is not None:
        report = revalidate(project, name, artifacts)
        if not report.passed:
            raise ValidationFailed(report)
    with _state_store(project, states) as store:
        return _change(project, store, name, lambda before: DesiredState(True, None))


def disable(project: Project, name: str, states: ModuleStates | None = None) -> ModuleEntry:
    """Stop running the module; its files, its data and any quarantine stay."""
    with _state_store(project, states) as store:
        return _change(project, store, name, lambda before: DesiredState(False, before.quarantined))


def quarantine(
    project: Project,
    name: str,
    reason: str,
    states: ModuleStates | None = None,
    actor: str | None = None,
) -> None:
    """Keep the module from running until an operator lifts it (`enable`, or `lift_quarantine`)."""
    with _state_store(project, states) as store:
        if name not in project.load_config().modules:
            # Removed while it misbehaved: no state to keep, but the decision stays on record.
            AuditLog(store.database).record(name, "quarantined", reason=reason, actor=actor)
            return
        _change(project, store, name, lambda before: DesiredState(before.enabled, reason), actor)


def lift_quarantine(project: Project, name: str, states: ModuleStates | None = None) -> ModuleEntry:
    """Let a quarantined module run again if it is enabled, without validating it again."""
    with _state_store(project, states) as store:
        return _change(project, store, name, lambda before: DesiredState(before.enabled, None))


def remove(
    project: Project, name: str, states: ModuleStates | None = None, data: DataChoice = "keep"
) -> ModuleEntry:
    """Disable, then delete the module's files and its entry. Its data stays (`keep`: a
    reinstall finds it) or goes first (`delete`: the down migrations in reverse, then its
    key-value rows); the choice is in the audit log."""
    config = project.load_config()
    entry = project.module_entry(name)
    if entry.enabled:
        disable(project, name, states)
        config = project.load_config()
    reverted: list[Step] = []
    if data == "delete":
        with project_runner(project) as runner:
            reverted = delete_module_data(runner, name)
    del config.modules[name]
    target = project.module_dir(name)
    trash = None
    if target.exists():
        trash = target.with_name(f".{name}.removed-{uuid.uuid4().hex[:8]}")
        target.rename(trash)
    try:
        project.save_config(config)
    except BaseException:
        if trash is not None:
            trash.rename(target)
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    with _state_store(project, states) as store:
        store.remove(name)
        detail = f"version {entry.version}; data: {data}"
        if data == "delete":
            detail += f" ({len(reverted)} migration(s) reverted, key-value rows deleted)"
        AuditLog(store.database).record(name, "removed", detail=detail)
    return entry


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
) -> ModuleEntry:
    """The database first, since it is what hosts follow; then the config mirror; then the audit log."""
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
        name, after.enabled, after.quarantined, actor, announce_version=entry.version if event else None
    )
    config.modules[name] = entry.model_copy(
        update={"enabled": after.enabled, "quarantined": after.quarantined}
    )
    project.save_config(config)
    audit = AuditLog(store.database, project.settings.actor)
    for action, reason in _audit_actions(before, after):
        audit.record(name, action, reason=reason, actor=actor)
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
