"""The audit log: append-only records of security-relevant decisions, in the host database."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .db.engine import Database
from .db.schema import AuditEntry, utcnow


def current_actor(configured: str | None = None) -> str:
    """Who runs this command: the `TRAFI_ACTOR` setting (set by automation), else the OS user."""
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    module: str
    action: str
    rule: str | None
    reason: str | None
    detail: str | None


class AuditLog:
    def __init__(self, database: Database, actor: str | None = None) -> None:
        """`actor`: the `TRAFI_ACTOR` setting, named by records that give no actor of their own."""
        self.database = database
        self.actor = actor

    def record(
        self,
        module: str,
        action: str,
        *,
        rule: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
        actor: str | None = None,
    ) -> None:
        with self.database.session() as session:
            session.add(
                AuditEntry(
                    at=utcnow(),
                    actor=actor or current_actor(self.actor),
                    module=module,
                    action=action,
                    rule=rule,
                    reason=reason,
                    detail=detail,
                )
            )

    def entries(self, module: str | None = None, limit: int = 200) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if module is not None:
            query = query.where(AuditEntry.module == module)
        with self.database.session() as session:
            rows = session.scalars(query).all()
            return [AuditRecord(r.at, r.actor, r.module, r.action, r.rule, r.reason, r.detail) for r in rows]
