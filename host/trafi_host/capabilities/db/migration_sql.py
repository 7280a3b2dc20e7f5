"""Migration SQL: parsed with sqlglot, checked against the module's own tables, compiled per dialect.

A module writes its migrations in PostgreSQL-flavoured SQL. Each statement is
parsed (never pattern-matched) and must be DDL on tables and indexes the module
owns (`mod_<module>__*`): CREATE/ALTER/DROP TABLE, CREATE/DROP INDEX. Anything
else — another prefix, a core table, DML, PRAGMA, ATTACH, an extension, a
subquery hidden in a CHECK — is a problem with its line, reported by
`trafi module validate` before anything runs.

Compiling adds what the host owns: the tenant column in every table, the tenant
as the first column of every unique constraint (so one tenant's values never
collide with, or reveal, another's), and a tenant index; then renders the
statement for SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Tokenizer, TokenType

from .naming import RESERVED_COLUMN_PREFIX, TENANT_COLUMN, owns, table_prefix

SOURCE_DIALECT = "postgres"
# sqlglot logs a warning for each statement it keeps as an opaque Command; such a
# statement is refused here with its line, so the warning is noise on the console.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
# SQLAlchemy's dialect names, as sqlglot spells them.
SQLGLOT_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite"}
# PostgreSQL's identifier limit: a longer generated index name is shortened with a hash.
MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class Statement:
    line: int
    text: str
    expression: exp.Expression


class MigrationSqlError(ValueError):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("; ".join(f"{source}:{p.line}: {p.message}" for p in problems))


def split_statements(sql: str) -> list[tuple[int, str]]:
    """Each statement's text and first line, split on the tokenizer's semicolons (not in strings)."""
    tokens = Tokenizer(dialect=SOURCE_DIALECT).tokenize(sql)
    statements: list[tuple[int, str]] = []
    first = None
    last = None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if first is not None and last is not None:
                statements.append((first.line, sql[first.start : last.end + 1]))
            first = last = None
            continue
        first = first or token
        last = token
    if first is not None and last is not None:
        statements.append((first.line, sql[first.start : last.end + 1]))
    return statements


def parse_migration(module: str, sql: str, source: str) -> list[Statement]:
    """The statements of one migration file; MigrationSqlError lists every problem with its line."""
    problems: list[Problem] = []
    statements: list[Statement] = []
    try:
        pieces = split_statements(sql)
    except TokenError as error:
        raise MigrationSqlError(source, [Problem(1, f"cannot read the SQL: {error}")]) from None
    for line, text in pieces:
        try:
            expression = sqlglot.parse_one(text, read=SOURCE_DIALECT)
        except ParseError as error:
            problems.append(Problem(line, f"not valid SQL: {_first_error(error)}"))
            continue
        found = _check(module, expression)
        problems += [Problem(line, message) for message in found]
        if not found:
            statements.append(Statement(line, text, expression))
    if problems:
        raise MigrationSqlError(source, problems)
    return statements


def _first_error(error: ParseError) -> str:
    details = error.errors[0] if error.errors else {}
    return str(details.get("description") or error).splitlines()[0]


def _name(table: exp.Expression | None) -> str:
    return table.name if isinstance(table, exp.Table | exp.Identifier) else ""


def _check(module: str, statement: exp.Expression) -> list[str]:
    prefix = table_prefix(module)
    problems: list[str] = []

    def own_table(table: exp.Expression | None, what: str) -> None:
        if isinstance(table, exp.Table) and (table.args.get("db") or table.args.get("catalog")):
            problems.append(f"{what} {table.sql()} names a schema or database; use the bare table name")
        elif not owns(module, _name(table)):
            problems.append(
                f"{what} {_name(table) or '?'} is not one of this module's tables (names start with {prefix})"
            )

    def own_columns(expression: exp.Expression) -> None:
        for identifier in expression.find_all(exp.Identifier):
            if isinstance(identifier.parent, exp.Table | exp.Index):
                continue  # a table or index name: checked against the prefix instead
            if identifier.name.lower().startswith(RESERVED_COLUMN_PREFIX):
                problems.append(
                    f"{identifier.name}: names starting with {RESERVED_COLUMN_PREFIX} are the host's"
                )
                return

    if statement.find(exp.Select, exp.Subquery) is not None and not isinstance(statement, exp.Select):
        return ["a query inside a migration statement is not allowed (migrations change the schema only)"]
    if isinstance(statement, exp.Create):
        kind = (statement.args.get("kind") or "").upper()
        if kind == "TABLE":
            schema = statement.this
            if not isinstance(schema, exp.Schema) or statement.expression is not None:
                return ["CREATE TABLE ... AS is not allowed: declare the columns"]
            properties = statement.args.get("properties")
            if properties is not None and properties.expressions:
                return [f"table options are not allowed here: {properties.sql(SOURCE_DIALECT)}"]
            own_table(schema.this, "table")
            for reference in schema.find_all(exp.Reference):
                target = reference.this.this if isinstance(reference.this, exp.Schema) else reference.this
                own_table(target, "a foreign key's table")
                if not isinstance(reference.this, exp.Schema) or not reference.this.expressions:
                    problems.append("a foreign key names the referenced columns: REFERENCES table (column)")
            own_columns(schema)
        elif kind == "INDEX":
            index = statement.this
            if not isinstance(index, exp.Index):
                return ["not an index definition"]
            if not owns(module, index.name):
                problems.append(f"index {index.name or '?'}: names start with {prefix}")
            own_table(index.args.get("table"), "table")
            own_columns(index)
        else:
            return [f"CREATE {kind or '?'} is not allowed: migrations create tables and indexes only"]
    elif isinstance(statement, exp.Alter):
        if (statement.args.get("kind") or "").upper() != "TABLE":
            return ["only ALTER TABLE is allowed"]
        own_table(statement.this, "table")
        for action in statement.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                own_table(action.this, "the new name")
            elif isinstance(action, exp.ColumnDef):
                kinds = {type(c.kind) for c in action.constraints}
                if kinds & {exp.UniqueColumnConstraint, exp.PrimaryKeyColumnConstraint}:
                    problems.append(
                        "ADD COLUMN cannot be UNIQUE or a PRIMARY KEY (SQLite refuses it): "
                        "add the column, then CREATE UNIQUE INDEX"
                    )
                if action.find(exp.Reference) is not None:
                    problems.append(
                        "ADD COLUMN cannot add a foreign key (SQLite refuses it): declare it in CREATE TABLE"
                    )
            elif isinstance(action, exp.Drop | exp.RenameColumn):
                pass
            else:
                problems.append(
                    f"{type(action).__name__} is not portable: use ADD COLUMN, DROP COLUMN, "
                    "RENAME COLUMN or RENAME TO"
                )
        own_columns(statement)
    elif isinstance(statement, exp.Drop):
        kind = (statement.args.get("kind") or "").upper()
        if kind == "TABLE":
            own_table(statement.this, "table")
        elif kind == "INDEX":
            if not owns(module, _name(statement.this)):
                problems.append(f"index {_name(statement.this) or '?'}: names start with {prefix}")
        else:
            return [f"DROP {kind or '?'} is not allowed: migrations drop tables and indexes only"]
    elif isinstance(statement, exp.Command):
        text = statement.sql(SOURCE_DIALECT)
        if text.upper().startswith("ALTER"):
            return [f"not understood: {text[:80]} (write one action per ALTER TABLE statement)"]
        return [f"not allowed in a migration: {text[:80]}"]
    else:
        kind = type(statement).__name__.upper()
        return [
            f"{kind} is not allowed: a migration may only create, alter and drop its own tables and indexes"
        ]
    return problems


def compile_statement(module: str, statement: Statement, dialect: str) -> list[str]:
    """The statement as the host runs it on `dialect` (SQLAlchemy's name), with the tenant guards."""
    dialect = SQLGLOT_DIALECTS.get(dialect, dialect)
    expression = statement.expression.copy()
    extra: list[str] = []
    if isinstance(expression, exp.Create) and (expression.args.get("kind") or "").upper() == "TABLE":
        extra = _add_tenant(expression, dialect)
    elif isinstance(expression, exp.Create) and expression.args.get("unique"):
        params = expression.this.args.get("params")
        if params is not None:
            params.set("columns", [_tenant_ordered(), *params.args.get("columns", [])])
    if dialect == "sqlite":
        # SQLite's own null order (first when ascending): saying it keeps sqlglot from
        # adding NULLS LAST, which SQLite's CREATE INDEX does not accept.
        for ordered in expression.find_all(exp.Ordered):
            ordered.set("nulls_first", not ordered.args.get("desc"))
    return [expression.sql(dialect), *extra]


def _tenant_ordered() -> exp.Ordered:
    return exp.Ordered(this=exp.column(TENANT_COLUMN), nulls_first=False)


def _add_tenant(create: exp.Create, dialect: str) -> list[str]:
    """The tenant column, and every key made per tenant.

    A primary key becomes (tenant, key), except a generated number (SERIAL /
    identity), which the database keeps unique by itself and SQLite only numbers
    as a single-column `INTEGER PRIMARY KEY`; it gets a (tenant, key) UNIQUE
    instead. Unique constraints get the tenant first, and a foreign key becomes
    (tenant, columns) -> (tenant, referenced columns): the database itself
    refuses a row that points at another tenant's, and one tenant's values never
    collide with (or reveal) another's.
    """
    schema = create.this
    assert isinstance(schema, exp.Schema)
    table = schema.this.name
    tenant = exp.to_identifier(TENANT_COLUMN)
    kept: list[exp.Expression] = []
    keys: list[exp.Expression] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            generated = _generated_key(item)
            if dialect == "sqlite" and generated:
                _sqlite_identity(item)
            for constraint in list(item.constraints):
                kind = constraint.kind
                if isinstance(kind, exp.UniqueColumnConstraint):
                    item.constraints.remove(constraint)
                    keys.append(_unique([tenant.copy(), exp.to_identifier(item.name)]))
                elif isinstance(kind, exp.PrimaryKeyColumnConstraint) and generated:
                    keys.append(_unique([tenant.copy(), exp.to_identifier(item.name)]))
                elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    item.constraints.remove(constraint)
                    keys.append(exp.PrimaryKey(expressions=[tenant.copy(), exp.to_identifier(item.name)]))
                elif isinstance(kind, exp.Reference):
                    item.constraints.remove(constraint)
                    keys.append(_tenant_foreign_key([exp.to_identifier(item.name)], kind))
            kept.append(item)
        elif isinstance(item, exp.UniqueColumnConstraint) and isinstance(item.this, exp.Schema):
            keys.append(_unique([tenant.copy(), *item.this.expressions]))
        elif isinstance(item, exp.PrimaryKey):
            columns = [o.this if isinstance(o, exp.Ordered) else o for o in item.expressions]
            names = [c.this if isinstance(c, exp.Column) else c for c in columns]
            keys.append(exp.PrimaryKey(expressions=[tenant.copy(), *names]))
        elif isinstance(item, exp.ForeignKey):
            reference = item.args.get("reference")
            assert isinstance(reference, exp.Reference)
            keys.append(_tenant_foreign_key(list(item.expressions), reference))
        else:
            kept.append(item)
    column = exp.ColumnDef(
        this=tenant.copy(),
        kind=exp.DataType.build("VARCHAR(64)"),
        constraints=[exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())],
    )
    schema.set("expressions", [*kept, column, *keys])
    index = _identifier(f"{table}_{TENANT_COLUMN}_idx")
    return [f"CREATE INDEX {index} ON {table} ({TENANT_COLUMN})"]


def _tenant_foreign_key(columns: list[exp.Expression], reference: exp.Reference) -> exp.ForeignKey:
    target = reference.this
    assert isinstance(target, exp.Schema)
    tenant = exp.to_identifier(TENANT_COLUMN)
    scoped = exp.Reference(
        this=exp.Schema(this=target.this, expressions=[tenant.copy(), *target.expressions]),
        options=reference.args.get("options"),
    )
    return exp.ForeignKey(expressions=[tenant.copy(), *columns], reference=scoped)


def _generated_key(column: exp.ColumnDef) -> bool:
    kind = column.args.get("kind")
    serial = isinstance(kind, exp.DataType) and kind.this in {
        exp.DataType.Type.SERIAL,
        exp.DataType.Type.BIGSERIAL,
        exp.DataType.Type.SMALLSERIAL,
    }
    identity = any(isinstance(c.kind, exp.GeneratedAsIdentityColumnConstraint) for c in column.constraints)
    primary = any(isinstance(c.kind, exp.PrimaryKeyColumnConstraint) for c in column.constraints)
    return primary and (serial or identity)


def _unique(columns: list[exp.Expression]) -> exp.UniqueColumnConstraint:
    return exp.UniqueColumnConstraint(this=exp.Schema(expressions=columns))


def _sqlite_identity(column: exp.ColumnDef) -> None:
    """A generated primary key becomes SQLite's auto-numbered `INTEGER PRIMARY KEY`."""
    column.set("kind", exp.DataType.build("INTEGER"))
    for constraint in list(column.constraints):
        if isinstance(constraint.kind, exp.GeneratedAsIdentityColumnConstraint):
            column.constraints.remove(constraint)


def _identifier(name: str) -> str:
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


def tables_created(statements: list[Statement]) -> list[str]:
    return [
        s.expression.this.this.name
        for s in statements
        if isinstance(s.expression, exp.Create)
        and isinstance(s.expression.this, exp.Schema)
        and (s.expression.args.get("kind") or "").upper() == "TABLE"
    ]


__all__ = [
    "MigrationSqlError",
    "Problem",
    "Statement",
    "compile_statement",
    "parse_migration",
    "split_statements",
    "tables_created",
]
