"""The outbox: an event is a row written in the same transaction as the change it reports.

So an event exists exactly when its change was committed: a rolled-back change
leaves no event, a committed one cannot lose it. Delivery reads the outbox
afterwards (and again after a crash), which makes it at-least-once; handlers get
the event id to stay idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db.engine import Database
from ..db.schema import Base, utcnow
from .catalogue import Payload, event_type


class OutboxRow(Base):
    __tablename__ = "trafi_event_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # delivery order
    id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))  # "core" or the emitting module
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload: Mapped[str] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class Event(BaseModel):
    """The envelope every handler receives."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    tenant: str
    occurred_at: datetime
    version: int
    source: str
    payload: dict[str, object]


def record_event(
    session: Session, tenant: str, type_name: str, payload: Payload, source: str = "core"
) -> Event:
    """Add the event to `session`'s transaction (the caller commits it with the change)."""
    event = event_type(type_name)
    if not isinstance(payload, event.payload):
        raise TypeError(f"{type_name} carries {event.payload.__name__}, not {type(payload).__name__}")
    return _add(session, tenant, type_name, event.version, source, payload.model_dump(mode="json"))


def record_module_event(
    session: Session, tenant: str, module: str, name: str, payload: dict[str, object]
) -> Event:
    """A module's own event, `<module>.<name>`; its payload is the module's to define."""
    return _add(session, tenant, f"{module}.{name}", 1, module, payload)


def _add(
    session: Session, tenant: str, type_name: str, version: int, source: str, payload: dict[str, object]
) -> Event:
    row = OutboxRow(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        type=type_name,
        version=version,
        source=source,
        occurred_at=utcnow(),
        payload=json.dumps(payload, separators=(",", ":")),
    )
    session.add(row)
    session.flush()
    return to_event(row)


def to_event(row: OutboxRow) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        tenant=row.tenant_id,
        occurred_at=row.occurred_at,
        version=row.version,
        source=row.source,
        payload=json.loads(row.payload),
    )


def recent_events(session: Session, tenant: str, limit: int = 50) -> list[Event]:
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.tenant_id == tenant).order_by(OutboxRow.seq.desc()).limit(limit)
    ).all()
    return [to_event(row) for row in rows]


def claim_undispatched(session: Session, event_id: str) -> Event | None:
    """Mark the event dispatched in `session`; None if another dispatcher has taken it."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == event_id, OutboxRow.dispatched_at.is_(None))
        .values(dispatched_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.scalar(select(OutboxRow).where(OutboxRow.id == event_id))
    assert row is not None
    return to_event(row)


def undispatched_ids(database: Database, older_than_seconds: float, limit: int = 200) -> list[str]:
    """Committed events no dispatcher took: their process died between commit and dispatch."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with database.session() as session:
        return list(
            session.scalars(
                select(OutboxRow.id)
                .where(OutboxRow.dispatched_at.is_(None), OutboxRow.occurred_at <= cutoff)
                .order_by(OutboxRow.seq)
                .limit(limit)
            )
        )


class OutboxSink:
    """Where a module's `events.emit` lands: the outbox, in its own transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def emit_module_event(self, tenant: str, module: str, name: str, payload: dict[str, Any]) -> None:
        with self.database.session() as session:
            record_module_event(session, tenant, module, name, payload)
