"""What each running host process reports about its modules: status, error and load time.

Written to the database whenever a host's module set changes, so `trafi
module list` (which starts nothing) can show failures only a start reveals
(an `init` that traps) and load times, with the host that saw them. A host
that stops cleanly withdraws its rows; one that dies leaves them, dated.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Float, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from .db.engine import Database
from .db.schema import Base, utcnow


class ModuleLoadRow(Base):
    __tablename__ = "trafi_module_loads"

    host: Mapped[str] = mapped_column(String(200), primary_key=True)
    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    load_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class LoadReport:
    host: str
    module: str
    version: str
    status: str  # loaded | disabled | failed | quarantined
    error: str | None
    load_ms: float | None
    reported_at: datetime


def this_host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LoadReports:
    def __init__(self, database: Database, host: str | None = None) -> None:
        self.database = database
        self.host = host or this_host()

    def report(self, states: Iterable[LoadReport]) -> None:
        """Replace this host's rows with `states` (one transaction)."""
        with self.database.session() as session:
            session.execute(delete(ModuleLoadRow).where(ModuleLoadRow.host == self.host))
            session.add_all(
                ModuleLoadRow(
                    host=self.host,
                    module=state.module,
                    version=state.version,
                    status=state.status,
                    error=state.error,
                    load_ms=state.load_ms,
                    reported_at=utcnow(),
                )
                for state in states
            )

    def withdraw(self) -> None:
        with self.database.session() as session:
            session.execute(delete(ModuleLoadRow).where(ModuleLoadRow.host == self.host))


def latest_reports(database: Database) -> dict[str, LoadReport]:
    """The newest report of each module, whichever host made it."""
    latest: dict[str, LoadReport] = {}
    with database.session() as session:
        for row in session.scalars(select(ModuleLoadRow).order_by(ModuleLoadRow.reported_at)):
            latest[row.module] = LoadReport(
                row.host, row.module, row.version, row.status, row.error, row.load_ms, row.reported_at
            )
    return latest
