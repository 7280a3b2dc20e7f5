"""Running migrations on SQLite and PostgreSQL: tracked, reversible, all or nothing, checksummed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from trafi_host.capabilities.db.migration_files import read_migrations
from trafi_host.capabilities.db.migrations import MigrationRunner, Step
from trafi_host.db.engine import Database
from trafi_host.errors import MigrationError

from .reviews_schema import MODULE, reflected, write_migrations


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    return database


def test_up_down_up_leaves_the_same_schema(database: Database, tmp_path: Path) -> None:
    runner = MigrationRunner(database.engine)
    migrations = read_migrations(MODULE, write_migrations(tmp_path), "migrations")
    assert runner.sync(MODULE, "1.0.0", migrations) == [Step("up", "0001_init"), Step("up", "0002_helpful")]
    first = reflected(database.engine)
    assert set(first) == {"mod_shop_reviews__product", "mod_shop_reviews__review"}
    review = first["mod_shop_reviews__review"]
    assert isinstance(review, dict)
    # The foreign key is the tenant's: the database itself refuses a row pointing at another tenant's.
    assert review["fks"] == [
        (("trafi_tenant", "product_id"), "mod_shop_reviews__product", ("trafi_tenant", "id"))
    ]
    product = first["mod_shop_reviews__product"]
    assert isinstance(product, dict) and product["pk"] == ["trafi_tenant", "id"]
    assert [a.id for a in runner.applied(MODULE)] == ["0001_init", "0002_helpful"]
    assert runner.applied(MODULE)[0].applied_version == "1.0.0"

    assert runner.sync(MODULE, "1.0.0", migrations, down=True) == [
        Step("down", "0002_helpful"),
        Step("down", "0001_init"),
    ]
    assert reflected(database.engine) == {}
    assert runner.applied(MODULE) == []

    runner.sync(MODULE, "1.0.0", migrations)
    assert reflected(database.engine) == first


def test_to_stops_at_a_migration_and_down_to_keeps_it(database: Database, tmp_path: Path) -> None:
    runner = MigrationRunner(database.engine)
    migrations = read_migrations(MODULE, write_migrations(tmp_path), "migrations")
    assert runner.sync(MODULE, "1.0.0", migrations, to="0001_init") == [Step("up", "0001_init")]
    assert runner.plan(MODULE, migrations) == [Step("up", "0002_helpful")]
    runner.sync(MODULE, "1.0.0", migrations)
    assert runner.sync(MODULE, "1.0.0", migrations, to="0001_init", down=True) == [
        Step("down", "0002_helpful")
    ]
    columns = {c["name"] for c in inspect(database.engine).get_columns("mod_shop_reviews__review")}
    assert "helpful" not in columns and "trafi_tenant" in columns


def test_a_failing_migration_leaves_the_schema_and_the_state_as_they_were(
    database: Database, tmp_path: Path
) -> None:
    runner = MigrationRunner(database.engine)
    folder = write_migrations(tmp_path, helpful=False)
    runner.sync(MODULE, "1.0.0", read_migrations(MODULE, folder, "migrations"))
    before = reflected(database.engine)
    # Version 2 adds a good migration, then one that fails halfway (the table exists).
    (folder / "migrations" / "0002_helpful.up.sql").write_text(
        "ALTER TABLE mod_shop_reviews__review ADD COLUMN helpful INTEGER NOT NULL DEFAULT 0;\n"
    )
    (folder / "migrations" / "0002_helpful.down.sql").write_text(
        "ALTER TABLE mod_shop_reviews__review DROP COLUMN helpful;\n"
    )
    (folder / "migrations" / "0003_broken.up.sql").write_text(
        "CREATE TABLE mod_shop_reviews__tag (name TEXT);\nCREATE TABLE mod_shop_reviews__product (id TEXT);\n"
    )
    (folder / "migrations" / "0003_broken.down.sql").write_text("DROP TABLE mod_shop_reviews__tag;\n")
    with pytest.raises(MigrationError, match=r"0003_broken \(up\) failed at 0003_broken.up.sql:2"):
        runner.sync(MODULE, "2.0.0", read_migrations(MODULE, folder, "migrations"))
    assert reflected(database.engine) == before
    assert [(a.id, a.applied_version) for a in runner.applied(MODULE)] == [("0001_init", "1.0.0")]


def test_a_changed_applied_migration_is_refused_before_anything_runs(
    database: Database, tmp_path: Path
) -> None:
    runner = MigrationRunner(database.engine)
    folder = write_migrations(tmp_path, helpful=False)
    runner.sync(MODULE, "1.0.0", read_migrations(MODULE, folder, "migrations"))
    up = folder / "migrations" / "0001_init.up.sql"
    up.write_text(up.read_text().replace("name TEXT NOT NULL", "name TEXT"))
    with pytest.raises(MigrationError, match="0001_init was changed after it was applied"):
        runner.sync(MODULE, "1.0.1", read_migrations(MODULE, folder, "migrations"))


def test_a_version_without_a_migration_reverts_it_with_the_down_sql_stored_when_applied(
    database: Database, tmp_path: Path
) -> None:
    runner = MigrationRunner(database.engine)
    runner.sync(MODULE, "2.0.0", read_migrations(MODULE, write_migrations(tmp_path / "v2"), "migrations"))
    # Rolling back to 1.0.0, whose files do not have 0002_helpful at all.
    v1 = read_migrations(MODULE, write_migrations(tmp_path / "v1", helpful=False), "migrations")
    assert runner.sync(MODULE, "1.0.0", v1) == [Step("down", "0002_helpful")]
    columns = {c["name"] for c in inspect(database.engine).get_columns("mod_shop_reviews__review")}
    assert "helpful" not in columns


PRISMA = """
model Product {
  id   String  @id
  name String
  sku  String? @unique
  reviews Review[]
}

model Review {
  id        Int      @id @default(autoincrement())
  product   Product  @relation(fields: [productId], references: [id], onDelete: Cascade)
  productId String
  author    String
  rating    Int
  @@unique([productId, author])
}
"""


def test_a_prisma_fragment_is_migrated_like_sql_with_the_tenant_guards(
    database: Database, tmp_path: Path
) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "schema.prisma").write_text(PRISMA)
    migrations = read_migrations(MODULE, tmp_path, "migrations")
    assert [m.id for m in migrations] == ["0000_prisma_schema"]
    runner = MigrationRunner(database.engine)
    runner.sync(MODULE, "1.0.0", migrations)
    shape = reflected(database.engine)
    review = shape["mod_shop_reviews__review"]
    assert isinstance(review, dict)
    assert review["fks"] == [
        (("trafi_tenant", "product_id"), "mod_shop_reviews__product", ("trafi_tenant", "id"))
    ]
    runner.sync(MODULE, "1.0.0", migrations, down=True)
    assert reflected(database.engine) == {}
