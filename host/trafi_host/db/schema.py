"""Tables of the host's own schema. Changes need an Alembic revision in `migrations/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "trafi_tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """An API key: the public `key_id` finds the row, the secret is kept only as a hash."""

    __tablename__ = "trafi_api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("trafi_tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class User(Base):
    """An operator or admin of one tenant: signs in to the dashboard, or scripts with a token."""

    __tablename__ = "trafi_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("trafi_tenants.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Role(Base):
    """A named set of permissions (and wildcards) that users are assigned."""

    __tablename__ = "trafi_roles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RolePermission(Base):
    __tablename__ = "trafi_role_permissions"

    role: Mapped[str] = mapped_column(ForeignKey("trafi_roles.name", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(200), primary_key=True)


class UserRole(Base):
    __tablename__ = "trafi_user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("trafi_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(
        ForeignKey("trafi_roles.name", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserCredential(Base):
    """A user's dashboard session or bearer token: the public `id` finds the row, the secret
    is kept only as a hash; both expire, and either is refused once the user is disabled."""

    __tablename__ = "trafi_user_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("trafi_users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | token
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KvEntry(Base):
    __tablename__ = "trafi_kv"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who did what to which module: overrides, installs, removals, incidents."""

    __tablename__ = "trafi_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class ModuleStateRow(Base):
    """Whether a module runs: the truth every host process reconciles to (the config file mirrors it)."""

    __tablename__ = "trafi_module_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    quarantined: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200))


class ModuleMigrationRow(Base):
    """One applied migration of a module's database (see capabilities/db/migrations.py)."""

    __tablename__ = "trafi_module_migrations"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    migration_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64))
    up_sql: Mapped[str] = mapped_column(Text)
    down_sql: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_version: Mapped[str] = mapped_column(String(64))


class ModuleDbRows(Base):
    """How many rows a tenant keeps in a module's tables: the quota's counter."""

    __tablename__ = "trafi_module_db_rows"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)


class RateLimitOverride(Base):
    """The operator's rate for one module and one tenant (`*`: every tenant without its own row)."""

    __tablename__ = "trafi_rate_limits"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rate: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200))


# The Core tables of the mapped classes above, typed as tables (what `insert`/`delete` take).
KV = cast(Table, KvEntry.__table__)
MIGRATIONS = cast(Table, ModuleMigrationRow.__table__)
DB_ROWS = cast(Table, ModuleDbRows.__table__)
