"""The module's own tables, always the calling tenant's rows (world 0.2.0, `permissions.db`).

    from trafi_sdk import db

    reviews = db.table("review")
    new_id = reviews.insert({"product_id": "p1", "author": "ann", "rating": 5}, returning=["id"])["id"]
    good = reviews.select(where={"product_id": "p1", "rating": db.ge(4)}, order_by=["-id"], limit=20)
    reviews.update({"rating": 4}, where={"id": new_id})
    db.transaction([reviews.insert_op({...}), reviews.delete_op(where={"id": 3})])
    db.query("SELECT rating, count(*) AS n FROM mod_reviews__review GROUP BY rating")

Rows are dicts of column to value. Values are None, bool, int, float, str,
bytes and timezone-aware `datetime` (UTC). A `where` maps a column to a value
(equality; None means IS NULL) or to a comparison from this module (`ge(4)`,
`like("a%")`, `in_([1, 2])`, `is_not_null()`). Errors are `trafi_sdk.errors`
exceptions: `NotFound` for an unknown table or column, `InvalidArgument` for a
value the table refuses, `LimitExceeded` past a quota, `AccessDenied` without
the grant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _bindings
from .errors import from_wit as error_from_wit

Value = None | bool | int | float | str | bytes | dt.datetime
Row = dict[str, Any]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Comparison:
    """A condition on one column: built by `eq`, `ge`, `like`, `in_`, ...; a `where` value.

    Example:

        good = reviews.select(where={"rating": db.ge(4), "author": db.ne("spam")})
    """

    op: str
    values: tuple[Value, ...]


def eq(value: Value) -> Comparison:
    """Equal to `value` (a plain `where` value means the same; None is IS NULL).

    Example:

        reviews.select(where={"product_id": db.eq("p1")})
    """
    return Comparison("is-null", ()) if value is None else Comparison("eq", (value,))


def ne(value: Value) -> Comparison:
    """Not equal to `value` (None is IS NOT NULL).

    Example:

        reviews.select(where={"author": db.ne("anonymous")})
    """
    return Comparison("is-not-null", ()) if value is None else Comparison("ne", (value,))


def lt(value: Value) -> Comparison:
    """Less than `value`.

    Example:

        reviews.count(where={"rating": db.lt(3)})
    """
    return Comparison("lt", (value,))


def le(value: Value) -> Comparison:
    """Less than or equal to `value`.

    Example:

        reviews.select(where={"created_at": db.le(cutoff)})
    """
    return Comparison("le", (value,))


def gt(value: Value) -> Comparison:
    """Greater than `value`.

    Example:

        reviews.select(where={"id": db.gt(last_seen_id)}, order_by=["id"], limit=50)
    """
    return Comparison("gt", (value,))


def ge(value: Value) -> Comparison:
    """Greater than or equal to `value`.

    Example:

        reviews.select(where={"rating": db.ge(4)})
    """
    return Comparison("ge", (value,))


def like(pattern: str) -> Comparison:
    """SQL LIKE: `%` any run of characters, `_` one character.

    Example:

        reviews.select(where={"author": db.like("a%")})
    """
    return Comparison("like", (pattern,))


def in_(values: Iterable[Value]) -> Comparison:
    """One of `values` (at least one).

    Example:

        reviews.select(where={"product_id": db.in_(["p1", "p2"])})
    """
    return Comparison("in-list", tuple(values))


def is_null() -> Comparison:
    """The column is NULL.

    Example:

        reviews.select(where={"moderated_at": db.is_null()})
    """
    return Comparison("is-null", ())


def is_not_null() -> Comparison:
    """The column is not NULL.

    Example:

        reviews.count(where={"body": db.is_not_null()})
    """
    return Comparison("is-not-null", ())


def _db() -> Any:
    return _bindings.require(_bindings.wit_db, "db")


def to_value(value: Value) -> Any:
    wit = _db()
    if value is None:
        return wit.Value_Null()
    if isinstance(value, bool):
        return wit.Value_Boolean(value)
    if isinstance(value, int):
        return wit.Value_Integer(value)
    if isinstance(value, float):
        return wit.Value_Float(value)
    if isinstance(value, str):
        return wit.Value_Text(value)
    if isinstance(value, bytes | bytearray):
        return wit.Value_Bytes(bytes(value))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return wit.Value_Timestamp((aware - EPOCH) // dt.timedelta(microseconds=1))
    raise TypeError(f"not a db value: {type(value).__name__}")


def from_value(value: Any) -> Value:
    wit = _db()
    if isinstance(value, wit.Value_Null):
        return None
    if isinstance(value, wit.Value_Timestamp):
        return EPOCH + dt.timedelta(microseconds=value.value)
    result: Value = value.value
    return result


def _filters(where: Mapping[str, Value | Comparison] | None) -> list[Any]:
    wit = _db()
    filters = []
    for column, condition in (where or {}).items():
        comparison = condition if isinstance(condition, Comparison) else eq(condition)
        filters.append(
            wit.Filter(
                column,
                wit.Comparison[comparison.op.upper().replace("-", "_")],
                [to_value(v) for v in comparison.values],
            )
        )
    return filters


def _pairs(values: Mapping[str, Value]) -> list[tuple[str, Any]]:
    return [(column, to_value(value)) for column, value in values.items()]


def _rows(result: Any) -> list[Row]:
    return [dict(zip(result.columns, (from_value(v) for v in row), strict=True)) for row in result.rows]


def _call(function: str, *args: Any) -> Any:
    try:
        return getattr(_db(), function)(*args)
    except _bindings.WitErr as err:
        raise error_from_wit(_bindings.error_value(err)) from None


@dataclass(frozen=True)
class Table:
    """One of the module's tables, named as in its migrations or without the `mod_<module>__` prefix.

    Always the calling tenant's rows: the host adds and filters the tenant column.

        reviews = db.table("review")  # mod_reviews__review
    """

    name: str

    def insert(self, values: Mapping[str, Value], returning: Sequence[str] = ()) -> Row:
        """Inserts one row; returns its `returning` columns (e.g. a generated id).

        Example:

            row = {"product_id": "p1", "author": "ann", "rating": 5}
            new_id = reviews.insert(row, returning=["id"])["id"]
        """
        returned = _call("insert", self.insert_op(values, returning).value)
        return dict(zip(returning, (from_value(v) for v in returned), strict=True))

    def select(
        self,
        columns: Sequence[str] = (),
        where: Mapping[str, Value | Comparison] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        """Matching rows; `order_by` names columns, `-column` for descending.

        Example:

            rows = reviews.select(
                columns=["id", "rating"], where={"product_id": "p1"}, order_by=["-rating", "id"], limit=20
            )
        """
        wit = _db()
        order = [wit.Order(c.lstrip("-"), c.startswith("-")) for c in order_by]
        query = wit.Query(self.name, list(columns), _filters(where), order, limit, offset)
        return _rows(_call("select", query))

    def first(self, where: Mapping[str, Value | Comparison] | None = None, **query: Any) -> Row | None:
        """The first matching row, or None; takes `select`'s other arguments.

        Example:

            review = reviews.first(where={"id": review_id})
            if review is None:
                return Response.error(404, "no such review")
        """
        rows = self.select(where=where, limit=1, **query)
        return rows[0] if rows else None

    def update(
        self, values: Mapping[str, Value], where: Mapping[str, Value | Comparison] | None = None
    ) -> int:
        """Sets `values` on the matching rows; the number of rows updated.

        Example:

            changed = reviews.update({"rating": 4}, where={"id": review_id})
        """
        updated: int = _call("update", self.update_op(values, where).value)
        return updated

    def delete(self, where: Mapping[str, Value | Comparison] | None = None) -> int:
        """Deletes the matching rows (every row of the tenant without `where`); how many.

        Example:

            deleted = reviews.delete(where={"id": review_id})
        """
        deleted: int = _call("delete", self.delete_op(where).value)
        return deleted

    def count(self, where: Mapping[str, Value | Comparison] | None = None) -> int:
        """How many rows match.

        Example:

            helpful = votes.count(where={"review_id": review_id, "helpful": True})
        """
        counted: int = _call("count", self.name, _filters(where))
        return counted

    # Operations for `transaction`.
    def insert_op(self, values: Mapping[str, Value], returning: Sequence[str] = ()) -> Any:
        """An insert for `transaction`.

        Example:

            db.transaction([votes.insert_op({"review_id": 1, "voter": "v", "helpful": True})])
        """
        wit = _db()
        return wit.Operation_Insert(wit.InsertOp(self.name, _pairs(values), list(returning)))

    def update_op(
        self, values: Mapping[str, Value], where: Mapping[str, Value | Comparison] | None = None
    ) -> Any:
        """An update for `transaction`.

        Example:

            db.transaction([reviews.update_op({"rating": 3}, where={"id": 1})])
        """
        wit = _db()
        return wit.Operation_Update(wit.UpdateOp(self.name, _pairs(values), _filters(where)))

    def delete_op(self, where: Mapping[str, Value | Comparison] | None = None) -> Any:
        """A delete for `transaction`.

        Example:

            db.transaction([votes.delete_op(where={"review_id": 1, "voter": "v"})])
        """
        wit = _db()
        return wit.Operation_Delete(wit.DeleteOp(self.name, _filters(where)))


def table(name: str) -> Table:
    """The module's table `name` (with or without the `mod_<module>__` prefix).

    Example:

        reviews = db.table("review")
    """
    return Table(name)


@dataclass(frozen=True)
class Outcome:
    """One operation's result in a `transaction`: rows `affected`, and the insert's `returned` values.

    Example:

        (inserted,) = db.transaction([reviews.insert_op({...}, returning=["id"])])
        new_id = inserted.returned[0]
    """

    affected: int
    returned: list[Value]


def transaction(operations: Sequence[Any]) -> list[Outcome]:
    """Runs the operations (`Table.insert_op`, ...) in one transaction: all or none (at most 100).

    Example:

        db.transaction([
            votes.delete_op(where={"review_id": review, "voter": voter}),
            votes.insert_op({"review_id": review, "voter": voter, "helpful": helpful}),
        ])
    """
    outcomes = _call("transaction", list(operations))
    return [Outcome(o.affected, [from_value(v) for v in o.returned]) for o in outcomes]


def query(sql: str, params: Sequence[Value] = ()) -> list[Row]:
    """A read-only SELECT over the module's own tables (full names), with `?` parameters.

    Example:

        (summary,) = db.query(
            "SELECT count(*) AS n, avg(rating) AS average FROM mod_reviews__review WHERE product_id = ?",
            ["p1"],
        )
    """
    return _rows(_call("query_sql", sql, [to_value(p) for p in params]))


__all__ = [
    "Comparison",
    "Outcome",
    "Row",
    "Table",
    "eq",
    "ge",
    "gt",
    "in_",
    "is_not_null",
    "is_null",
    "le",
    "like",
    "lt",
    "ne",
    "query",
    "table",
    "transaction",
]
