"""module database: each module's applied migrations, and its rows per tenant

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trafi_module_migrations",
        sa.Column("module", sa.String(64), primary_key=True),
        sa.Column("migration_id", sa.String(200), primary_key=True),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("up_sql", sa.Text(), nullable=False),
        # The module's down SQL as applied: a rollback to a version that no longer
        # ships this migration, or a removal after the files are gone, still reverts it.
        sa.Column("down_sql", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_version", sa.String(64), nullable=False),
    )
    op.create_table(
        "trafi_module_db_rows",
        sa.Column("module", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trafi_module_db_rows")
    op.drop_table("trafi_module_migrations")
