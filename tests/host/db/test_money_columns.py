"""Revision 0008: the commerce money columns are BIGINT, and upgrading keeps every row."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from trafi_host.db import Database
from trafi_host.db.engine import MIGRATIONS

MONEY = {
    "trafi_products": "price_cents",
    "trafi_orders": "total_cents",
    "trafi_order_lines": "unit_price_cents",
    "trafi_payments": "amount_cents",
}
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _upgrade_to(database: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _shop_at_0007(database: Database) -> None:
    rows = [
        "INSERT INTO trafi_products VALUES ('prd_1', 'acme', 'MUG', 'Mug', 1250, 'EUR', :now, :now)",
        "INSERT INTO trafi_customers VALUES ('cus_1', 'acme', 'ada@example.com', 'Ada', :now)",
        "INSERT INTO trafi_orders VALUES ('ord_1', 'acme', 'cus_1', 'pending', 2500, 'EUR', :now, :now)",
        "INSERT INTO trafi_order_lines (order_id, product_id, sku, quantity, unit_price_cents)"
        " VALUES ('ord_1', 'prd_1', 'MUG', 2, 1250)",
        "INSERT INTO trafi_order_notes (order_id, author, text, created_at)"
        " VALUES ('ord_1', 'me', 'hi', :now)",
        "INSERT INTO trafi_payments"
        " VALUES ('pay_1', 'acme', 'ord_1', 'created', 2500, 'EUR', NULL, :now, :now)",
    ]
    with database.engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement), {"now": NOW})


def test_upgrading_to_0008_makes_money_bigint_and_keeps_every_row(database_url: str) -> None:
    database = Database(database_url)
    try:
        _upgrade_to(database, "0007")
        _shop_at_0007(database)
        database.migrate()
        columns = inspect(database.engine)
        for table, column in MONEY.items():
            kind = next(c["type"] for c in columns.get_columns(table) if c["name"] == column)
            assert kind.python_type is int and "BIG" in str(kind).upper(), (table, column, kind)
        with database.engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (*MONEY, "trafi_customers", "trafi_order_notes")
            }
            assert set(counts.values()) == {1}, counts
            # Every money column now holds more than 32 bits.
            connection.execute(text("UPDATE trafi_orders SET total_cents = 2200000000"))
            assert (
                connection.execute(text("SELECT total_cents FROM trafi_orders")).scalar_one() == 2_200_000_000
            )
            if database.dialect == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        database.close()
