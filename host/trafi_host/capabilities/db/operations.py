"""The module's typed operations as SQLAlchemy Core statements, always within one tenant.

Tables are reflected from the database (what the module's migrations made),
cached per module until its schema changes. Every statement is built here with
the tenant condition added by the host: an insert sets the tenant column, every
select, update, delete and count filters on it, and the column itself is never
readable or writable through an operation. A foreign key value must name a row
of the same tenant (checked before the write), so a module cannot attach its
rows to another tenant's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, Table, and_, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from ...db.schema import DB_ROWS
from .naming import RESERVED_COLUMN_PREFIX, TENANT_COLUMN, full_name, owns

MAX_RESULT_ROWS = 1000
MAX_RESULT_BYTES = 4 << 20


class OperationError(Exception):
    """Refused by the host; `case` is the host-error case the module gets."""

    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    table: str
    columns: tuple[str, ...]
    where: tuple[Filter, ...]
    order_by: tuple[tuple[str, bool], ...]  # (column, descending)
    limit: int | None
    offset: int


@dataclass(frozen=True)
class Insert:
    table: str
    values: tuple[tuple[str, Any], ...]
    returning: tuple[str, ...]


@dataclass(frozen=True)
class Update:
    table: str
    set: tuple[tuple[str, Any], ...]
    where: tuple[Filter, ...]


@dataclass(frozen=True)
class Delete:
    table: str
    where: tuple[Filter, ...]


Operation = Insert | Update | Delete


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[list[Any]]


class ModuleTables:
    """Reflected tables per module, refreshed when its migrations move (`invalidate`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._tables: dict[str, dict[str, Table]] = {}

    def invalidate(self, module: str) -> None:
        with self._lock:
            self._tables.pop(module, None)

    def of(self, module: str) -> dict[str, Table]:
        with self._lock:
            found = self._tables.get(module)
        if found is not None:
            return found
        metadata = MetaData()
        metadata.reflect(self.engine, only=lambda name, _meta: owns(module, name))
        tables = {name: table for name, table in metadata.tables.items() if TENANT_COLUMN in table.c}
        with self._lock:
            self._tables[module] = tables
        return tables

    def table(self, module: str, name: str) -> Table:
        table = self.of(module).get(full_name(module, name))
        if table is None:
            raise OperationError("not-found", f"module {module} has no table {name!r}")
        return table


def column(table: Table, name: str) -> Column[Any]:
    if name.lower().startswith(RESERVED_COLUMN_PREFIX) or name not in table.c:
        raise OperationError("not-found", f"table {table.name} has no column {name!r}")
    return table.c[name]


def visible_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.c if not c.name.startswith(RESERVED_COLUMN_PREFIX)]


def _condition(table: Table, tenant: str, where: Sequence[Filter]) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [table.c[TENANT_COLUMN] == tenant]
    for item in where:
        target = column(table, item.column)
        values = item.values
        if item.op in ("is-null", "is-not-null"):
            if values:
                raise OperationError("invalid-argument", f"{item.op} on {item.column} takes no value")
            conditions.append(target.is_(None) if item.op == "is-null" else target.is_not(None))
        elif item.op == "in-list":
            if not values:
                raise OperationError("invalid-argument", f"in-list on {item.column} needs values")
            conditions.append(target.in_(values))
        else:
            if len(values) != 1:
                raise OperationError("invalid-argument", f"{item.op} on {item.column} takes one value")
            value = values[0]
            match item.op:
                case "eq":
                    conditions.append(target.is_(None) if value is None else target == value)
                case "ne":
                    conditions.append(target.is_not(None) if value is None else target != value)
                case "lt":
                    conditions.append(target < value)
                case "le":
                    conditions.append(target <= value)
                case "gt":
                    conditions.append(target > value)
                case "ge":
                    conditions.append(target >= value)
                case "like":
                    if not isinstance(value, str):
                        raise OperationError("invalid-argument", f"like on {item.column} needs a text")
                    conditions.append(target.like(value))
                case _:
                    raise OperationError("invalid-argument", f"unknown comparison {item.op!r}")
    return and_(*conditions)


def _assignments(table: Table, pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in pairs:
        column(table, name)
        if name in values:
            raise OperationError("invalid-argument", f"column {name!r} given twice")
        values[name] = value
    return values


def _check_references(connection: Connection, table: Table, tenant: str, values: dict[str, Any]) -> None:
    for key in table.foreign_keys:
        local = key.parent.name
        if values.get(local) is None:
            continue
        parent = key.column.table
        found = connection.execute(
            select(1)
            .select_from(parent)
            .where(key.column == values[local], parent.c[TENANT_COLUMN] == tenant)
            .limit(1)
        ).first()
        if found is None:
            raise OperationError(
                "invalid-argument",
                f"{table.name}.{local}: no row in {parent.name} with {key.column.name} = {values[local]!r}",
            )


def _count_rows(connection: Connection, module: str, tenant: str, delta: int, quota: int | None) -> None:
    """Moves the tenant's row counter in the operation's transaction; past the quota, refuses."""
    if delta == 0:
        return
    table = DB_ROWS
    upsert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)
    connection.execute(
        upsert.values(module=module, tenant_id=tenant, rows=max(delta, 0)).on_conflict_do_update(
            index_elements=[table.c.module, table.c.tenant_id], set_={"rows": table.c.rows + delta}
        )
    )
    if quota is not None and delta > 0:
        rows = connection.execute(
            select(table.c.rows).where(table.c.module == module, table.c.tenant_id == tenant)
        ).scalar_one()
        if rows > quota:
            raise OperationError(
                "limit-exceeded", f"module {module} may keep {quota} rows per tenant (permissions.db)"
            )


@dataclass
class RowChanges:
    """How a transaction moved the tenant's row count: settled once, at its end (`settle`)."""

    delta: int = 0
    recount: bool = False  # a cascade may have removed rows the delta does not know of


def settle(
    connection: Connection,
    tables: ModuleTables,
    module: str,
    tenant: str,
    changes: RowChanges,
    quota: int | None,
) -> None:
    """Moves the tenant's row counter in the transaction; past the quota, refuses (rolls it back)."""
    if changes.recount:
        total = _recount_tenant(connection, tables, module, tenant)
        if quota is not None and changes.delta > 0 and total > quota:
            raise OperationError(
                "limit-exceeded", f"module {module} may keep {quota} rows per tenant (permissions.db)"
            )
    elif changes.delta:
        _count_rows(connection, module, tenant, changes.delta, quota)


def insert(
    connection: Connection, tables: ModuleTables, module: str, tenant: str, op: Insert, changes: RowChanges
) -> list[Any]:
    table = tables.table(module, op.table)
    values = _assignments(table, op.values)
    returning = [column(table, name) for name in op.returning]
    _check_references(connection, table, tenant, values)
    statement = sql_insert(table).values({**values, TENANT_COLUMN: tenant})
    if returning:
        row = connection.execute(statement.returning(*returning)).one()
        result = list(row)
    else:
        connection.execute(statement)
        result = []
    changes.delta += 1
    return result


def update(connection: Connection, tables: ModuleTables, module: str, tenant: str, op: Update) -> int:
    table = tables.table(module, op.table)
    values = _assignments(table, op.set)
    if not values:
        raise OperationError("invalid-argument", "update sets no column")
    _check_references(connection, table, tenant, values)
    result = connection.execute(sql_update(table).where(_condition(table, tenant, op.where)).values(values))
    return int(result.rowcount)


def delete(
    connection: Connection, tables: ModuleTables, module: str, tenant: str, op: Delete, changes: RowChanges
) -> int:
    table = tables.table(module, op.table)
    result = connection.execute(sql_delete(table).where(_condition(table, tenant, op.where)))
    deleted = int(result.rowcount)
    changes.delta -= deleted
    if any(k.column.table is table for t in tables.of(module).values() for k in t.foreign_keys):
        changes.recount = True
    return deleted


def _recount_tenant(connection: Connection, tables: ModuleTables, module: str, tenant: str) -> int:
    total = 0
    for table in tables.of(module).values():
        total += connection.execute(
            select(func.count()).select_from(table).where(table.c[TENANT_COLUMN] == tenant)
        ).scalar_one()
    rows = DB_ROWS
    connection.execute(
        sql_update(rows).where(rows.c.module == module, rows.c.tenant_id == tenant).values(rows=total)
    )
    return total


def count(
    connection: Connection,
    tables: ModuleTables,
    module: str,
    tenant: str,
    table_name: str,
    where: Sequence[Filter],
) -> int:
    table = tables.table(module, table_name)
    statement = select(func.count()).select_from(table).where(_condition(table, tenant, where))
    return int(connection.execute(statement).scalar_one())


def select_rows(connection: Connection, tables: ModuleTables, module: str, tenant: str, query: Query) -> Rows:
    table = tables.table(module, query.table)
    columns = [column(table, name) for name in query.columns] or visible_columns(table)
    limit = min(query.limit if query.limit is not None else MAX_RESULT_ROWS, MAX_RESULT_ROWS)
    statement = select(*columns).where(_condition(table, tenant, query.where))
    for name, descending in query.order_by:
        target = column(table, name)
        statement = statement.order_by(target.desc() if descending else target.asc())
    statement = statement.limit(limit).offset(query.offset)
    return bounded([c.name for c in columns], connection.execute(statement))


def bounded(columns: list[str], result: Any) -> Rows:
    """The rows, refusing a result past the size cap instead of building it whole."""
    # One row past the cap is enough to know it is past.
    rows = [list(row) for row in result.fetchmany(MAX_RESULT_ROWS + 1)]
    total = sum(len(v) if isinstance(v, str | bytes) else 8 for row in rows for v in row)
    if len(rows) > MAX_RESULT_ROWS or total > MAX_RESULT_BYTES:
        raise OperationError(
            "limit-exceeded",
            f"result larger than {MAX_RESULT_ROWS} rows or {MAX_RESULT_BYTES} bytes: page it "
            "with limit and offset",
        )
    return Rows(columns, rows)


@contextmanager
def statement_deadline(connection: Connection, seconds: float) -> Iterator[None]:
    """Interrupts a statement still running after `seconds` (the call's remaining time)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
        yield
        return
    import time

    driver = connection.connection.driver_connection
    assert driver is not None
    ends = time.monotonic() + seconds
    # Called every N SQLite VM instructions; a non-zero answer interrupts the statement.
    driver.set_progress_handler(lambda: int(time.monotonic() > ends), 10_000)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        driver.set_progress_handler(None, 0)  # type: ignore[attr-defined]


__all__ = [
    "MAX_RESULT_BYTES",
    "MAX_RESULT_ROWS",
    "Delete",
    "Filter",
    "Insert",
    "ModuleTables",
    "Operation",
    "OperationError",
    "Query",
    "RowChanges",
    "Rows",
    "Update",
    "bounded",
    "count",
    "delete",
    "insert",
    "select_rows",
    "settle",
    "statement_deadline",
    "update",
]
