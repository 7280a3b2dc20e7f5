"""The kv capability's database backend (SQLite or PostgreSQL, same SQL)."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ...db.engine import Database
from ...db.schema import KvEntry, utcnow
from .backend import next_counter

_GET = select(KvEntry.value).where(
    KvEntry.tenant_id == bindparam("tenant_id"),
    KvEntry.module == bindparam("module"),
    KvEntry.key == bindparam("key"),
)


class SqlKv:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, tenant: str, module: str, key: str) -> bytes | None:
        # A Core connection, not an ORM session: this read is on every request's path.
        with self.database.engine.connect() as connection:
            value = connection.execute(
                _GET, {"tenant_id": tenant, "module": module, "key": key}
            ).scalar_one_or_none()
        return None if value is None else bytes(value)

    def set(self, tenant: str, module: str, key: str, value: bytes) -> None:
        insert = postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert
        statement = insert(KvEntry).values(
            tenant_id=tenant, module=module, key=key, value=value, updated_at=utcnow()
        )
        statement = statement.on_conflict_do_update(
            index_elements=[KvEntry.tenant_id, KvEntry.module, KvEntry.key],
            set_={"value": value, "updated_at": utcnow()},
        )
        with self.database.session() as session:
            session.execute(statement)

    def delete(self, tenant: str, module: str, key: str) -> bool:
        with self.database.session() as session:
            result = session.execute(
                delete(KvEntry).where(
                    KvEntry.tenant_id == tenant, KvEntry.module == module, KvEntry.key == key
                )
            )
        return bool(getattr(result, "rowcount", 0))

    def increment(self, tenant: str, module: str, key: str, delta: int) -> int:
        insert = postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert
        with self.database.session() as session:
            # Insert-if-missing first: on SQLite it takes the write lock, on
            # PostgreSQL the row then exists for FOR UPDATE to lock.
            session.execute(
                insert(KvEntry)
                .values(tenant_id=tenant, module=module, key=key, value=b"0", updated_at=utcnow())
                .on_conflict_do_nothing()
            )
            row = session.scalars(
                select(KvEntry)
                .where(KvEntry.tenant_id == tenant, KvEntry.module == module, KvEntry.key == key)
                .with_for_update()
            ).one()
            value = next_counter(bytes(row.value), delta, key)
            row.value = str(value).encode()
            row.updated_at = utcnow()
        return value

    def list_keys(self, tenant: str, module: str, prefix: str, limit: int) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self.database.session() as session:
            keys = session.scalars(
                select(KvEntry.key)
                .where(
                    KvEntry.tenant_id == tenant,
                    KvEntry.module == module,
                    KvEntry.key.like(escaped + "%", escape="\\"),
                )
                .order_by(KvEntry.key)
                .limit(limit)
            ).all()
        return list(keys)
