"""A Prisma fragment becomes the SQL migration a module author would write: run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlglot
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlglot import exp

from tests.conftest import POSTGRES_ADMIN_URL
from trafi_host.capabilities.db.prisma import (
    PrismaError,
    PrismaField,
    PrismaList,
    PrismaName,
    PrismaProblem,
    index_name,
    parse_prisma,
    prisma_migration,
    snake_case,
    table_prefix,
)

# Review comes first on purpose: the migration must still create products first.
REVIEWS = """\
/// Reviews of a product, one per author.
model Review {
  id        Int     @id @default(autoincrement())
  productId Int
  product   Product @relation(fields: [productId], references: [id], onDelete: Cascade)
  author    String
  body      String? @map("text")
  status    Status  @default(DRAFT)
  visible   Boolean @default(true)

  @@unique([productId, author])
  @@index([productId])
}

enum Status {
  DRAFT
  PUBLISHED @map("published")
}

model Product {
  id         Int      @id @default(autoincrement())
  sku        String   @unique
  title      String
  priceCents Int      @default(0)
  rating     Float?
  createdAt  DateTime @default(now())
  reviews    Review[]
}
"""

# The same tables as an author would write them by hand, in another style: table-level keys, a
# UNIQUE constraint instead of a unique index, other column order. Only the meaning must match.
HAND_WRITTEN = """\
create table mod_product_reviews__product (
  id serial not null,
  title text not null,
  sku text not null,
  rating double precision,
  price_cents integer not null default 0,
  created_at timestamp not null default current_timestamp,
  primary key (id)
);
create unique index mod_product_reviews__product_sku_key on mod_product_reviews__product (sku);
create table mod_product_reviews__review (
  id serial not null,
  author text not null,
  product_id integer not null references mod_product_reviews__product (id)
    on delete cascade on update cascade,
  text text,
  status text not null default 'DRAFT' check (status in ('DRAFT', 'published')),
  visible boolean not null default true,
  primary key (id),
  unique (product_id, author)
);
create index mod_product_reviews__review_product_id_idx on mod_product_reviews__review (product_id);
"""

PRODUCT = "mod_product_reviews__product"
REVIEW = "mod_product_reviews__review"


def statements(sql: str, dialect: str) -> list[str]:
    """`sqlglot.transpile(sql, read="postgres", write=dialect)`, with one repair for SQLite."""
    parsed = [statement for statement in sqlglot.parse(sql, read="postgres") if statement is not None]
    if dialect == "sqlite":
        # sqlglot 26 writes `column NULLS LAST` into CREATE INDEX and a table's PRIMARY KEY (...) for
        # SQLite, which refuses it ("unsupported use of NULLS LAST"); a key's null order changes no
        # lookup, and this DDL has no DESC, so the bare column is the same key.
        for statement in parsed:
            for ordered in list(statement.find_all(exp.Ordered)):
                ordered.replace(ordered.this)
    return [statement.sql(dialect=dialect) for statement in parsed]


def run(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        for statement in statements(sql, "sqlite" if engine.dialect.name == "sqlite" else "postgres"):
            connection.exec_driver_sql(statement)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], Engine]]:
    """Makes empty databases: SQLite in memory, or a fresh PostgreSQL schema dropped afterwards."""
    engines: list[Engine] = []
    schemas: list[str] = []
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def make() -> Engine:
        if request.param == "sqlite":
            engine = create_engine("sqlite://", poolclass=StaticPool)

            @event.listens_for(engine, "connect")
            def enforce_foreign_keys(connection: Any, _record: Any) -> None:
                connection.execute("PRAGMA foreign_keys = ON")  # SQLite ignores them otherwise

        else:
            schema = f"prisma_test_{uuid.uuid4().hex}"
            with admin.connect() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            schemas.append(schema)
            # Every connection starts with `SET search_path` to the schema, so the SQL stays unqualified.
            engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"options": f"-csearch_path={schema}"})
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    if schemas:
        with admin.connect() as connection:
            for schema in schemas:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def reflect(engine: Engine) -> dict[str, dict[str, object]]:
    """What the database says it holds, in a form that does not depend on how the SQL was spelled."""
    inspector = inspect(engine)
    tables: dict[str, dict[str, object]] = {}
    for table in inspector.get_table_names():
        indexes = inspector.get_indexes(table)
        tables[table] = {
            "columns": {
                (column["name"], str(column["type"]), column["nullable"], column["default"])
                for column in inspector.get_columns(table)
            },
            "primary_key": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            "foreign_keys": foreign_keys(engine, table),
            # A UNIQUE constraint and a unique index are the same promise; their names are the dialect's.
            "unique": {tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)}
            | {tuple(index["column_names"]) for index in indexes if index["unique"]},
            "indexes": {
                (index["name"], tuple(index["column_names"])) for index in indexes if not index["unique"]
            },
            "checks": {
                re.sub(r"\s+", " ", check["sqltext"]).lower()
                for check in inspector.get_check_constraints(table)
            },
        }
    return tables


def foreign_keys(engine: Engine, table: str) -> set[tuple[object, ...]]:
    if engine.dialect.name != "sqlite":
        return {
            (
                tuple(key["constrained_columns"]),
                key["referred_table"],
                tuple(key["referred_columns"]),
                tuple(sorted(key["options"].items())),
            )
            for key in inspect(engine).get_foreign_keys(table)
        }
    # SQLAlchemy reads SQLite's ON DELETE/UPDATE from the table's SQL text, case-sensitively, and
    # misses sqlglot's `ON delete CASCADE`; the pragma reports what SQLite enforces.
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"PRAGMA foreign_key_list({table})").mappings().all()
    keys: dict[int, list[Any]] = {}
    for row in sorted(rows, key=lambda row: (row["id"], row["seq"])):
        key = keys.setdefault(row["id"], [[], row["table"], [], row["on_delete"], row["on_update"]])
        key[0].append(row["from"])
        key[2].append(row["to"])
    return {
        (tuple(columns), target, tuple(referred), (("ondelete", on_delete), ("onupdate", on_update)))
        for columns, target, referred, on_delete, on_update in keys.values()
    }


# --- the generated SQL ---------------------------------------------------------------------------


def test_the_fragment_becomes_portable_sql_with_referenced_tables_first() -> None:
    migration = prisma_migration("product-reviews", REVIEWS)

    assert migration.up == (
        "CREATE TABLE mod_product_reviews__product (\n"
        "  id SERIAL NOT NULL PRIMARY KEY,\n"
        "  sku TEXT NOT NULL,\n"
        "  title TEXT NOT NULL,\n"
        "  price_cents INTEGER NOT NULL DEFAULT 0,\n"
        "  rating DOUBLE PRECISION,\n"
        "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
        ");\n"
        "CREATE UNIQUE INDEX mod_product_reviews__product_sku_key ON mod_product_reviews__product (sku);\n"
        "CREATE TABLE mod_product_reviews__review (\n"
        "  id SERIAL NOT NULL PRIMARY KEY,\n"
        "  product_id INTEGER NOT NULL,\n"
        "  author TEXT NOT NULL,\n"
        "  text TEXT,\n"
        "  status TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'published')),\n"
        "  visible BOOLEAN NOT NULL DEFAULT TRUE,\n"
        "  FOREIGN KEY (product_id) REFERENCES mod_product_reviews__product (id) "
        "ON DELETE CASCADE ON UPDATE CASCADE\n"
        ");\n"
        "CREATE UNIQUE INDEX mod_product_reviews__review_product_id_author_key "
        "ON mod_product_reviews__review (product_id, author);\n"
        "CREATE INDEX mod_product_reviews__review_product_id_idx "
        "ON mod_product_reviews__review (product_id);\n"
    )
    assert (
        migration.down
        == "DROP TABLE mod_product_reviews__review;\nDROP TABLE mod_product_reviews__product;\n"
    )
    parsed = [statement for statement in sqlglot.parse(migration.up, read="postgres") if statement]
    assert [(type(s).__name__, s.args.get("kind")) for s in parsed] == [
        ("Create", "TABLE"),
        ("Create", "INDEX"),
        ("Create", "TABLE"),
        ("Create", "INDEX"),
        ("Create", "INDEX"),
    ]
    assert all(statement.endswith(";\n") for statement in re.split(r"(?<=;\n)", migration.up) if statement)


def test_names_follow_the_module_prefix_and_snake_case() -> None:
    assert table_prefix("product-reviews") == "mod_product_reviews__"
    with pytest.raises(ValueError, match="not lowercase"):
        table_prefix("Reviews")
    assert [snake_case(n) for n in ("productId", "HTTPServer", "OrderItem", "sku", "item2Name")] == [
        "product_id",
        "http_server",
        "order_item",
        "sku",
        "item2_name",
    ]
    migration = prisma_migration(
        "blog",
        'model Post {\n  id Int @id\n  bodyText String @map("content")\n'
        '  @@map("articles")\n  @@index([bodyText])\n}\n',
    )
    assert (
        "CREATE TABLE mod_blog__articles (\n  id INTEGER NOT NULL PRIMARY KEY,\n  content TEXT NOT NULL\n"
        in (migration.up)
    )
    assert "CREATE INDEX mod_blog__articles_content_idx ON mod_blog__articles (content);\n" in migration.up


def test_long_index_names_are_cut_to_63_characters_with_a_hash_that_keeps_them_apart() -> None:
    table = "mod_product_reviews__review_moderation_event"
    first = index_name(table, ["moderator_account_identifier", "created_at"], "idx")
    second = index_name(table, ["moderator_account_identifier", "updated_at"], "idx")
    assert len(first) == len(second) == 63
    assert first != second
    assert re.fullmatch(rf"{table}_moder_[0-9a-f]{{8}}_idx", first)  # the table stays readable
    assert index_name("mod_a_b", ["c"], "key") == "mod_a_b_c_key"  # short names stay readable


def test_the_parse_tree_keeps_fields_attributes_and_lines() -> None:
    schema = parse_prisma(REVIEWS)
    review = schema.models[0]
    assert (review.name, review.line) == ("Review", 2)
    assert review.fields[4] == PrismaField(
        "body", "String", optional=True, is_list=False, attributes=review.fields[4].attributes, line=7
    )
    assert review.fields[4].attributes[0].name == "map"
    index = review.attributes[1]
    assert (index.name, index.line) == ("index", 12)
    assert index.arguments[0].value == PrismaList((PrismaName("productId", 12),), 12)
    assert [value.name for value in schema.enums[0].values] == ["DRAFT", "PUBLISHED"]


# --- on real databases ---------------------------------------------------------------------------


def test_the_migration_creates_the_declared_tables(new_database: Callable[[], Engine]) -> None:
    engine = new_database()
    run(engine, prisma_migration("product-reviews", REVIEWS).up)

    tables = reflect(engine)
    assert set(tables) == {PRODUCT, REVIEW}
    nullable = {table: {c[0]: c[2] for c in info["columns"]} for table, info in tables.items()}  # type: ignore[attr-defined]
    assert nullable == {
        PRODUCT: {
            "id": False,
            "sku": False,
            "title": False,
            "price_cents": False,
            "rating": True,
            "created_at": False,
        },
        REVIEW: {
            "id": False,
            "product_id": False,
            "author": False,
            "text": True,
            "status": False,
            "visible": False,
        },
    }
    assert tables[PRODUCT]["primary_key"] == ("id",)
    assert tables[REVIEW]["primary_key"] == ("id",)
    assert tables[PRODUCT]["foreign_keys"] == set()
    assert tables[REVIEW]["foreign_keys"] == {
        (("product_id",), PRODUCT, ("id",), (("ondelete", "CASCADE"), ("onupdate", "CASCADE")))
    }
    assert tables[PRODUCT]["unique"] == {("sku",)}
    assert tables[REVIEW]["unique"] == {("product_id", "author")}
    assert tables[REVIEW]["indexes"] == {("mod_product_reviews__review_product_id_idx", ("product_id",))}


def test_defaults_enum_check_uniqueness_and_cascade_hold(new_database: Callable[[], Engine]) -> None:
    engine = new_database()
    run(engine, prisma_migration("product-reviews", REVIEWS).up)
    with engine.begin() as connection:
        # Ids are given: SERIAL is not an auto-increment alias on SQLite (the host's concern).
        connection.execute(text(f"INSERT INTO {PRODUCT} (id, sku, title) VALUES (1, 'p-1', 'Kettle')"))
        connection.execute(text(f"INSERT INTO {REVIEW} (id, product_id, author) VALUES (1, 1, 'ana')"))
        product = connection.execute(text(f"SELECT price_cents, rating, created_at FROM {PRODUCT}")).one()
        review = connection.execute(text(f"SELECT text, status, visible FROM {REVIEW}")).one()
    assert (product.price_cents, product.rating) == (0, None)
    assert product.created_at is not None
    assert (review.text, review.status, bool(review.visible)) == (None, "DRAFT", True)

    refused = [
        # PUBLISHED is stored as its @map value, so the name itself is not a valid value.
        f"INSERT INTO {REVIEW} (id, product_id, author, status) VALUES (2, 1, 'bo', 'PUBLISHED')",
        f"INSERT INTO {REVIEW} (id, product_id, author) VALUES (3, 1, 'ana')",  # @@unique
        f"INSERT INTO {REVIEW} (id, product_id, author) VALUES (4, 99, 'cy')",  # no such product
        f"INSERT INTO {PRODUCT} (id, sku, title) VALUES (2, 'p-1', 'Pot')",  # @unique
    ]
    for statement in refused:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO {REVIEW} (id, product_id, author, status) VALUES (5, 1, 'di', 'published')")
        )
        connection.execute(text(f"DELETE FROM {PRODUCT} WHERE id = 1"))
        assert (
            connection.execute(text(f"SELECT count(*) FROM {REVIEW}")).scalar_one() == 0
        )  # onDelete: Cascade


def test_the_fragment_and_hand_written_sql_make_the_same_tables(new_database: Callable[[], Engine]) -> None:
    from_prisma, by_hand = new_database(), new_database()
    run(from_prisma, prisma_migration("product-reviews", REVIEWS).up)
    run(by_hand, HAND_WRITTEN)

    assert reflect(from_prisma) == reflect(by_hand)
    assert reflect(by_hand)[REVIEW]["checks"]  # the enum's CHECK was compared, not absent on both sides


def test_down_after_up_leaves_no_table(new_database: Callable[[], Engine]) -> None:
    engine = new_database()
    fragment = REVIEWS + (
        "model Vote {\n"
        "  reviewId Int\n"
        "  voter    String\n"
        "  review   Review @relation(fields: [reviewId], references: [id])\n"
        "  parentReviewId Int?\n"
        '  parent   Vote? @relation("thread", fields: [parentReviewId, voter],\n'
        "                   references: [reviewId, voter])\n"
        '  replies  Vote[] @relation("thread")\n'
        "  @@id([reviewId, voter])\n"
        "}\n"
    )
    migration = prisma_migration("product-reviews", fragment)
    run(engine, migration.up)
    assert inspect(engine).get_pk_constraint("mod_product_reviews__vote")["constrained_columns"] == [
        "review_id",
        "voter",
    ]
    created = re.findall(r"CREATE TABLE (\w+)", migration.up)
    assert re.findall(r"DROP TABLE (\w+)", migration.down) == created[::-1]

    run(engine, migration.down)  # PostgreSQL refuses to drop a table another still references
    assert inspect(engine).get_table_names() == []


# --- problems ------------------------------------------------------------------------------------

MODEL = "model Thing {\n  id Int @id\n"


PROBLEMS = [
    pytest.param(
        MODEL + "  size Huge\n}\n",
        3,
        "field size has the unknown type Huge (scalar types: String, Int, BigInt, Float, Boolean, DateTime, "
        "Bytes, Json; or a model or enum of this fragment)",
        id="unknown type",
    ),
    pytest.param(
        'model Thing {\n  id Int @id\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n',
        5,
        "a datasource block is refused: a module fragment declares models only; the host owns the datasource",
        id="datasource",
    ),
    pytest.param(
        MODEL + "  tags String[]\n}\n",
        3,
        "field tags: scalar lists (String[]) are refused: SQLite has no array columns; use a Json field or a "
        "model of their own",
        id="scalar list",
    ),
    pytest.param(
        "model Thing {\n  id String @id @default(uuid())\n}\n",
        2,
        "field id: @default(uuid()) is refused: the host cannot generate uuid values the same way on SQLite "
        "and PostgreSQL; generate the id in the module and set it when inserting",
        id="uuid default",
    ),
    pytest.param(
        MODEL + "  ownerId Int\n  owner Owner @relation(fields: [ownerId], references: [id])\n}\n",
        4,
        "field owner relates to Owner, which is not a model of this fragment",
        id="relation to unknown model",
    ),
    pytest.param(
        "model Author {\n"
        "  id     Int  @id\n"
        "  bookId Int\n"
        '  book   Book @relation("favourite", fields: [bookId], references: [id])\n'
        '  books  Book[] @relation("wrote")\n'
        "}\n"
        "model Book {\n"
        "  id       Int    @id\n"
        "  authorId Int\n"
        '  author   Author @relation("wrote", fields: [authorId], references: [id])\n'
        '  fans     Author[] @relation("favourite")\n'
        "}\n",
        10,
        "relations form a cycle: Author -> Book -> Author; the tables cannot be created one after the other "
        "(SQLite cannot add a foreign key later): drop the @relation on one side and keep its id field",
        id="cyclic required relations",
    ),
    pytest.param(
        MODEL + "}\n\nmodel Thing {\n  id Int @id\n}\n",
        5,
        "model Thing is declared twice (first on line 1)",
        id="duplicate model",
    ),
    pytest.param(
        MODEL + "  changedAt DateTime @updatedAt\n}\n",
        3,
        "field changedAt: @updatedAt is refused: Prisma Client sets it, not the database, and a module's "
        "queries do not go through Prisma Client, so the column would never change; set it from the module "
        "(or use @default(now()) for a creation time)",
        id="updatedAt",
    ),
    pytest.param(
        MODEL + "  name String @db.VarChar(40)\n}\n",
        3,
        "field name: native types (@db.VarChar) are refused: they differ between SQLite and PostgreSQL; the "
        "column type follows the Prisma type",
        id="native type",
    ),
    pytest.param(
        MODEL + "  price Decimal\n}\n",
        3,
        "field price: Decimal is refused: SQLite stores NUMERIC as a floating-point REAL and would lose "
        "digits; keep money as Int or BigInt minor units (cents), or as a String",
        id="decimal",
    ),
    pytest.param(
        MODEL + '\n  @@map("mod_things")\n}\n',
        4,
        '@@map("mod_things") must not start with mod_: the host adds mod_shop__ to every table itself, '
        "so this would name mod_shop__mod_things",
        id="map with mod_",
    ),
    pytest.param(
        MODEL + "  order Int\n}\n",
        3,
        "column name order (field order) is an SQL keyword on SQLite or PostgreSQL: rename the field or give "
        'it @map("...")',
        id="reserved column name",
    ),
    pytest.param(
        "model Thing {\n  name String\n}\n",
        1,
        "model Thing has no primary key: mark a field @id, or list fields in @@id([a, b])",
        id="no primary key",
    ),
    pytest.param(
        MODEL + "  parentId Int\n  parent Thing @relation(fields: [parentId], references: [id], "
        "onDelete: SetNull)\n  children Thing[]\n}\n",
        4,
        "field parent: @relation: SetNull needs the fields [parentId] to be optional",
        id="SetNull on a required field",
    ),
]


@pytest.mark.parametrize(("fragment", "line", "message"), PROBLEMS)
def test_a_refused_fragment_names_the_problem_and_its_line(fragment: str, line: int, message: str) -> None:
    with pytest.raises(PrismaError) as raised:
        prisma_migration("shop", fragment)
    assert raised.value.problems == [PrismaProblem(line, message)]


def test_an_implicit_many_to_many_relation_is_refused_on_both_sides() -> None:
    fragment = MODEL + "  tags Tag[]\n}\nmodel Tag {\n  id Int @id\n  things Thing[]\n}\n"
    with pytest.raises(PrismaError) as raised:
        prisma_migration("shop", fragment)
    why = (
        "implicit many-to-many relations are refused (Prisma would invent the join table); declare the join "
        "model with a relation to each side"
    )
    assert raised.value.problems == [
        PrismaProblem(3, f"field tags: {why}"),
        PrismaProblem(7, f"field things: {why}"),
    ]


def test_every_problem_is_reported_at_once_with_the_source_and_line() -> None:
    fragment = (
        "generator client {\n"  # 1
        '  provider = "prisma-client-js"\n'
        "}\n"
        "model Thing {\n"  # 4
        "  id    String @id @default(cuid())\n"  # 5
        "  size  Huge\n"  # 6
        "  count Int @default(1.5)\n"  # 7
        "  @@index([missing])\n"  # 8
        "}\n"
    )
    with pytest.raises(PrismaError) as raised:
        prisma_migration("shop", fragment, source="modules/shop/schema.prisma")
    assert [problem.line for problem in raised.value.problems] == [1, 5, 6, 7, 8]
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("modules/shop/schema.prisma:1: a generator block is refused")
    assert lines[3] == "modules/shop/schema.prisma:7: field count: @default(1.5) does not fit the type Int"
    assert lines[4] == "modules/shop/schema.prisma:8: @@index: model Thing has no field missing"


def test_syntax_problems_are_all_reported_with_their_lines() -> None:
    fragment = (
        "model Thing {\n"  # 1
        "  id Int @id @default(\n"  # 2: the ( is never closed
        "  name String 'x'\n"  # 3
        "}\n"
        "model {\n"  # 5
        "}\n"
        "model Other {\n"  # 7
        '  label String @map("open\n'  # 8
    )
    with pytest.raises(PrismaError) as raised:
        parse_prisma(fragment)
    assert raised.value.problems == [
        PrismaProblem(2, "missing ) for the ( opened on this line (found `String` on line 3)"),
        PrismaProblem(3, 'unexpected character "\'"'),
        PrismaProblem(5, "expected a model name after `model`, found `{`"),
        PrismaProblem(7, "model Other is not closed: missing }"),
        PrismaProblem(8, 'a string is not closed: missing " before the end of the line'),
        PrismaProblem(8, "missing ) for the ( opened on this line (found the end of the file)"),
    ]
