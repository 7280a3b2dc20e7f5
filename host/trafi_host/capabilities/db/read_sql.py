"""Read-only SQL from a module: one SELECT over its own tables, rewritten to one tenant.

The query is parsed with sqlglot, never matched with patterns. It must be a
single SELECT (joins, aggregates, GROUP BY, subqueries of the same kind) that
reads only the module's tables and calls only functions on a short allowlist:
the rest (`pg_read_file`, `pg_sleep`, `load_extension`, locks, INTO, CTEs) is
refused. Each table it reads is replaced by a subquery of the calling tenant's
rows with the module's visible columns, so every join, subquery and aggregate
sees that tenant alone, and `?` parameters are bound, never spliced.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlalchemy import Connection, text
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .migration_sql import SOURCE_DIALECT, SQLGLOT_DIALECTS
from .naming import RESERVED_COLUMN_PREFIX, TENANT_COLUMN
from .operations import ModuleTables, OperationError, Rows, bounded, visible_columns

MAX_SQL_BYTES = 16_384
ALLOWED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Count,
    exp.Sum,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Coalesce,
    exp.Abs,
    exp.Round,
    exp.Substring,
    exp.Cast,
    exp.Trim,
)
TENANT_PARAMETER = "trafi_tenant_value"


def run_query(
    connection: Connection, tables: ModuleTables, module: str, tenant: str, sql: str, params: list[Any]
) -> Rows:
    rewritten, binds = rewrite(tables, module, tenant, sql, params, connection.dialect.name)
    result = connection.execute(text(rewritten), binds)
    return bounded(list(result.keys()), result)


def rewrite(
    tables: ModuleTables, module: str, tenant: str, sql: str, params: list[Any], dialect: str
) -> tuple[str, dict[str, Any]]:
    if len(sql.encode("utf-8")) > MAX_SQL_BYTES:
        raise OperationError("limit-exceeded", f"SQL longer than {MAX_SQL_BYTES} bytes")
    try:
        statements = [s for s in sqlglot.parse(sql, read=SOURCE_DIALECT) if s is not None]
    except (ParseError, TokenError) as error:
        raise OperationError("invalid-argument", f"not valid SQL: {str(error).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise OperationError("invalid-argument", "query-sql runs one SELECT statement only")
    query = statements[0]
    for node in query.walk():
        if isinstance(node, exp.With | exp.Into | exp.Lock):
            raise OperationError("invalid-argument", f"not allowed in query-sql: {node.key.upper()}")
        # AND/OR and the comparison operators are Func subclasses in sqlglot, not calls.
        operator = isinstance(node, exp.Connector | exp.Binary | exp.Unary)
        if isinstance(node, exp.Func) and not operator and not isinstance(node, ALLOWED_FUNCTIONS):
            name = node.name if isinstance(node, exp.Anonymous) else node.key.upper()
            raise OperationError("invalid-argument", f"function {name} is not allowed in query-sql")
        if isinstance(node, exp.Column | exp.Identifier) and node.name.lower().startswith(
            RESERVED_COLUMN_PREFIX
        ):
            raise OperationError("not-found", f"no column {node.name!r}: trafi_ columns are the host's")
    placeholders = list(query.find_all(exp.Placeholder))
    if len(placeholders) != len(params):
        raise OperationError(
            "invalid-argument", f"the query has {len(placeholders)} ? parameters, {len(params)} given"
        )
    binds: dict[str, Any] = {TENANT_PARAMETER: tenant}
    for index, placeholder in enumerate(placeholders):
        placeholder.replace(exp.Placeholder(this=f"p{index}"))
        binds[f"p{index}"] = params[index]
    for table in list(query.find_all(exp.Table)):
        if table.args.get("db") or table.args.get("catalog"):
            raise OperationError("invalid-argument", f"{table.sql()}: name the table alone")
        target = tables.table(module, table.name)
        columns = ", ".join(f'"{c.name}"' for c in visible_columns(target))
        scoped = sqlglot.parse_one(
            f'(SELECT {columns} FROM "{target.name}" WHERE "{TENANT_COLUMN}" = :{TENANT_PARAMETER})',
            read=SOURCE_DIALECT,
        )
        alias = table.alias or table.name
        table.replace(
            exp.Subquery(
                this=scoped.this if isinstance(scoped, exp.Subquery) else scoped,
                alias=exp.TableAlias(this=exp.to_identifier(alias)),
            )
        )
    return query.sql(SQLGLOT_DIALECTS.get(dialect, dialect)), binds


__all__ = ["ALLOWED_FUNCTIONS", "rewrite", "run_query"]
