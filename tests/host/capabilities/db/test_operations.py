"""The db host functions, called as a guest would, on SQLite and PostgreSQL.

Tenant isolation is attacked with everything a module controls: filters, a
foreign key to another tenant's row, a delete with no filter, read-only SQL
naming the host's tables, functions that read files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from wasmtime import component as wc

from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.base import InstanceFacts
from trafi_host.capabilities.call import CallContext, bind_call
from trafi_host.capabilities.db.grant import DbGrant
from trafi_host.capabilities.db.host import DbCapability
from trafi_host.db.engine import Database
from trafi_host.manifest.model import Permissions
from trafi_host.wit_values import record

from .reviews_schema import MODULE, migrated

GRANT = Permissions(db=DbGrant(reason="Keeps reviews per product.", max_rows_per_tenant=5))


@pytest.fixture
def capability(database_url: str, tmp_path: Path) -> DbCapability:
    database = Database(database_url)
    database.migrate()
    return DbCapability(migrated(database.engine, tmp_path))


def v(tag: str, payload: Any = None) -> wc.Variant:
    return wc.Variant(tag) if tag == "null" else wc.Variant(tag, payload)


def where(column: str, op: str, *values: wc.Variant) -> Any:
    return record(column=column, op=op, values=list(values))


def call(capability: DbCapability, name: str, *args: Any, tenant: str = "acme", **kw: Any) -> Any:
    function = capability.functions()[name]
    return call_host_function(
        capability,
        function,
        None,
        *args,
        module=MODULE,
        tenant=tenant,
        permissions=kw.pop("grant", GRANT),
        **kw,
    )


def add_product(capability: DbCapability, tenant: str, id: str, sku: str | None = None) -> Any:
    values = [("id", v("text", id)), ("name", v("text", f"Product {id}"))]
    if sku is not None:
        values.append(("sku", v("text", sku)))
    return call(capability, "insert", record(table="product", values=values, returning=[]), tenant=tenant)


def add_review(capability: DbCapability, tenant: str, product: str, author: str, rating: int) -> Any:
    op = record(
        table="mod_shop_reviews__review",
        values=[
            ("product_id", v("text", product)),
            ("author", v("text", author)),
            ("rating", v("integer", rating)),
        ],
        returning=["id", "created_at"],
    )
    return call(capability, "insert", op, tenant=tenant)


def select(capability: DbCapability, table: str, *filters: Any, tenant: str = "acme", **query: Any) -> Any:
    q = record(
        table=table,
        columns=query.get("columns", []),
        where=list(filters),
        order_by=[record(column=c, descending=d) for c, d in query.get("order", [])],
        limit=query.get("limit"),
        offset=query.get("offset", 0),
    )
    return call(capability, "select", q, tenant=tenant)


def payloads(rows: Any) -> list[list[Any]]:
    return [[value.payload for value in row] for row in rows.rows]


def test_insert_returns_generated_columns_and_select_reads_typed_values(capability: DbCapability) -> None:
    assert add_product(capability, "acme", "p1") == []
    returned = add_review(capability, "acme", "p1", "ann", 5)
    assert [r.tag for r in returned] == ["integer", "timestamp"]
    rows = select(capability, "review", where("rating", "ge", v("integer", 4)), columns=["author", "rating"])
    assert rows.columns == ["author", "rating"]
    assert payloads(rows) == [["ann", 5]]
    everything = select(capability, "review")
    assert "trafi_tenant" not in everything.columns
    assert everything.columns[:3] == ["id", "product_id", "author"]


def test_another_tenant_never_sees_or_touches_the_rows_whatever_the_filter(capability: DbCapability) -> None:
    add_product(capability, "acme", "p1", sku="SKU-1")
    add_review(capability, "acme", "p1", "ann", 5)
    for filters in ([], [where("author", "eq", v("text", "ann"))], [where("id", "is-not-null")]):
        assert payloads(select(capability, "review", *filters, tenant="globex")) == []
    assert call(capability, "count", "review", [], tenant="globex") == 0
    assert call(capability, "delete", record(table="review", where=[]), tenant="globex") == 0
    update = record(table="review", set=[("rating", v("integer", 1))], where=[])
    assert call(capability, "update", update, tenant="globex") == 0
    # Uniqueness is per tenant: globex may use acme's SKU, and learns nothing from it.
    assert add_product(capability, "globex", "p9", sku="SKU-1") == []
    assert payloads(select(capability, "review", columns=["rating"])) == [[5]]
    # The host's column cannot be read, filtered on or written.
    for attempt in (
        select(capability, "review", columns=["trafi_tenant"], tenant="globex"),
        select(capability, "review", where("trafi_tenant", "eq", v("text", "acme")), tenant="globex"),
        call(
            capability,
            "update",
            record(table="review", set=[("trafi_tenant", v("text", "globex"))], where=[]),
        ),
    ):
        assert (attempt.tag, "no column 'trafi_tenant'" in attempt.payload) == ("not-found", True)


def test_a_foreign_key_to_another_tenants_row_is_refused(capability: DbCapability) -> None:
    add_product(capability, "acme", "p1")
    refused = add_review(capability, "globex", "p1", "eve", 1)
    assert refused.tag == "invalid-argument"
    assert "no row in mod_shop_reviews__product with id = 'p1'" in refused.payload
    assert call(capability, "count", "review", [], tenant="acme") == 0


def test_constraint_violations_are_error_values(capability: DbCapability) -> None:
    add_product(capability, "acme", "p1")
    add_review(capability, "acme", "p1", "ann", 5)
    duplicate = add_review(capability, "acme", "p1", "ann", 4)
    assert duplicate.tag == "invalid-argument"
    out_of_range = add_review(capability, "acme", "p1", "bob", 9)
    assert out_of_range.tag == "invalid-argument"
    unknown = call(capability, "insert", record(table="nope", values=[], returning=[]))
    assert (unknown.tag, unknown.payload) == ("not-found", f"module {MODULE} has no table 'nope'")


def test_a_transaction_commits_all_or_nothing(capability: DbCapability) -> None:
    add_product(capability, "acme", "p1")
    good = [
        v(
            "insert",
            record(
                table="review",
                values=[
                    ("product_id", v("text", "p1")),
                    ("author", v("text", "a")),
                    ("rating", v("integer", 3)),
                ],
                returning=["id"],
            ),
        ),
        v(
            "update",
            record(
                table="review",
                set=[("rating", v("integer", 4))],
                where=[where("author", "eq", v("text", "a"))],
            ),
        ),
    ]
    outcomes = call(capability, "transaction", good)
    assert [o.affected for o in outcomes] == [1, 1]
    failing = [
        v("delete", record(table="review", where=[])),
        v(
            "insert",
            record(
                table="review",
                values=[
                    ("product_id", v("text", "missing")),
                    ("author", v("text", "b")),
                    ("rating", v("integer", 3)),
                ],
                returning=[],
            ),
        ),
    ]
    refused = call(capability, "transaction", failing)
    assert refused.tag == "invalid-argument" and refused.payload.startswith("operation 1: ")
    assert payloads(select(capability, "review", columns=["author", "rating"])) == [["a", 4]]


def test_the_row_quota_is_per_tenant_and_freed_by_deletes(capability: DbCapability) -> None:
    for number in range(5):
        assert add_product(capability, "acme", f"p{number}") == []
    over = add_product(capability, "acme", "p5")
    assert over.tag == "limit-exceeded" and "5 rows per tenant" in over.payload
    assert call(capability, "count", "product", []) == 5
    assert add_product(capability, "globex", "p5") == []
    assert (
        call(capability, "delete", record(table="product", where=[where("id", "eq", v("text", "p0"))])) == 1
    )
    assert add_product(capability, "acme", "p5") == []


def test_without_the_grant_every_call_is_denied(capability: DbCapability) -> None:
    denied: list[str] = []
    refused = call(capability, "count", "review", [], grant=Permissions(), denied=denied)
    assert refused.tag == "access-denied" and denied


def test_read_only_sql_sees_the_calling_tenant_only(capability: DbCapability) -> None:
    add_product(capability, "acme", "p1")
    add_product(capability, "globex", "p2")
    add_review(capability, "acme", "p1", "ann", 5)
    add_review(capability, "acme", "p1", "bob", 3)
    add_review(capability, "globex", "p2", "eve", 1)
    sql = (
        "SELECT p.name, count(*) AS reviews, avg(r.rating) AS average FROM mod_shop_reviews__review r "
        "JOIN mod_shop_reviews__product p ON p.id = r.product_id WHERE r.rating >= ? GROUP BY p.name"
    )
    rows = call(capability, "query-sql", sql, [v("integer", 1)])
    assert rows.columns == ["name", "reviews", "average"]
    assert payloads(rows) == [["Product p1", 2, 4.0]]
    sneaky = "SELECT count(*) FROM mod_shop_reviews__review WHERE 1 = 1 OR author = 'eve'"
    assert payloads(call(capability, "query-sql", sneaky, [])) == [[2]]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM trafi_kv", "not-found"),
        ("SELECT key FROM trafi_api_keys", "not-found"),
        ("SELECT pg_read_file('/etc/passwd')", "invalid-argument"),
        ("SELECT pg_sleep(10)", "invalid-argument"),
        ("SELECT trafi_tenant FROM mod_shop_reviews__review", "not-found"),
        ("DELETE FROM mod_shop_reviews__review", "invalid-argument"),
        ("SELECT 1; DROP TABLE mod_shop_reviews__review", "invalid-argument"),
        ("WITH x AS (SELECT * FROM trafi_kv) SELECT * FROM x", "invalid-argument"),
        ("SELECT * FROM mod_shop_reviews__review FOR UPDATE", "invalid-argument"),
        ("SELECT author FROM mod_shop_reviews__review WHERE id = ?", "invalid-argument"),
    ],
)
def test_read_only_sql_refuses_anything_else(capability: DbCapability, sql: str, expected: str) -> None:
    assert call(capability, "query-sql", sql, []).tag == expected


def _with_deadline(capability: DbCapability, seconds: float, function: str, *args: Any) -> Any:
    """A call whose deadline is `seconds` away, as an instance's call would have."""
    facts = InstanceFacts(
        module=MODULE,
        version="1.0.0",
        tenant="acme",
        folder=Path("."),
        data_root=None,
        config={},
        env={},
        permissions=BIG_GRANT,
        dependencies=frozenset(),
    )
    context = CallContext(MODULE, "acme", states={"db": capability.prepare(facts)})
    context.begin_call(time.monotonic() + seconds)
    with bind_call(context):
        return capability.functions()[function](None, *args)


BIG_GRANT = Permissions(db=DbGrant(reason="Keeps reviews per product.", max_rows_per_tenant=10_000))


def _many_products(capability: DbCapability, count: int) -> None:
    operations = [
        v(
            "insert",
            record(
                table="product", values=[("id", v("text", f"p{n}")), ("name", v("text", "x"))], returning=[]
            ),
        )
        for n in range(count)
    ]
    for start in range(0, count, 100):
        outcomes = call(capability, "transaction", operations[start : start + 100], grant=BIG_GRANT)
        assert len(outcomes) == len(operations[start : start + 100])


def test_a_statement_past_the_calls_deadline_is_interrupted(capability: DbCapability) -> None:
    _many_products(capability, 300)
    # 300^3 rows to count: far longer than the call has left.
    slow = (
        "SELECT count(*) FROM mod_shop_reviews__product a, mod_shop_reviews__product b, "
        "mod_shop_reviews__product c"
    )
    started = time.monotonic()
    refused = _with_deadline(capability, 0.3, "query-sql", slow, [])
    assert refused.tag == "limit-exceeded" and "ran out of time" in refused.payload
    # Interrupted, not run to the end (which takes many seconds): generous room for a busy machine.
    assert time.monotonic() - started < 30
    assert _with_deadline(capability, 5, "count", "product", []) == 300


def test_a_result_past_the_row_cap_is_refused_and_select_is_capped(capability: DbCapability) -> None:
    _many_products(capability, 1001)
    assert len(select(capability, "product", columns=["id"]).rows) == 1000  # capped, page with offset
    assert len(select(capability, "product", columns=["id"], offset=1000).rows) == 1
    refused = call(capability, "query-sql", "SELECT id FROM mod_shop_reviews__product", [], grant=BIG_GRANT)
    assert refused.tag == "limit-exceeded" and "page it" in refused.payload
