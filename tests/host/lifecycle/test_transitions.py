"""Enable, disable, quarantine, lift and remove: each writes the state, its mirror and the audit log,
and announces itself; only a real change is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import install_modules
from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_tenant
from trafi_host.db import Database
from trafi_host.events.outbox import recent_events
from trafi_host.lifecycle import (
    DesiredState,
    ModuleStates,
    disable,
    enable,
    lift_quarantine,
    project_module_states,
    quarantine,
    remove,
)
from trafi_host.project import Project


def test_each_change_is_written_mirrored_audited_and_announced(
    sqlite_project: Project, hello_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_modules(sqlite_project, hello_dir)
    announced: list[str] = []
    monkeypatch.setattr(ModuleStates, "announce", lambda self, name: announced.append(name))
    database = Database(sqlite_project.database_url())
    try:
        database.migrate()
        create_tenant(database, "acme")

        def state() -> DesiredState:
            with project_module_states(sqlite_project) as states:
                return states.load()["hello"]

        disable(sqlite_project, "hello")
        disable(sqlite_project, "hello")  # no change: nothing recorded
        assert state() == DesiredState(False, None)
        assert sqlite_project.module_entry("hello").enabled is False

        quarantine(sqlite_project, "hello", "5 incidents in 60 s", actor="host")
        assert state() == DesiredState(False, "5 incidents in 60 s")  # a quarantine keeps the switch
        lift_quarantine(sqlite_project, "hello")
        assert state() == DesiredState(False, None)

        enable(sqlite_project, "hello")
        quarantine(sqlite_project, "hello", "3 incidents in 60 s", actor="host")
        assert sqlite_project.module_entry("hello").quarantined == "3 incidents in 60 s"
        enable(sqlite_project, "hello")  # lifts it
        assert state() == DesiredState(True, None)
        entry = sqlite_project.module_entry("hello")
        assert (entry.enabled, entry.quarantined) == (True, None)

        remove(sqlite_project, "hello")
        with project_module_states(sqlite_project) as states:
            assert states.load() == {}

        audit = [
            (e.action, e.reason, e.actor == "host") for e in reversed(AuditLog(database).entries("hello"))
        ]
        with database.session() as session:
            events = [e.type for e in reversed(recent_events(session, "acme"))]
    finally:
        database.close()
    assert audit[audit.index(("disabled", None, False)) :] == [
        ("disabled", None, False),
        ("quarantined", "5 incidents in 60 s", True),
        ("quarantine-lifted", "was: 5 incidents in 60 s", False),
        ("enabled", None, False),
        ("quarantined", "3 incidents in 60 s", True),
        ("quarantine-lifted", "was: 3 incidents in 60 s", False),
        ("disabled", None, False),  # removal disables the module first
        ("removed", None, False),
    ]
    # Tenants hear of the switch and of a module back from quarantine, not of the quarantine.
    assert events == ["module.disabled", "module.enabled", "module.enabled", "module.disabled"]
    assert announced == ["hello"] * 9


def test_a_quarantine_of_a_module_removed_meanwhile_is_only_recorded(
    sqlite_project: Project, hello_dir: Path
) -> None:
    install_modules(sqlite_project, hello_dir)
    remove(sqlite_project, "hello")
    quarantine(sqlite_project, "hello", "5 incidents in 60 s", actor="host")
    with project_module_states(sqlite_project) as states:
        assert states.load() == {}
        assert AuditLog(states.database).entries("hello")[0].action == "quarantined"


def test_a_hosts_quarantine_writes_the_database_only_and_the_next_command_mirrors_it(
    sqlite_project: Project, hello_dir: Path
) -> None:
    from trafi_host.recovery import exclusive

    install_modules(sqlite_project, hello_dir)
    config_before = sqlite_project.config_path.read_bytes()
    with project_module_states(sqlite_project) as states:
        quarantine(sqlite_project, "hello", "5 incidents in 60 s", states, actor="host", mirror_config=False)
        assert states.load()["hello"] == DesiredState(True, "5 incidents in 60 s")
    assert sqlite_project.config_path.read_bytes() == config_before  # hosts never write the config

    with exclusive(sqlite_project):  # what every command that changes the project starts with
        pass
    assert sqlite_project.module_entry("hello").quarantined == "5 incidents in 60 s"


def test_a_state_change_and_its_audit_entry_are_one_transaction(
    sqlite_project: Project, hello_dir: Path
) -> None:
    """A failure writing the audit entry leaves the state as it was (and the reverse cannot happen)."""
    from sqlalchemy import event

    from trafi_host.db.schema import AuditEntry

    install_modules(sqlite_project, hello_dir)
    with project_module_states(sqlite_project) as states:

        def refuse(*_args: object) -> None:
            raise RuntimeError("the disk filled up while writing the audit entry")

        event.listen(AuditEntry, "before_insert", refuse)
        try:
            with pytest.raises(RuntimeError, match="disk filled up"):
                quarantine(sqlite_project, "hello", "5 incidents in 60 s", states, actor="host")
        finally:
            event.remove(AuditEntry, "before_insert", refuse)
        assert (
            states.desired("hello", sqlite_project.module_entry("hello"), states.load()).quarantined is None
        )
