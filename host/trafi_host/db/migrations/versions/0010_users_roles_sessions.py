"""users, roles and their permissions, sessions and tokens; API keys without scopes get full access

Revision ID: 0010
Revises: 0009

Keys created before scopes existed carry none; they keep working as they did, with
their tenant's full access: their empty scope list becomes `*`. A key created
from now on carries the scopes it was given (`trafi apikey create --scope ...`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trafi_users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "tenant_id",
            sa.String(64),
            sa.ForeignKey("trafi_tenants.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "trafi_roles",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "trafi_role_permissions",
        sa.Column(
            "role", sa.String(64), sa.ForeignKey("trafi_roles.name", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("permission", sa.String(200), primary_key=True),
    )
    op.create_table(
        "trafi_user_roles",
        sa.Column(
            "user_id", sa.String(32), sa.ForeignKey("trafi_users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "role",
            sa.String(64),
            sa.ForeignKey("trafi_roles.name", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "trafi_user_credentials",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("trafi_users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute("UPDATE trafi_api_keys SET scopes = '*' WHERE scopes = ''")


def downgrade() -> None:
    op.execute("UPDATE trafi_api_keys SET scopes = '' WHERE scopes = '*'")
    op.drop_index("ix_trafi_user_credentials_user_id", table_name="trafi_user_credentials")
    op.drop_table("trafi_user_credentials")
    op.drop_index("ix_trafi_user_roles_role", table_name="trafi_user_roles")
    op.drop_table("trafi_user_roles")
    op.drop_table("trafi_role_permissions")
    op.drop_index("ix_trafi_users_tenant_id", table_name="trafi_users")
    op.drop_table("trafi_users")
    op.drop_table("trafi_roles")
