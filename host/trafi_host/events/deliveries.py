"""The delivery ledger: one row per (event, subscribed module), the truth about who got what.

The job queue only wakes workers; this table decides. A worker claims a row
(with a lease as long as the handler's deadline plus a grace), runs the
handler, and records the outcome: done, a retry at an exponentially later
time, or dead-lettered after the subscription's last attempt. A worker that
dies mid-job leaves a lease that expires, and the row is claimed again: no
event is lost, and handlers see the event id to act once.

A sync delivery is run by the process that dispatched it, under its lease; if
that process dies mid-delivery, the sweeper fails it once the lease has run out
(`fail_abandoned_sync`): sync deliveries are never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db.engine import Database
from ..db.schema import Base, utcnow
from .outbox import Event, OutboxRow, to_event

MAX_BACKOFF_SECONDS = 300.0


class DeliveryRow(Base):
    __tablename__ = "trafi_event_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "module"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(128))
    module: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(8))  # sync | async
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | running | done | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Last change: created, claimed, finished, or queued again by the sweeper (which
    # takes the row by moving this, so that two sweepers never both queue it).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


SYNC_LEASE_EXPIRED = "the process running this sync delivery stopped before it finished (its lease expired)"


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    event_type: str
    module: str
    tenant_id: str
    mode: str
    status: str
    attempts: int
    max_attempts: int
    last_error: str | None
    next_attempt_at: datetime
    updated_at: datetime


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        row.id,
        row.event_id,
        row.event_type,
        row.module,
        row.tenant_id,
        row.mode,
        row.status,
        row.attempts,
        row.max_attempts,
        row.last_error,
        row.next_attempt_at,
        row.updated_at,
    )


def backoff_seconds(attempts: int, base: float) -> float:
    """1x, 2x, 4x ... the base after each failed attempt, capped at five minutes."""
    return float(min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS))


def add_deliveries(
    session: Session,
    event_id: str,
    event_type: str,
    tenant: str,
    targets: list[tuple[str, str, int]],
    sync_lease_seconds: float,
) -> list[Delivery]:
    """`targets`: (module, mode, max_attempts) for each subscription.

    Sync deliveries are run at once by the dispatcher that adds them: they start
    out taken (running, first attempt), which saves a transaction per handler.
    """
    now = utcnow()
    rows = [
        DeliveryRow(
            event_id=event_id,
            event_type=event_type,
            module=module,
            tenant_id=tenant,
            mode=mode,
            status="running" if mode == "sync" else "pending",
            attempts=1 if mode == "sync" else 0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            lease_until=now + timedelta(seconds=sync_lease_seconds) if mode == "sync" else None,
        )
        for module, mode, max_attempts in targets
    ]
    session.add_all(rows)
    session.flush()
    return [_delivery(row) for row in rows]


class Ledger:
    def __init__(self, database: Database, retry_base_seconds: float = 1.0) -> None:
        self.database = database
        self.retry_base_seconds = retry_base_seconds

    def claim_with_event(
        self, delivery_id: int, lease_for: Callable[[str], float]
    ) -> tuple[Delivery, Event | None] | None:
        """Take the delivery if it is due (or its previous worker's lease ran out), with the event
        it delivers, in one transaction (a worker's first step); None if not ours."""
        with self.database.session() as session:
            delivery = self._claim(session, delivery_id, lease_for)
            if delivery is None:
                return None
            row = session.scalar(select(OutboxRow).where(OutboxRow.id == delivery.event_id))
            return delivery, to_event(row) if row is not None else None

    def _claim(
        self, session: Session, delivery_id: int, lease_for: Callable[[str], float]
    ) -> Delivery | None:
        current = session.get(DeliveryRow, delivery_id)
        if current is None:
            return None
        now = utcnow()
        claimed = session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id == delivery_id,
                or_(
                    and_(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now),
                    and_(DeliveryRow.status == "running", DeliveryRow.lease_until < now),
                ),
            )
            .values(
                status="running",
                attempts=DeliveryRow.attempts + 1,
                lease_until=now + timedelta(seconds=lease_for(current.module)),
                updated_at=now,
            )
            .execution_options(synchronize_session="fetch")
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.refresh(current)
        return _delivery(current)

    def finish(self, delivery: Delivery, error: str | None) -> float | None:
        """Record the outcome; returns the delay before the next attempt, or None when final."""
        return self.finish_many([(delivery, error)])[0]

    def finish_many(self, outcomes: list[tuple[Delivery, str | None]]) -> list[float | None]:
        """Several outcomes in one transaction (the sync handlers of one event)."""
        now = utcnow()
        delays: list[float | None] = []
        with self.database.session() as session:
            for delivery, error in outcomes:
                row = session.get(DeliveryRow, delivery.id)
                assert row is not None
                row.lease_until = None
                row.updated_at = now
                row.last_error = error
                if error is None:
                    row.status = "done"
                    delays.append(None)
                elif row.mode == "sync":
                    row.status = "failed"
                    delays.append(None)
                elif row.attempts >= row.max_attempts:
                    row.status = "dead"
                    delays.append(None)
                else:
                    delay = backoff_seconds(row.attempts, self.retry_base_seconds)
                    row.status = "pending"
                    row.next_attempt_at = now + timedelta(seconds=delay)
                    delays.append(delay)
        return delays

    def due(self, grace_seconds: float, limit: int = 500) -> list[int]:
        """Async deliveries no worker holds: due and waiting longer than `grace`, or with an expired lease."""
        now = utcnow()
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(DeliveryRow.id)
                    .where(
                        DeliveryRow.mode == "async",
                        or_(
                            and_(
                                DeliveryRow.status == "pending",
                                DeliveryRow.next_attempt_at <= now - timedelta(seconds=grace_seconds),
                            ),
                            and_(DeliveryRow.status == "running", DeliveryRow.lease_until < now),
                        ),
                    )
                    .order_by(DeliveryRow.id)
                    .limit(limit)
                )
            )

    def take_for_requeue(self, delivery_id: int, grace_seconds: float) -> bool:
        """True if the caller may queue a new job for this delivery: it is still one no worker
        holds (`due`) and nobody queued it again in the last `grace_seconds`. Moves `updated_at`,
        so another sweeper asking the same gets False."""
        now = utcnow()
        quiet = now - timedelta(seconds=grace_seconds)
        with self.database.session() as session:
            taken = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.mode == "async",
                    DeliveryRow.updated_at <= quiet,
                    or_(
                        and_(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= quiet),
                        and_(DeliveryRow.status == "running", DeliveryRow.lease_until < now),
                    ),
                )
                .values(updated_at=now)
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def fail_abandoned_sync(self, limit: int = 500) -> list[Delivery]:
        """Sync deliveries whose lease ran out (their process died mid-delivery): failed, as a
        sync delivery that fails is (never retried). Returns those this call failed."""
        now = utcnow()
        failed: list[Delivery] = []
        with self.database.session() as session:
            ids = session.scalars(
                select(DeliveryRow.id)
                .where(
                    DeliveryRow.mode == "sync",
                    DeliveryRow.status == "running",
                    DeliveryRow.lease_until < now,
                )
                .order_by(DeliveryRow.id)
                .limit(limit)
            ).all()
            for delivery_id in ids:
                # One row at a time, each only if still abandoned: another sweeper, or the
                # late handler's own result, may have settled it meanwhile.
                done = session.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == delivery_id,
                        DeliveryRow.status == "running",
                        DeliveryRow.lease_until < now,
                    )
                    .values(status="failed", last_error=SYNC_LEASE_EXPIRED, lease_until=None, updated_at=now)
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get(DeliveryRow, delivery_id)
                    assert row is not None
                    session.refresh(row)
                    failed.append(_delivery(row))
        return failed

    def get(self, delivery_id: int) -> Delivery | None:
        with self.database.session() as session:
            row = session.get(DeliveryRow, delivery_id)
            return _delivery(row) if row else None

    def list(
        self, status: str | None = None, event_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        query = select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(DeliveryRow.status == status)
        if event_id is not None:
            query = query.where(DeliveryRow.event_id == event_id)
        with self.database.session() as session:
            return [_delivery(row) for row in session.scalars(query)]

    def retry_dead(self, delivery_id: int) -> Delivery:
        """A dead-lettered delivery gets a fresh set of attempts, due now."""
        with self.database.session() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:
                raise LookupError(f"no delivery {delivery_id}")
            if row.status != "dead":
                raise ValueError(f"delivery {delivery_id} is {row.status}, not dead-lettered")
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = utcnow()
            row.updated_at = utcnow()
            return _delivery(row)
