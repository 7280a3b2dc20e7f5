"""Running a module's migrations: each one in its own transaction, tracked per module.

State lives in `trafi_module_migrations` (module, migration id, checksum, the
down SQL as applied, when, by which module version). Moving a module to the
migrations of a version (`sync`) first reverts applied migrations that version
does not ship (newest first, with the down SQL stored when they were applied:
a rollback to an older version still reverts what the newer one created), then
applies the missing ones in order. A changed checksum of an applied migration is
refused before anything runs. Both SQLite and PostgreSQL run DDL inside a
transaction, so a failing statement leaves the schema and the state as they
were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Connection, Engine, delete, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from ...db.schema import DB_ROWS, MIGRATIONS
from ...errors import MigrationError
from .migration_files import Migration
from .migration_sql import compile_statement, parse_migration
from .naming import TENANT_COLUMN, owns

Direction = Literal["up", "down"]


@dataclass(frozen=True)
class AppliedMigration:
    id: str
    checksum: str
    applied_at: datetime
    applied_version: str
    up_sql: str
    down_sql: str


@dataclass(frozen=True)
class Step:
    direction: Direction
    id: str


@dataclass(frozen=True)
class MigrationStatus:
    id: str
    applied: AppliedMigration | None
    shipped: bool  # the module's files have it
    changed: bool  # applied with another checksum than the files have


class MigrationRunner:
    def __init__(self, engine: Engine, on_schema_change: Callable[[str], None] | None = None) -> None:
        self.engine = engine
        self._on_schema_change = on_schema_change

    def applied(self, module: str) -> list[AppliedMigration]:
        table = MIGRATIONS
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table).where(table.c.module == module).order_by(table.c.migration_id)
            ).all()
        return [
            AppliedMigration(
                r.migration_id, r.checksum, r.applied_at, r.applied_version, r.up_sql, r.down_sql
            )
            for r in rows
        ]

    def status(self, module: str, migrations: Sequence[Migration]) -> list[MigrationStatus]:
        applied = {a.id: a for a in self.applied(module)}
        shipped = {m.id: m for m in migrations}
        return [
            MigrationStatus(
                id,
                applied.get(id),
                id in shipped,
                id in applied and id in shipped and applied[id].checksum != shipped[id].checksum,
            )
            for id in sorted(applied.keys() | shipped.keys())
        ]

    def plan(
        self, module: str, migrations: Sequence[Migration], *, to: str | None = None, down: bool = False
    ) -> list[Step]:
        """The steps that bring the module to `to` (default: every shipped migration; with
        `down`, `to` is the last one kept, None reverting all). Refuses changed checksums."""
        applied = {a.id: a for a in self.applied(module)}
        shipped = {m.id: m for m in migrations}
        changed = [i for i in applied if i in shipped and applied[i].checksum != shipped[i].checksum]
        if changed:
            raise MigrationError(
                f"module {module}: migration {changed[0]} was changed after it was applied "
                f"(checksum {applied[changed[0]].checksum[:12]} applied, "
                f"{shipped[changed[0]].checksum[:12]} shipped); ship the change as a new migration"
            )
        if to is not None and to not in shipped and to not in applied:
            raise MigrationError(f"module {module}: no migration {to!r}")
        if down:
            return [Step("down", i) for i in sorted(applied, reverse=True) if to is None or i > to]
        steps = [Step("down", i) for i in sorted(applied, reverse=True) if i not in shipped]
        if to is not None:
            steps += [Step("down", i) for i in sorted(applied, reverse=True) if i > to and i in shipped]
        steps += [Step("up", m.id) for m in migrations if m.id not in applied and (to is None or m.id <= to)]
        return steps

    def sync(
        self,
        module: str,
        version: str,
        migrations: Sequence[Migration],
        *,
        to: str | None = None,
        down: bool = False,
    ) -> list[Step]:
        """Runs the plan, one transaction per step, all or nothing: when a step fails, the steps
        done before it are undone (newest first) and MigrationError says which failed."""
        steps = self.plan(module, migrations, to=to, down=down)
        shipped = {m.id: m for m in migrations}
        before = {a.id: a for a in self.applied(module)}
        done: list[Step] = []
        try:
            for step in steps:
                if step.direction == "up":
                    self._apply(module, version, _from_files(shipped[step.id]))
                else:
                    self._revert(module, before[step.id])
                done.append(step)
        except MigrationError:
            self.undo(module, done, before, shipped)
            raise
        finally:
            if steps and self._on_schema_change is not None:
                self._on_schema_change(module)
        return steps

    def undo(
        self,
        module: str,
        done: Sequence[Step],
        before: dict[str, AppliedMigration],
        shipped: dict[str, Migration],
    ) -> None:
        """Reverses `done` (steps of one sync), newest first: the schema is back where it was."""
        now = {a.id: a for a in self.applied(module)}
        for step in reversed(done):
            if step.direction == "up":
                self._revert(module, now[step.id])
            else:
                previous = before[step.id]
                self._apply(module, previous.applied_version, previous)

    def remove_all(self, module: str) -> list[Step]:
        """Reverts every applied migration (newest first) and forgets the module's row counts."""
        steps = self.sync(module, "", [], down=True)
        with self.engine.begin() as connection:
            connection.execute(delete(DB_ROWS).where(DB_ROWS.c.module == module))
        return steps

    def _statements(self, module: str, sql: str, source: str) -> list[tuple[int, str]]:
        """(line, statement) pairs as this database runs them."""
        dialect = self.engine.dialect.name
        parsed = parse_migration(module, sql, source)
        return [(s.line, compiled) for s in parsed for compiled in compile_statement(module, s, dialect)]

    def _apply(self, module: str, version: str, migration: AppliedMigration) -> None:
        statements = self._statements(module, migration.up_sql, f"{migration.id}.up.sql")
        with schema_transaction(self.engine) as connection:
            if _is_applied(connection, module, migration.id):
                return  # another host process applied it first
            _run(connection, module, migration.id, "up", statements)
            connection.execute(
                insert(MIGRATIONS).values(
                    module=module,
                    migration_id=migration.id,
                    checksum=migration.checksum,
                    up_sql=migration.up_sql,
                    down_sql=migration.down_sql,
                    applied_at=datetime.now(UTC),
                    applied_version=version,
                )
            )
            _recount(connection, module)

    def _revert(self, module: str, applied: AppliedMigration) -> None:
        statements = self._statements(module, applied.down_sql, f"{applied.id}.down.sql (as applied)")
        with schema_transaction(self.engine) as connection:
            if not _is_applied(connection, module, applied.id):
                return  # another host process reverted it first
            _run(connection, module, applied.id, "down", statements)
            connection.execute(
                delete(MIGRATIONS).where(
                    MIGRATIONS.c.module == module, MIGRATIONS.c.migration_id == applied.id
                )
            )
            _recount(connection, module)


def _from_files(migration: Migration) -> AppliedMigration:
    return AppliedMigration(
        migration.id, migration.checksum, datetime.now(UTC), "", migration.up_sql, migration.down_sql
    )


def _is_applied(connection: Connection, module: str, migration: str) -> bool:
    """Under the module's migration lock: whether `migration` is applied now."""
    _lock_module(connection, module)
    found = connection.execute(
        select(MIGRATIONS.c.checksum).where(
            MIGRATIONS.c.module == module, MIGRATIONS.c.migration_id == migration
        )
    ).first()
    return found is not None


def _lock_module(connection: Connection, module: str) -> None:
    """One migration of a module at a time across host processes (SQLite: BEGIN IMMEDIATE did)."""
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(f"trafi-migrate:{module}".encode()).digest()[:8], "big", signed=True
        )
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _run(
    connection: Connection, module: str, migration: str, direction: str, statements: list[tuple[int, str]]
) -> None:
    for line, sql in statements:
        try:
            connection.exec_driver_sql(sql)
        except DBAPIError as error:
            reason = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
            raise MigrationError(
                f"module {module}: migration {migration} ({direction}) failed at "
                f"{migration}.{direction}.sql:{line} ({sql[:80]}...): {reason}; nothing of it was applied"
            ) from None


def _recount(connection: Connection, module: str) -> None:
    """Row counts per tenant from the tables themselves: a migration may have dropped some."""
    counts: dict[str, int] = {}
    inspector = inspect(connection)
    for name in (n for n in inspector.get_table_names() if owns(module, n)):
        columns = {c["name"] for c in inspector.get_columns(name)}
        if TENANT_COLUMN not in columns:
            continue
        for tenant, rows in connection.execute(
            text(f'SELECT "{TENANT_COLUMN}", count(*) FROM "{name}" GROUP BY "{TENANT_COLUMN}"')
        ):
            counts[tenant] = counts.get(tenant, 0) + int(rows)
    table = DB_ROWS
    connection.execute(delete(table).where(table.c.module == module))
    if counts:
        connection.execute(
            insert(table), [{"module": module, "tenant_id": t, "rows": n} for t, n in counts.items()]
        )


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that DDL joins on both databases.

    Python's sqlite3 module begins transactions only before INSERT/UPDATE/DELETE,
    so DDL would commit statement by statement; for a migration the connection
    runs in the driver's autocommit mode with an explicit BEGIN instead.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        driver = connection.connection.driver_connection
        assert driver is not None
        previous = driver.isolation_level  # type: ignore[attr-defined]
        driver.isolation_level = None  # type: ignore[attr-defined]
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        finally:
            connection.commit()  # ends SQLAlchemy's own bookkeeping; the driver has nothing open
            driver.isolation_level = previous  # type: ignore[attr-defined]


__all__ = [
    "AppliedMigration",
    "MigrationError",
    "MigrationRunner",
    "MigrationStatus",
    "Step",
    "schema_transaction",
]
