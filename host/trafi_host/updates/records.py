"""`trafi_module_updates`: each update's health window and its verdict.

An update writes a `watching` row when it commits. Every host serving the new
version counts its calls against it; the first to see the window pass or fail
decides, by a compare-and-set on `status` (so two hosts never both roll back).
`trafi module list` shows the latest row of each module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..db.engine import Database
from ..db.schema import Base, utcnow

UpdateStatus = Literal["watching", "passed", "failed", "rolled-back"]


class ModuleUpdateRow(Base):
    __tablename__ = "trafi_module_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    module: Mapped[str] = mapped_column(String(64), index=True)
    from_version: Mapped[str] = mapped_column(String(64))
    from_digest: Mapped[str] = mapped_column(String(64))
    to_version: Mapped[str] = mapped_column(String(64))
    to_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class UpdateRecord:
    id: int
    module: str
    from_version: str
    from_digest: str
    to_version: str
    to_digest: str
    status: UpdateStatus
    reason: str | None
    calls: int
    failures: int
    started_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: ModuleUpdateRow) -> UpdateRecord:
        return cls(
            row.id,
            row.module,
            row.from_version,
            row.from_digest,
            row.to_version,
            row.to_digest,
            row.status,  # type: ignore[arg-type]
            row.reason,
            row.calls,
            row.failures,
            row.started_at,
            row.decided_at,
        )


class UpdateRecords:
    def __init__(self, database: Database) -> None:
        self.database = database

    def open_window(
        self, module: str, from_version: str, from_digest: str, to_version: str, to_digest: str, actor: str
    ) -> int:
        """A new `watching` row; an older window of the module still open is superseded."""
        with self.database.session() as session:
            session.execute(
                update(ModuleUpdateRow)
                .where(ModuleUpdateRow.module == module, ModuleUpdateRow.status == "watching")
                .values(status="passed", reason="superseded by a later update", decided_at=utcnow())
            )
            row = ModuleUpdateRow(
                module=module,
                from_version=from_version,
                from_digest=from_digest,
                to_version=to_version,
                to_digest=to_digest,
                status="watching",
                actor=actor,
                started_at=utcnow(),
                calls=0,
                failures=0,
            )
            session.add(row)
            session.flush()
            return row.id

    def watching(self) -> dict[str, UpdateRecord]:
        """Module -> its open window (a new window supersedes the module's older one)."""
        return {module: record for module, record in self.unsettled().items() if record.status == "watching"}

    def unsettled(self) -> dict[str, UpdateRecord]:
        """Module -> its latest update, where that one is `watching` or `failed` (its window
        open, or failed and not rolled back yet): what a host's reconcile must know."""
        latest = select(func.max(ModuleUpdateRow.id)).group_by(ModuleUpdateRow.module)
        with self.database.session() as session:
            rows = session.scalars(
                select(ModuleUpdateRow).where(
                    ModuleUpdateRow.id.in_(latest), ModuleUpdateRow.status.in_(("watching", "failed"))
                )
            )
            return {row.module: UpdateRecord.of(row) for row in rows}

    def add_counts(self, update_id: int, calls: int, failures: int) -> tuple[int, int] | None:
        """Adds one host's calls and failures to a `watching` window: every host's (calls,
        failures) so far; None when the window is decided (by another host, or a command)."""
        with self.database.session() as session:
            if calls == 0 and failures == 0:  # nothing to add: only read
                found = session.execute(
                    select(ModuleUpdateRow.calls, ModuleUpdateRow.failures).where(
                        ModuleUpdateRow.id == update_id, ModuleUpdateRow.status == "watching"
                    )
                ).first()
            else:
                found = session.execute(
                    update(ModuleUpdateRow)
                    .where(ModuleUpdateRow.id == update_id, ModuleUpdateRow.status == "watching")
                    .values(calls=ModuleUpdateRow.calls + calls, failures=ModuleUpdateRow.failures + failures)
                    .returning(ModuleUpdateRow.calls, ModuleUpdateRow.failures)
                ).first()
            return None if found is None else (int(found[0]), int(found[1]))

    def decide(
        self, update_id: int, status: UpdateStatus, reason: str | None, calls: int, failures: int
    ) -> bool:
        """Close a `watching` window; False when another host (or command) closed it first."""
        with self.database.session() as session:
            result = session.execute(
                update(ModuleUpdateRow)
                .where(ModuleUpdateRow.id == update_id, ModuleUpdateRow.status == "watching")
                .values(status=status, reason=reason, calls=calls, failures=failures, decided_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark(self, update_id: int, status: UpdateStatus, reason: str | None = None) -> None:
        """A decided window's later state (`failed` -> `rolled-back`)."""
        with self.database.session() as session:
            values: dict[str, object] = {"status": status}
            if reason is not None:
                values["reason"] = reason
            session.execute(update(ModuleUpdateRow).where(ModuleUpdateRow.id == update_id).values(**values))

    def close_open(self, module: str, status: UpdateStatus, reason: str) -> None:
        """A rollback or removal by hand ends the module's open window."""
        with self.database.session() as session:
            session.execute(
                update(ModuleUpdateRow)
                .where(ModuleUpdateRow.module == module, ModuleUpdateRow.status == "watching")
                .values(status=status, reason=reason, decided_at=utcnow())
            )

    def close_stale(self, installed: dict[str, tuple[str, str]]) -> list[str]:
        """Windows of updates that never committed (killed before their journal): the installed
        module is not the version they watch. Run under the project lock, before a command; returns
        the modules whose window was closed."""
        closed = []
        for module, record in self.watching().items():
            if installed.get(module) != (record.to_version, record.to_digest):
                reason = "the update was interrupted before it changed anything"
                if self.decide(record.id, "failed", reason, record.calls, record.failures):
                    closed.append(module)
        return closed

    def latest(self) -> dict[str, UpdateRecord]:
        """Module -> its most recent update."""
        with self.database.session() as session:
            rows = session.scalars(select(ModuleUpdateRow).order_by(ModuleUpdateRow.id))
            return {row.module: UpdateRecord.of(row) for row in rows}
