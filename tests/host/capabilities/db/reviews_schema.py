"""The migrations of a small two-table module (products and their reviews), written as a module would."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from trafi_host.capabilities.db.host import ModuleDatabase
from trafi_host.capabilities.db.migration_files import read_migrations
from trafi_host.capabilities.db.migrations import MigrationRunner

MODULE = "shop-reviews"

INIT_UP = """-- products a review is about, and the reviews
CREATE TABLE mod_shop_reviews__product (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sku TEXT UNIQUE
);

CREATE TABLE mod_shop_reviews__review (
    id SERIAL PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES mod_shop_reviews__product (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (product_id, author)
);
CREATE INDEX mod_shop_reviews__review_rating ON mod_shop_reviews__review (rating);
"""
INIT_DOWN = """DROP TABLE mod_shop_reviews__review;
DROP TABLE mod_shop_reviews__product;
"""
HELPFUL_UP = "ALTER TABLE mod_shop_reviews__review ADD COLUMN helpful INTEGER NOT NULL DEFAULT 0;\n"
HELPFUL_DOWN = "ALTER TABLE mod_shop_reviews__review DROP COLUMN helpful;\n"


def write_migrations(folder: Path, *, helpful: bool = True) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / "0001_init.up.sql").write_text(INIT_UP)
    (migrations / "0001_init.down.sql").write_text(INIT_DOWN)
    if helpful:
        (migrations / "0002_helpful.up.sql").write_text(HELPFUL_UP)
        (migrations / "0002_helpful.down.sql").write_text(HELPFUL_DOWN)
    return folder


def migrated(engine: Engine, folder: Path) -> ModuleDatabase:
    """The module's tables created on `engine`, and the capability's view of them."""
    database = ModuleDatabase.on(engine)
    runner = MigrationRunner(engine, on_schema_change=database.tables.invalidate)
    runner.sync(MODULE, "1.0.0", read_migrations(MODULE, write_migrations(folder), "migrations"))
    return database


def reflected(engine: Engine) -> dict[str, object]:
    """Everything about the module's tables that a migration decides, comparable across runs."""
    inspector = inspect(engine)
    shape: dict[str, object] = {}
    for table in sorted(t for t in inspector.get_table_names() if t.startswith("mod_")):
        shape[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
        }
    return shape
