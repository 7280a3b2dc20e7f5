"""The host's own database: SQLite under `.trafi/` by default, PostgreSQL by URL."""

from .engine import Database, DatabaseBusy, is_database_busy
from .schema import ApiKey, AuditEntry, Base, KvEntry, Tenant

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Database",
    "DatabaseBusy",
    "KvEntry",
    "Tenant",
    "is_database_busy",
]
