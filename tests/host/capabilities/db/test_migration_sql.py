"""Migration files are parsed, and anything but DDL on the module's own tables is refused with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafi_host.capabilities.db.migration_files import MigrationFilesError, read_migrations
from trafi_host.capabilities.db.migration_sql import compile_statement, parse_migration

from .reviews_schema import INIT_UP, MODULE, write_migrations


def problems(tmp_path: Path, up: str, down: str = "DROP TABLE mod_shop_reviews__x;\n") -> list[str]:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "0001_x.up.sql").write_text(up)
    (folder / "0001_x.down.sql").write_text(down)
    with pytest.raises(MigrationFilesError) as refused:
        read_migrations(MODULE, tmp_path, "migrations")
    return [str(p) for p in refused.value.problems]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("CREATE TABLE trafi_tenants (id TEXT);", "trafi_tenants is not one of this module's tables"),
        ("ALTER TABLE trafi_kv ADD COLUMN x TEXT;", "trafi_kv is not one of this module's tables"),
        ("DROP TABLE mod_loyalty__points;", "mod_loyalty__points is not one of this module's tables"),
        ("INSERT INTO mod_shop_reviews__x VALUES (1);", "INSERT is not allowed"),
        ("DELETE FROM trafi_api_keys;", "DELETE is not allowed"),
        ("PRAGMA writable_schema = 1;", "PRAGMA is not allowed"),
        ("ATTACH DATABASE '/tmp/other.db' AS other;", "not valid SQL"),
        ("CREATE EXTENSION pgcrypto;", "not allowed in a migration: CREATE EXTENSION"),
        ("CREATE VIEW mod_shop_reviews__v AS SELECT 1;", "a query inside a migration statement"),
        (
            "CREATE TABLE mod_shop_reviews__x (a INT CHECK (a < (SELECT count(*) FROM trafi_kv)));",
            "a query inside a migration statement",
        ),
        (
            "CREATE TABLE mod_shop_reviews__x (a TEXT REFERENCES trafi_tenants (id));",
            "a foreign key's table trafi_tenants",
        ),
        (
            "CREATE TABLE mod_shop_reviews__x (trafi_tenant TEXT);",
            "names starting with trafi_ are the host's",
        ),
        ("CREATE TABLE public.mod_shop_reviews__x (a INT);", "names a schema or database"),
        # `mod_shop_` is the prefix of a module named `shop`: not this module's.
        ("CREATE TABLE mod_shop__x (a INT);", "names start with mod_shop_reviews__"),
        ("ALTER TABLE mod_shop_reviews__x ADD COLUMN a INT, DROP COLUMN b;", "one action per ALTER TABLE"),
        ("ALTER TABLE mod_shop_reviews__x ADD COLUMN a INT UNIQUE;", "CREATE UNIQUE INDEX"),
    ],
)
def test_a_statement_outside_the_modules_own_tables_is_refused_with_its_line(
    tmp_path: Path, statement: str, expected: str
) -> None:
    up = (
        "-- first a good one\nCREATE TABLE mod_shop_reviews__ok (id TEXT PRIMARY KEY);\n\n" + statement + "\n"
    )
    found = problems(tmp_path, up)
    assert any(p.startswith("migrations/0001_x.up.sql:4: ") and expected in p for p in found), found


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, "PRAGMA foo = 1;\nSELECT 1;\n", down="DROP TABLE trafi_kv;\n")
    assert [p.split(": ")[0] for p in found] == [
        "migrations/0001_x.up.sql:1",
        "migrations/0001_x.up.sql:2",
        "migrations/0001_x.down.sql:1",
    ]


def test_an_up_file_without_its_down_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_x.up.sql").write_text("CREATE TABLE mod_shop_reviews__x (a INT);")
    (tmp_path / "migrations" / "notes.txt").write_text("hi")
    with pytest.raises(MigrationFilesError) as refused:
        read_migrations(MODULE, tmp_path, "migrations")
    text = str(refused.value)
    assert "0001_x.up.sql:1: no 0001_x.down.sql beside it" in text
    assert "notes.txt:1: not a migration file" in text


def test_migrations_are_read_in_order(tmp_path: Path) -> None:
    found = read_migrations(MODULE, write_migrations(tmp_path), "migrations")
    assert [m.id for m in found] == ["0001_init", "0002_helpful"]
    assert found[0].source == "migrations/0001_init.up.sql"
    assert len(found[0].up) == 3 and found[0].checksum != found[1].checksum


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_compiling_adds_the_tenant_column_and_makes_uniqueness_per_tenant(dialect: str) -> None:
    create_review = parse_migration(MODULE, INIT_UP, "0001_init.up.sql")[1]
    table, index = compile_statement(MODULE, create_review, dialect)
    assert "trafi_tenant VARCHAR(64) NOT NULL" in table or "trafi_tenant TEXT(64) NOT NULL" in table
    assert "UNIQUE (trafi_tenant, product_id, author)" in table
    assert index == (
        "CREATE INDEX mod_shop_reviews__review_trafi_tenant_idx ON mod_shop_reviews__review (trafi_tenant)"
    )
    if dialect == "sqlite":
        # SQLite numbers rows itself only for an `INTEGER PRIMARY KEY` column.
        assert "id INTEGER PRIMARY KEY" in table
    assert "UNIQUE (trafi_tenant, id)" in table  # a generated key stays the key; this lets keys refer to it
    assert (
        "FOREIGN KEY (trafi_tenant, product_id) REFERENCES mod_shop_reviews__product (trafi_tenant, id) "
        "ON DELETE CASCADE" in table
    )
    create_product = compile_statement(
        MODULE, parse_migration(MODULE, INIT_UP, "0001_init.up.sql")[0], dialect
    )[0]
    assert "UNIQUE (trafi_tenant, sku)" in create_product
    assert "PRIMARY KEY (trafi_tenant, id)" in create_product
