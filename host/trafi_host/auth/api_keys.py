"""API keys look like `trafi_<key id>_<secret>`; only a hash of the secret is stored.

The secret is 256 random bits, so a fast hash is the right tool (a slow password
hash would only add latency to every request without adding safety).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..db.engine import Database
from ..db.schema import ApiKey, Tenant, utcnow
from ..errors import AuthError, TrafiError
from .audit_entry import audited as _audited
from .permissions import ALL, check_grant

_KEY = re.compile(r"^trafi_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    tenant_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tenant(
    database: Database, tenant_id: str, name: str | None = None, actor: str | None = None
) -> Tenant:
    if not TENANT_ID.match(tenant_id):
        raise TrafiError(f"tenant id {tenant_id!r} must be lowercase letters, digits and '-' (max 63)")
    with database.session() as session:
        if session.get(Tenant, tenant_id) is not None:
            raise TrafiError(f"tenant {tenant_id!r} already exists")
        tenant = Tenant(id=tenant_id, name=name or tenant_id, created_at=utcnow())
        session.add(tenant)
        _audited(session, "tenant-created", f"tenant {tenant_id}", actor)
    return tenant


def list_tenants(database: Database) -> list[Tenant]:
    with database.session() as session:
        return list(session.scalars(select(Tenant).order_by(Tenant.id)))


def create_api_key(
    database: Database,
    tenant_id: str,
    name: str = "default",
    scopes: tuple[str, ...] = (ALL,),
    actor: str | None = None,
    known: frozenset[str] | None = None,
) -> tuple[str, ApiKeyRecord]:
    """Returns the plaintext key (shown once) and its record.

    `scopes`: the permissions (or wildcards) the key carries; `*`, the default, is its
    tenant's full access. `known`: the permission catalogue each scope must name.
    """
    if not scopes:
        raise TrafiError("an API key needs at least one scope (`*` for the tenant's full access)")
    scopes = tuple(dict.fromkeys(check_grant(scope, known) for scope in scopes))
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with database.session() as session:
        if session.get(Tenant, tenant_id) is None:
            raise TrafiError(f"no tenant {tenant_id!r}; create it with `trafi tenant create {tenant_id}`")
        row = ApiKey(
            key_id=key_id,
            tenant_id=tenant_id,
            name=name,
            secret_hash=_hash(secret),
            scopes=" ".join(scopes),
            created_at=utcnow(),
        )
        session.add(row)
        _audited(
            session,
            "api-key-created",
            f"tenant {tenant_id}, key {key_id} ({name}), scopes {' '.join(scopes)}",
            actor,
        )
    record = ApiKeyRecord(key_id, tenant_id, name, scopes, row.created_at)
    return f"trafi_{key_id}_{secret}", record


def verify_api_key(database: Database, presented: str) -> ApiKeyRecord:
    match = _KEY.match(presented.strip())
    if match is None:
        raise AuthError("malformed API key")
    key_id, secret = match.groups()
    with database.session() as session:
        row = session.get(ApiKey, key_id)
    # Compare even when the row is missing, so timing does not tell which part was wrong.
    expected = row.secret_hash if row is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or row is None:
        raise AuthError("unknown API key")
    if row.revoked_at is not None:
        raise AuthError("revoked API key")
    return ApiKeyRecord(row.key_id, row.tenant_id, row.name, tuple(row.scopes.split()), row.created_at)


def revoke_api_key(database: Database, key_id: str, actor: str | None = None) -> ApiKeyRecord:
    """Revoke by key id (the part after `trafi_`). Running hosts see it at their next look at
    `revocations_signature` (or at once, when the change is announced on Redis)."""
    with database.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise TrafiError(f"no API key with id {key_id!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            _audited(session, "api-key-revoked", f"tenant {row.tenant_id}, key {key_id} ({row.name})", actor)
        return ApiKeyRecord(row.key_id, row.tenant_id, row.name, tuple(row.scopes.split()), row.created_at)


def revocations_signature(database: Database) -> tuple[int, str]:
    """Changes whenever a key is revoked: what a running host polls to drop its verified keys."""
    with database.session() as session:
        count, newest = session.execute(
            select(func.count(ApiKey.key_id), func.max(ApiKey.revoked_at)).where(
                ApiKey.revoked_at.is_not(None)
            )
        ).one()
    return int(count), str(newest)
