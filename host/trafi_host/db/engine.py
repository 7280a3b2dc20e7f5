"""Connecting, and bringing the schema to the newest revision with Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import TrafiError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseBusy(TrafiError):
    """The database stayed locked by other writers through every retry: try again shortly."""

    retry_after_seconds = 1


def is_database_busy(error: BaseException) -> bool:
    """SQLite's `database is locked`/`busy`: another writer held the lock past the busy timeout."""
    if not isinstance(error, OperationalError):
        return False
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the HTTP threads read while a module call writes; the timeout
    # makes a writer wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Upgrade the host schema to head; safe to run on every start."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        if self.dialect != "sqlite":
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            return
        # SQLite alters a table by rebuilding it: with foreign keys on, dropping the old
        # table would cascade into (or be refused by) the rows that point at it. The
        # pragma is ignored inside a transaction, so it is set before one begins, and
        # the keys are checked before the migration commits.
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise TrafiError(
                            f"the host schema migration left rows with dangling foreign keys: {broken}"
                        )
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session that will write: on SQLite it takes the write lock first (`BEGIN IMMEDIATE`).

        A deferred SQLite transaction that reads, then writes after another writer
        committed, fails at once with `database is locked` whatever the busy timeout;
        taking the lock up front makes it wait its turn instead.
        """
        with self._sessions() as session, session.begin():
            if self.dialect == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def close(self) -> None:
        """Closes the pooled connections; safe to call again (a later session reconnects)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
