"""Whether each module should run: kept in the database, announced to every host process.

The database row is the truth (so any number of host processes, on any number
of machines, agree); `trafi.config.json` mirrors it for people and for the lock
file. A module with no row yet (just installed, or a project from before the
table existed) follows its config entry.

A change is announced on Redis when one is configured, so every host applies
it at once; hosts also poll the table, so a missed announcement (Redis down, a
host reconnecting) only delays a change, never loses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..audit_log import current_actor
from ..db.engine import Database
from ..db.schema import AuditEntry, ModuleStateRow, Tenant, utcnow
from ..events.catalogue import ModuleChanged
from ..events.outbox import record_event
from ..project import ModuleEntry, Project

log = logging.getLogger("trafi.module_state")

CHANNEL = "trafi:module-state"
# Announced on CHANNEL when an API key is revoked: hosts drop their verified-key cache.
REVOCATION = "!api-keys-revoked"
# Announced on CHANNEL when an operator changes a rate limit: hosts reread the overrides.
RATE_LIMITS_CHANGED = "!rate-limits-changed"


@dataclass(frozen=True)
class DesiredState:
    enabled: bool
    quarantined: str | None


class ModuleStates:
    def __init__(self, database: Database, redis_url: str | None = None) -> None:
        self.database = database
        self.redis_url = redis_url

    def load(self) -> dict[str, DesiredState]:
        with self.database.session() as session:
            rows = session.scalars(select(ModuleStateRow)).all()
            return {row.name: DesiredState(row.enabled, row.quarantined) for row in rows}

    def desired(self, name: str, entry: ModuleEntry, rows: dict[str, DesiredState]) -> DesiredState:
        return rows.get(name) or DesiredState(entry.enabled, entry.quarantined)

    def signature(self) -> str:
        """Changes whenever any module's state does: what the pollers compare."""
        rows = sorted((name, s.enabled, s.quarantined) for name, s in self.load().items())
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()

    def set(
        self,
        name: str,
        enabled: bool,
        quarantined: str | None,
        actor: str | None = None,
        announce_version: str | None = None,
        audit: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Persist the state, and its audit entries (`(action, reason)`), in one transaction: a
        process that dies cannot leave a quarantine without its record, or the reverse. With
        `announce_version`, also emit `module.enabled`/`module.disabled` to every tenant."""
        actor = actor or current_actor()
        with self.database.session() as session:
            for action, reason in audit:
                session.add(AuditEntry(at=utcnow(), actor=actor, module=name, action=action, reason=reason))
            if announce_version is not None:
                event = "module.enabled" if enabled else "module.disabled"
                for tenant in session.scalars(select(Tenant.id)):
                    record_event(session, tenant, event, ModuleChanged(module=name, version=announce_version))
            row = session.get(ModuleStateRow, name)
            if row is None:
                row = ModuleStateRow(name=name)
                session.add(row)
            row.enabled = enabled
            row.quarantined = quarantined
            row.changed_at = utcnow()
            row.changed_by = actor
        self.announce(name)

    def quarantine_once(self, name: str, reason: str, actor: str, enabled: bool) -> bool:
        """Quarantine `name` unless it is already: True if this call did it (and wrote its audit
        entry). Several processes crossing the incident threshold together quarantine it once;
        the row is locked by the first update, and the others find it quarantined.
        `enabled`: the module's switch if it has no row yet (its config entry's)."""
        with self.database.session() as session:
            insert = postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(ModuleStateRow)
                .values(name=name, enabled=enabled, quarantined=None, changed_at=utcnow(), changed_by=actor)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            taken = session.execute(
                update(ModuleStateRow)
                .where(ModuleStateRow.name == name, ModuleStateRow.quarantined.is_(None))
                .values(quarantined=reason, changed_at=utcnow(), changed_by=actor)
            )
            won = bool(taken.rowcount)  # type: ignore[attr-defined]
            if won:
                session.add(
                    AuditEntry(at=utcnow(), actor=actor, module=name, action="quarantined", reason=reason)
                )
        if won:
            self.announce(name)
        return won

    def remove(self, name: str) -> None:
        with self.database.session() as session:
            session.execute(delete(ModuleStateRow).where(ModuleStateRow.name == name))
        self.announce(name)

    def announce(self, name: str) -> None:
        """Tell running hosts to reconcile now; best effort, since they also poll."""
        if not self.redis_url:
            return
        import redis

        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            try:
                client.publish(CHANNEL, name)
            finally:
                client.close()
        except redis.RedisError as error:
            log.warning(
                "could not announce the change to %s on %s (%s); hosts apply it at their next poll",
                name,
                self.redis_url,
                error,
            )


@contextmanager
def project_module_states(project: Project) -> Iterator[ModuleStates]:
    """The state store of a project's database (migrated), for one command."""
    database = Database(project.database_url())
    try:
        database.migrate()
        yield ModuleStates(database, project.redis_url())
    finally:
        database.close()
