"""`trafi:host/db`: the module's own tables, always the calling tenant's rows.

Declared by `permissions.db` and the migrations the module ships (checked in
`configure`, run by the lifecycle through `migrations.MigrationRunner`). Each
host function turns the WIT values into an operation of `operations.py`, runs
it in one transaction bounded by the call's remaining time, and answers with a
value or a `host-error`; nothing a module sends can trap it or hang the worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from wasmtime import component as wc

from ...manifest.base import PermissionsBase
from ...validation.findings import Finding
from ...wit_values import field, record
from ..base import Capability, HostFunction, InstanceFacts, PermissionSection, host_error, hostcall
from ..call import current_call
from . import operations as ops
from .grant import DbGrant
from .migration_files import problems_of
from .read_sql import run_query
from .values import UnstorableValue, lift, lower

if TYPE_CHECKING:
    from ...manifest.model import Manifest

log = logging.getLogger("trafi.db")
T = TypeVar("T")
# A statement never runs longer than this, even in a call with a longer deadline.
MAX_STATEMENT_SECONDS = 5.0
MAX_OPERATIONS = 100


@dataclass(frozen=True)
class ModuleDatabase:
    """What the capability reaches: the host database and the reflected module tables."""

    engine: Engine
    tables: ops.ModuleTables

    @classmethod
    def on(cls, engine: Engine) -> ModuleDatabase:
        return cls(engine, ops.ModuleTables(engine))


@dataclass(frozen=True)
class DbState:
    grant: DbGrant | None
    database: ModuleDatabase | None


class DbCapability(Capability[DbState]):
    name: ClassVar[str] = "db"
    interface: ClassVar[str | None] = "trafi:host/db"
    since: ClassVar[str] = "0.2.0"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "db",
        DbGrant | None,
        "The module's own tables (`mod_<module>__*`), created by the migrations it ships; "
        "every row belongs to the calling tenant. Without it every `db` call returns `access-denied`.",
    )
    gates_import: ClassVar[bool] = True
    summary: ClassVar[str] = (
        "Tables of the module's own, created by its migrations; typed operations within the calling tenant."
    )

    def __init__(self, database: ModuleDatabase | None = None) -> None:
        self.database = database

    def grant(self, permissions: PermissionsBase) -> DbGrant | None:
        return cast("DbGrant | None", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        if grant is None:
            return {}
        return {f"db: own tables, at most {grant.max_rows_per_tenant} rows per tenant": grant.reason}

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        findings: list[Finding] = []
        migrations = (folder / manifest.migrations).is_dir()
        if migrations and self.grant(manifest.permissions) is None:
            findings.append(
                Finding.of(
                    "TRF-T002",
                    f"{manifest.migrations}/ holds migrations but permissions.db is not asked for",
                    subject="permissions.db",
                )
            )
        if migrations and manifest.wit_version == "0.1.0":
            findings.append(
                Finding.of(
                    "TRF-T002",
                    "the module database needs world trafi:host/module@0.2.0 (the manifest's `world`)",
                    subject="world",
                )
            )
        for problem in problems_of(manifest.name, folder, manifest.migrations):
            findings.append(Finding.of("TRF-T001", problem.message, file=problem.file, line=problem.line))
        return findings

    def prepare(self, facts: InstanceFacts) -> DbState:
        return DbState(self.grant(facts.permissions), self.database)

    def functions(self) -> dict[str, HostFunction]:
        return {
            "insert": hostcall("db.insert", returns_result=True)(self.insert),
            "select": hostcall("db.select", returns_result=True)(self.select),
            "update": hostcall("db.update", returns_result=True)(self.update),
            "delete": hostcall("db.delete", returns_result=True)(self.delete),
            "count": hostcall("db.count", returns_result=True)(self.count),
            "transaction": hostcall("db.transaction", returns_result=True)(self.transaction),
            "query-sql": hostcall("db.query-sql", returns_result=True)(self.query_sql),
        }

    def _run(
        self, work: Callable[[Connection, ModuleDatabase, str, str, ops.RowChanges], T]
    ) -> T | wc.Variant:
        """Runs `work` in one transaction for the calling tenant; errors become host-error values."""
        context = current_call()
        state = self.state(context)
        if state.grant is None:
            message = f"module {context.module} has no 'db' permission in its manifest"
            context.denied(f"db: {message}")
            return host_error("access-denied", message)
        if state.database is None:
            return host_error("unavailable", "this host has no module database")
        remaining = MAX_STATEMENT_SECONDS
        if context.deadline is not None:
            remaining = min(remaining, context.deadline - time.monotonic())
        if remaining <= 0:
            return host_error("limit-exceeded", "the call's deadline has passed")
        database = state.database
        try:
            with database.engine.begin() as connection, ops.statement_deadline(connection, remaining):
                changes = ops.RowChanges()
                result = work(connection, database, context.module, context.tenant_id, changes)
                quota = state.grant.max_rows_per_tenant
                ops.settle(connection, database.tables, context.module, context.tenant_id, changes, quota)
                return result
        except ops.OperationError as error:
            return host_error(error.case, str(error))
        except UnstorableValue as error:
            return host_error("limit-exceeded", str(error))
        except (IntegrityError, DataError) as error:
            return host_error("invalid-argument", _reason(error))
        except OperationalError as error:
            reason = _reason(error)
            if "interrupt" in reason or "statement timeout" in reason or "canceling statement" in reason:
                return host_error("limit-exceeded", f"the statement ran out of time ({remaining:.1f} s)")
            log.warning("module %s: db statement failed: %s", context.module, reason)
            return host_error("unavailable", reason)
        except DBAPIError as error:
            reason = _reason(error)
            if "statement timeout" in reason or "canceling statement" in reason:
                return host_error("limit-exceeded", f"the statement ran out of time ({remaining:.1f} s)")
            return host_error("invalid-argument", reason)

    def insert(self, op: Any) -> Any:
        result = self._run(lambda c, d, m, t, rows: ops.insert(c, d.tables, m, t, _insert(op), rows))
        return result if isinstance(result, wc.Variant) else [lower(v) for v in result]

    def select(self, query: Any) -> Any:
        result = self._run(lambda c, d, m, t, rows: ops.select_rows(c, d.tables, m, t, _query(query)))
        return result if isinstance(result, wc.Variant) else _rows(result)

    def update(self, op: Any) -> Any:
        return self._run(lambda c, d, m, t, rows: ops.update(c, d.tables, m, t, _update(op)))

    def delete(self, op: Any) -> Any:
        return self._run(lambda c, d, m, t, rows: ops.delete(c, d.tables, m, t, _delete(op), rows))

    def count(self, table: str, where: Any) -> Any:
        return self._run(lambda c, d, m, t, rows: ops.count(c, d.tables, m, t, table, _filters(where)))

    def transaction(self, operations: Any) -> Any:
        if len(operations) > MAX_OPERATIONS:
            return host_error("limit-exceeded", f"a transaction runs at most {MAX_OPERATIONS} operations")

        def run(c: Connection, d: ModuleDatabase, m: str, t: str, rows: ops.RowChanges) -> list[Any]:
            outcomes = []
            for index, value in enumerate(operations):
                try:
                    operation = _operation(value)
                    if isinstance(operation, ops.Insert):
                        returned = ops.insert(c, d.tables, m, t, operation, rows)
                        outcomes.append(record(affected=1, returned=[lower(v) for v in returned]))
                    elif isinstance(operation, ops.Update):
                        outcomes.append(
                            record(affected=ops.update(c, d.tables, m, t, operation), returned=[])
                        )
                    else:
                        outcomes.append(
                            record(affected=ops.delete(c, d.tables, m, t, operation, rows), returned=[])
                        )
                except ops.OperationError as error:
                    raise ops.OperationError(error.case, f"operation {index}: {error}") from None
                except (IntegrityError, DataError) as error:
                    raise ops.OperationError(
                        "invalid-argument", f"operation {index}: {_reason(error)}"
                    ) from None
            return outcomes

        return self._run(run)

    def query_sql(self, sql: str, params: Any) -> Any:
        result = self._run(
            lambda c, d, m, t, rows: run_query(c, d.tables, m, t, sql, [lift(p) for p in params])
        )
        return result if isinstance(result, wc.Variant) else _rows(result)


def _reason(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


def _filters(where: Any) -> tuple[ops.Filter, ...]:
    return tuple(
        ops.Filter(field(f, "column"), str(field(f, "op")), tuple(lift(v) for v in field(f, "values")))
        for f in where
    )


def _pairs(values: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((name, lift(value)) for name, value in values)


def _insert(op: Any) -> ops.Insert:
    return ops.Insert(field(op, "table"), _pairs(field(op, "values")), tuple(field(op, "returning")))


def _update(op: Any) -> ops.Update:
    return ops.Update(field(op, "table"), _pairs(field(op, "set")), _filters(field(op, "where")))


def _delete(op: Any) -> ops.Delete:
    return ops.Delete(field(op, "table"), _filters(field(op, "where")))


def _query(query: Any) -> ops.Query:
    return ops.Query(
        table=field(query, "table"),
        columns=tuple(field(query, "columns")),
        where=_filters(field(query, "where")),
        order_by=tuple((field(o, "column"), bool(field(o, "descending"))) for o in field(query, "order_by")),
        limit=field(query, "limit"),
        offset=int(field(query, "offset")),
    )


def _operation(value: Any) -> ops.Operation:
    if value.tag == "insert":
        return _insert(value.payload)
    if value.tag == "update":
        return _update(value.payload)
    return _delete(value.payload)


def _rows(rows: ops.Rows) -> wc.Record:
    return record(columns=rows.columns, rows=[[lower(v) for v in row] for row in rows.rows])
