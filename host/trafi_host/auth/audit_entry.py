"""The audit entry of an identity change, added in that change's own transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit_log import current_actor
from ..db.schema import AuditEntry, utcnow


def audited(session: Session, action: str, detail: str, actor: str | None, module: str = "") -> None:
    """Recorded with the change or not at all: both commit or roll back together."""
    session.add(
        AuditEntry(at=utcnow(), actor=actor or current_actor(), module=module, action=action, detail=detail)
    )
