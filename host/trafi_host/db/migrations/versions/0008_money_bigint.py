"""commerce money columns become BIGINT (an order of 22 x 100000000 cents overflowed INTEGER)

Revision ID: 0008
Revises: 0007

On SQLite the columns already held 64-bit values; batch mode rebuilds each table so
that its declared type matches. `Database.migrate` turns SQLite's foreign keys off
around the migration (a table rebuild must not cascade into order lines), then
checks them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = {
    "trafi_products": ("price_cents",),
    "trafi_orders": ("total_cents",),
    "trafi_order_lines": ("unit_price_cents",),
    "trafi_payments": ("amount_cents",),
}


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:  # type: ignore[type-arg]
    for table, columns in MONEY.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
