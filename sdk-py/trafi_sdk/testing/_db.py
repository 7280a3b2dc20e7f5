"""The module database on SQLite in memory: the module's own migrations, one database per tenant.

The host runs a module's PostgreSQL-flavoured migrations on SQLite (its embedded
default) or PostgreSQL; this fake applies the `.up.sql` files to an in-memory
SQLite database (with the few rewrites SQLite needs: `SERIAL PRIMARY KEY` is
`INTEGER PRIMARY KEY AUTOINCREMENT`), enforces foreign keys and CHECKs, and
answers with the host's errors: `not-found` for an unknown table or column,
`invalid-argument` for a value a constraint refuses, `limit-exceeded` past
`maxRowsPerTenant`, `access-denied` without `permissions.db`. Each tenant has
its own database, as each has its own rows in the host.

Shaped like the generated `db` bindings: the value variants, `Filter`,
`Query`, the operations and `Rows` are dataclasses named as there.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ._host_errors import refuse
from ._manifest import ManifestFacts

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_OPERATIONS = 100


@dataclass
class Value_Null:
    pass


@dataclass
class Value_Boolean:
    value: bool


@dataclass
class Value_Integer:
    value: int


@dataclass
class Value_Float:
    value: float


@dataclass
class Value_Text:
    value: str


@dataclass
class Value_Bytes:
    value: bytes


@dataclass
class Value_Timestamp:
    value: int  # microseconds since the epoch


class Comparison(enum.Enum):
    EQ = 0
    NE = 1
    LT = 2
    LE = 3
    GT = 4
    GE = 5
    LIKE = 6
    IN_LIST = 7
    IS_NULL = 8
    IS_NOT_NULL = 9


@dataclass
class Filter:
    column: str
    op: Comparison
    values: list[Any]


@dataclass
class Order:
    column: str
    descending: bool


@dataclass
class Query:
    table: str
    columns: list[str]
    where: list[Filter]
    order_by: list[Order]
    limit: int | None
    offset: int


@dataclass
class Rows:
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class InsertOp:
    table: str
    values: list[tuple[str, Any]]
    returning: list[str]


@dataclass
class UpdateOp:
    table: str
    set: list[tuple[str, Any]]
    where: list[Filter]


@dataclass
class DeleteOp:
    table: str
    where: list[Filter]


@dataclass
class Operation_Insert:
    value: InsertOp


@dataclass
class Operation_Update:
    value: UpdateOp


@dataclass
class Operation_Delete:
    value: DeleteOp


@dataclass
class Outcome:
    affected: int
    returned: list[Any]


_SQL_OPS = {
    Comparison.EQ: "=",
    Comparison.NE: "!=",
    Comparison.LT: "<",
    Comparison.LE: "<=",
    Comparison.GT: ">",
    Comparison.GE: ">=",
    Comparison.LIKE: "LIKE",
}
_SERIAL_KEY = re.compile(r"\b(BIG|SMALL)?SERIAL\s+PRIMARY\s+KEY\b", re.I)
_SERIAL = re.compile(r"\b(BIG|SMALL)?SERIAL\b", re.I)


def sqlite_migration(sql: str) -> str:
    """A PostgreSQL-flavoured migration as SQLite runs it (the host compiles it with sqlglot)."""
    return _SERIAL.sub("INTEGER", _SERIAL_KEY.sub("INTEGER PRIMARY KEY AUTOINCREMENT", sql))


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _prisma_up_sql(module: str, path: Path) -> str:
    """The host's own translation of a `schema.prisma` fragment: one translator, so the tables
    a test sees are the tables the host creates."""
    try:
        from trafi_host.capabilities.db.prisma import prisma_migration
    except ImportError as error:
        raise RuntimeError(
            f"{path}: translating schema.prisma needs the Trafi host package (the `trafi` CLI) "
            "installed beside trafi_sdk"
        ) from error
    return prisma_migration(module, path.read_text(encoding="utf-8"), str(path)).up


class _Failed(Exception):
    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # the declared type, upper case


class FakeDb:
    """The module's tables on SQLite in memory, one database per tenant, its migrations applied.

    Example:

        reviews = ModuleHarness("modules/reviews")
        reviews.post("/v1/products/p1/reviews", json={"author": "ann", "rating": 5})
        rows = reviews.db.connection().execute("SELECT author FROM mod_reviews__review").fetchall()
    """

    _binding_functions: ClassVar[frozenset[str]] = frozenset(
        {"insert", "update", "delete", "select", "count", "transaction", "query_sql"}
    )

    def __init__(self, manifest: ManifestFacts, tenant_of: Any) -> None:
        self._manifest = manifest
        self._tenant_of = tenant_of  # () -> the calling tenant
        self._databases: dict[str, sqlite3.Connection] = {}
        self.prefix = f"mod_{manifest.name.replace('-', '_')}__"

    # -- per-tenant databases -------------------------------------------------

    def connection(self, tenant: str | None = None) -> sqlite3.Connection:
        """The tenant's database (created and migrated on first use); a test may read it directly.

        Example:

            database = harness.db.connection("test-tenant")
            (count,) = database.execute("SELECT count(*) FROM mod_reviews__review").fetchone()
        """
        tenant = tenant or self._tenant_of()
        found = self._databases.get(tenant)
        if found is None:
            found = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            found.execute("PRAGMA foreign_keys = ON")
            for script in self._migration_scripts():
                found.executescript(sqlite_migration(script))
            self._databases[tenant] = found
        return found

    def _migration_scripts(self) -> list[str]:
        """The up SQL of every migration, in the host's order: the Prisma fragment first."""
        folder = self._manifest.folder / self._manifest.migrations
        scripts: list[str] = []
        prisma = folder / "schema.prisma"
        if prisma.is_file():
            scripts.append(_prisma_up_sql(self._manifest.name, prisma))
        scripts += [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.up.sql"))]
        return scripts

    def _columns(self, connection: sqlite3.Connection, table: str) -> dict[str, _Column]:
        rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
        return {row[1]: _Column(row[1], str(row[2]).upper()) for row in rows}

    def _table(self, connection: sqlite3.Connection, name: str) -> tuple[str, dict[str, _Column]]:
        full = name if name.startswith(self.prefix) else self.prefix + name
        columns = self._columns(connection, full)
        if not columns:
            raise _Failed("not-found", f"module {self._manifest.name} has no table {name!r}")
        return full, columns

    @staticmethod
    def _column(table: str, columns: dict[str, _Column], name: str) -> _Column:
        if name not in columns:
            raise _Failed("not-found", f"table {table} has no column {name!r}")
        return columns[name]

    # -- values ---------------------------------------------------------------

    @staticmethod
    def _to_sql(value: Any) -> Any:
        if isinstance(value, Value_Null):
            return None
        if isinstance(value, Value_Boolean):
            return 1 if value.value else 0
        if isinstance(value, Value_Timestamp):
            moment = EPOCH + dt.timedelta(microseconds=value.value)
            return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value.value

    @staticmethod
    def _from_sql(value: Any, column: _Column | None) -> Any:
        if value is None:
            return Value_Null()
        kind = column.kind if column else ""
        if "BOOL" in kind:
            return Value_Boolean(bool(value))
        if "TIMESTAMP" in kind or "DATETIME" in kind:
            moment = dt.datetime.fromisoformat(str(value))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            return Value_Timestamp((moment - EPOCH) // dt.timedelta(microseconds=1))
        if isinstance(value, bool):
            return Value_Boolean(value)
        if isinstance(value, int):
            return Value_Integer(value)
        if isinstance(value, float):
            return Value_Float(value)
        if isinstance(value, bytes):
            return Value_Bytes(value)
        return Value_Text(str(value))

    def _where(
        self, table: str, columns: dict[str, _Column], filters: Sequence[Filter]
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for item in filters:
            self._column(table, columns, item.column)
            name = f'"{item.column}"'
            if item.op in (Comparison.IS_NULL, Comparison.IS_NOT_NULL):
                if item.values:
                    raise _Failed(
                        "invalid-argument",
                        f"{item.op.name.lower().replace('_', '-')} on {item.column} takes no value",
                    )
                clauses.append(f"{name} IS {'NOT ' if item.op is Comparison.IS_NOT_NULL else ''}NULL")
            elif item.op is Comparison.IN_LIST:
                if not item.values:
                    raise _Failed("invalid-argument", f"in-list on {item.column} needs values")
                clauses.append(f"{name} IN ({', '.join('?' for _ in item.values)})")
                params += [self._to_sql(v) for v in item.values]
            else:
                if len(item.values) != 1:
                    raise _Failed(
                        "invalid-argument", f"{item.op.name.lower()} on {item.column} takes one value"
                    )
                clauses.append(f"{name} {_SQL_OPS[item.op]} ?")
                params.append(self._to_sql(item.values[0]))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    # -- the binding's functions ----------------------------------------------

    def _run(self, work: Any) -> Any:
        if not self._manifest.db:
            raise refuse(
                "access-denied", f"module {self._manifest.name} has no 'db' permission in its manifest"
            )
        connection = self.connection()
        connection.execute("BEGIN")
        try:
            result = work(connection)
            self._check_quota(connection)
        except _Failed as failed:
            connection.execute("ROLLBACK")
            raise refuse(failed.case, str(failed)) from None
        except sqlite3.IntegrityError as error:
            connection.execute("ROLLBACK")
            raise refuse("invalid-argument", str(error)) from None
        except sqlite3.Error as error:
            connection.execute("ROLLBACK")
            raise refuse("invalid-argument", str(error)) from None
        connection.execute("COMMIT")
        return result

    def _check_quota(self, connection: sqlite3.Connection) -> None:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
                (self.prefix.replace("_", "\\_") + "%",),
            )
        ]
        total = sum(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
        if total > self._manifest.max_rows_per_tenant:
            raise _Failed(
                "limit-exceeded",
                f"module {self._manifest.name} may keep {self._manifest.max_rows_per_tenant} rows per tenant",
            )

    def _insert(self, connection: sqlite3.Connection, op: InsertOp) -> tuple[int, list[Any]]:
        table, columns = self._table(connection, op.table)
        names = [self._column(table, columns, name).name for name, _ in op.values]
        if len(set(names)) != len(names):
            raise _Failed("invalid-argument", "a column is given twice")
        for name in op.returning:
            self._column(table, columns, name)
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = (
            f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _ in names)})'
            if names
            else f'INSERT INTO "{table}" DEFAULT VALUES'
        )
        cursor = connection.execute(sql, [self._to_sql(v) for _, v in op.values])
        returned: list[Any] = []
        if op.returning:
            row = connection.execute(
                f'SELECT {_quoted(op.returning)} FROM "{table}" WHERE rowid = ?',
                (cursor.lastrowid,),
            ).fetchone()
            returned = [self._from_sql(v, columns[n]) for n, v in zip(op.returning, row, strict=True)]
        return 1, returned

    def _update(self, connection: sqlite3.Connection, op: UpdateOp) -> int:
        table, columns = self._table(connection, op.table)
        if not op.set:
            raise _Failed("invalid-argument", "update sets no column")
        sets = ", ".join(f'"{self._column(table, columns, name).name}" = ?' for name, _ in op.set)
        where, params = self._where(table, columns, op.where)
        cursor = connection.execute(
            f'UPDATE "{table}" SET {sets}{where}', [self._to_sql(v) for _, v in op.set] + params
        )
        return cursor.rowcount

    def _delete(self, connection: sqlite3.Connection, op: DeleteOp) -> int:
        table, columns = self._table(connection, op.table)
        where, params = self._where(table, columns, op.where)
        return connection.execute(f'DELETE FROM "{table}"{where}', params).rowcount

    def insert(self, op: InsertOp) -> list[Any]:
        return self._run(lambda c: self._insert(c, op)[1])  # type: ignore[no-any-return]

    def update(self, op: UpdateOp) -> int:
        return self._run(lambda c: self._update(c, op))  # type: ignore[no-any-return]

    def delete(self, op: DeleteOp) -> int:
        return self._run(lambda c: self._delete(c, op))  # type: ignore[no-any-return]

    def select(self, query: Query) -> Rows:
        def work(connection: sqlite3.Connection) -> Rows:
            table, columns = self._table(connection, query.table)
            wanted = list(query.columns) or list(columns)
            for name in wanted:
                self._column(table, columns, name)
            where, params = self._where(table, columns, query.where)
            order = ", ".join(
                f'"{self._column(table, columns, o.column).name}" {"DESC" if o.descending else "ASC"}'
                for o in query.order_by
            )
            sql = f'SELECT {_quoted(wanted)} FROM "{table}"{where}'
            sql += f" ORDER BY {order}" if order else ""
            sql += f" LIMIT {int(query.limit) if query.limit is not None else -1} OFFSET {int(query.offset)}"
            rows = connection.execute(sql, params).fetchall()
            return Rows(
                wanted,
                [[self._from_sql(v, columns[n]) for n, v in zip(wanted, row, strict=True)] for row in rows],
            )

        return self._run(work)  # type: ignore[no-any-return]

    def count(self, table_name: str, filters: list[Filter]) -> int:
        def work(connection: sqlite3.Connection) -> int:
            table, columns = self._table(connection, table_name)
            where, params = self._where(table, columns, filters)
            counted: int = connection.execute(f'SELECT count(*) FROM "{table}"{where}', params).fetchone()[0]
            return counted

        return self._run(work)  # type: ignore[no-any-return]

    def transaction(self, operations: list[Any]) -> list[Outcome]:
        if len(operations) > MAX_OPERATIONS:
            raise refuse("limit-exceeded", f"a transaction runs at most {MAX_OPERATIONS} operations")

        def work(connection: sqlite3.Connection) -> list[Outcome]:
            outcomes: list[Outcome] = []
            for index, operation in enumerate(operations):
                try:
                    if isinstance(operation, Operation_Insert):
                        affected, returned = self._insert(connection, operation.value)
                        outcomes.append(Outcome(affected, returned))
                    elif isinstance(operation, Operation_Update):
                        outcomes.append(Outcome(self._update(connection, operation.value), []))
                    else:
                        outcomes.append(Outcome(self._delete(connection, operation.value), []))
                except _Failed as failed:
                    raise _Failed(failed.case, f"operation {index}: {failed}") from None
                except sqlite3.IntegrityError as error:
                    raise _Failed("invalid-argument", f"operation {index}: {error}") from None
            return outcomes

        return self._run(work)  # type: ignore[no-any-return]

    def query_sql(self, sql: str, params: list[Any]) -> Rows:
        """A read-only SELECT: SQLite's `query_only` refuses any write, as the host's parser does."""

        def work(connection: sqlite3.Connection) -> Rows:
            text = sql.strip().rstrip(";")
            if not re.match(r"(?is)^\s*(select|with)\b", text) or ";" in text:
                raise _Failed("invalid-argument", "query-sql runs one SELECT statement only")
            if re.search(r"\btrafi_", text, re.I):
                raise _Failed("not-found", "trafi_ columns are the host's")
            connection.execute("PRAGMA query_only = ON")
            try:
                cursor = connection.execute(text, [self._to_sql(p) for p in params])
                names = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall()
            finally:
                connection.execute("PRAGMA query_only = OFF")
            return Rows(names, [[self._from_sql(v, None) for v in row] for row in rows])

        return self._run(work)  # type: ignore[no-any-return]


# The binding's types, reached as `wit_db.Value_Null` etc. by trafi_sdk.db (set here, outside
# the class body, where they would shadow the annotations' names).
for _type in (
    Value_Null,
    Value_Boolean,
    Value_Integer,
    Value_Float,
    Value_Text,
    Value_Bytes,
    Value_Timestamp,
    Comparison,
    Filter,
    Order,
    Query,
    Rows,
    InsertOp,
    UpdateOp,
    DeleteOp,
    Operation_Insert,
    Operation_Update,
    Operation_Delete,
    Outcome,
):
    setattr(FakeDb, _type.__name__, _type)
