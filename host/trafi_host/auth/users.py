"""Operator and admin users: one tenant each, argon2 password hashes, disabled rather than deleted.

A disabled user's sessions and tokens are refused from its next request on
(credentials are verified against the user row on every request, not cached).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..db.engine import Database
from ..db.schema import Tenant, User, UserRole, utcnow
from ..errors import TrafiError
from .audit_entry import audited
from .passwords import hash_password
from .roles import role_row

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    tenant_id: str
    roles: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


def create_user(
    database: Database,
    username: str,
    tenant_id: str,
    password: str,
    roles: tuple[str, ...] = (),
    actor: str | None = None,
) -> UserRecord:
    if not USERNAME.match(username):
        raise TrafiError(f"username {username!r} must be lowercase letters, digits, '.', '_', '-' (max 64)")
    password_hash = hash_password(password)  # before the transaction: it takes a while
    user_id = f"usr_{secrets.token_hex(8)}"
    with database.write_session() as session:
        if session.get(Tenant, tenant_id) is None:
            raise TrafiError(f"no tenant {tenant_id!r}; create it with `trafi tenant create {tenant_id}`")
        if session.scalars(select(User.id).where(User.username == username)).first() is not None:
            raise TrafiError(f"user {username!r} already exists")
        for role in roles:
            role_row(session, role)
        user = User(
            id=user_id,
            username=username,
            tenant_id=tenant_id,
            password_hash=password_hash,
            created_at=utcnow(),
        )
        session.add(user)
        session.flush()
        session.add_all(UserRole(user_id=user_id, role=role) for role in dict.fromkeys(roles))
        detail = f"user {username} of tenant {tenant_id}, roles {' '.join(roles) or '(none)'}"
        audited(session, "user-created", detail, actor)
        created_at = user.created_at
    return UserRecord(user_id, username, tenant_id, tuple(sorted(set(roles))), created_at, None)


def list_users(database: Database, tenant_id: str | None = None) -> list[UserRecord]:
    with database.session() as session:
        query = select(User).order_by(User.username)
        if tenant_id is not None:
            query = query.where(User.tenant_id == tenant_id)
        users = list(session.scalars(query))
        roles: dict[str, list[str]] = {}
        for user_id, role in session.execute(select(UserRole.user_id, UserRole.role).order_by(UserRole.role)):
            roles.setdefault(user_id, []).append(role)
        return [
            UserRecord(u.id, u.username, u.tenant_id, tuple(roles.get(u.id, ())), u.created_at, u.disabled_at)
            for u in users
        ]


def disable_user(database: Database, username: str, actor: str | None = None) -> UserRecord:
    """Refuses the user's sessions and tokens from now on; idempotent."""
    with database.write_session() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise TrafiError(f"no user {username!r}; see `trafi user list`")
        if user.disabled_at is None:
            user.disabled_at = utcnow()
            audited(session, "user-disabled", f"user {username} of tenant {user.tenant_id}", actor)
        record = (user.id, user.username, user.tenant_id, user.created_at, user.disabled_at)
    roles = next(u.roles for u in list_users(database, record[2]) if u.id == record[0])
    return UserRecord(record[0], record[1], record[2], roles, record[3], record[4])
