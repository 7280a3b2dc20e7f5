"""A user's sessions (dashboard, cookie) and bearer tokens (scripts): issued, verified, revoked.

Both look like `<prefix>_<id>_<secret>` (`trafis_` a session, `trafit_` a token);
only a sha256 of the 256-bit secret is stored, with an expiry. Verifying reads
the credential, its user and the user's roles in one transaction on every
request: a disabled user, a revoked credential or a changed role applies at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select

from ..audit_log import current_actor
from ..db.engine import Database
from ..db.schema import User, UserCredential, utcnow
from ..errors import AuthError, TrafiError
from .audit_entry import audited
from .caller import Caller
from .passwords import hash_password, needs_rehash, verify_password
from .roles import grants_of_user

CredentialKind = Literal["session", "token"]
PREFIX: dict[CredentialKind, str] = {"session": "trafis", "token": "trafit"}
_FORMAT = re.compile(r"^(trafis|trafit)_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=366)


@dataclass(frozen=True)
class IssuedCredential:
    secret: str  # shown once: the cookie value or the bearer token
    id: str
    kind: CredentialKind
    username: str
    tenant_id: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_user_credential(presented: str) -> bool:
    return presented.startswith(("trafis_", "trafit_"))


def _issue(
    database: Database, user: User, kind: CredentialKind, name: str, lifetime: timedelta, actor: str
) -> IssuedCredential:
    credential_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with database.write_session() as session:
        session.add(
            UserCredential(
                id=credential_id,
                user_id=user.id,
                kind=kind,
                name=name,
                secret_hash=_hash(secret),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        action = "session-started" if kind == "session" else "user-token-created"
        detail = f"user {user.username} of tenant {user.tenant_id}, {kind} {credential_id} ({name})"
        audited(session, action, detail, actor)
    presented = f"{PREFIX[kind]}_{credential_id}_{secret}"
    return IssuedCredential(presented, credential_id, kind, user.username, user.tenant_id, now + lifetime)


def _active_user(database: Database, username: str) -> User:
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise TrafiError(f"no user {username!r}; see `trafi user list`")
        if user.disabled_at is not None:
            raise TrafiError(f"user {username!r} is disabled")
        session.expunge(user)
        return user


def login(
    database: Database, username: str, password: str, lifetime: timedelta = SESSION_LIFETIME
) -> IssuedCredential:
    """A new dashboard session for the right password of an enabled user; one error for every
    wrong case (unknown user, wrong password, disabled), so the answer tells nothing."""
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is not None:
            session.expunge(user)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise AuthError("wrong username or password, or the user is disabled")
    if user.disabled_at is not None:
        raise AuthError("wrong username or password, or the user is disabled")
    if needs_rehash(user.password_hash):
        with database.write_session() as session:
            row = session.get(User, user.id)
            if row is not None:
                row.password_hash = hash_password(password)
    return _issue(database, user, "session", "dashboard", lifetime, f"user {user.username}")


def create_token(
    database: Database,
    username: str,
    name: str = "default",
    lifetime: timedelta = TOKEN_LIFETIME,
    actor: str | None = None,
) -> IssuedCredential:
    """A bearer token for scripts: the user's permissions, until it expires or is revoked."""
    if not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
        raise TrafiError(f"a token lives more than 0 and at most {MAX_TOKEN_LIFETIME.days} days")
    user = _active_user(database, username)
    return _issue(database, user, "token", name, lifetime, actor or current_actor())


def verify_credential(database: Database, presented: str, kind: CredentialKind) -> Caller:
    """The caller a session or token acts as; AuthError if it is malformed, unknown, of the
    other kind, expired, revoked, or its user is disabled."""
    match = _FORMAT.match(presented.strip())
    if match is None or match.group(1) != PREFIX[kind]:
        raise AuthError(f"malformed {kind}")
    _, credential_id, secret = match.groups()
    with database.session() as session:
        row = session.get(UserCredential, credential_id)
        expected = row.secret_hash if row is not None else _hash("")
        if not hmac.compare_digest(expected, _hash(secret)) or row is None or row.kind != kind:
            raise AuthError(f"unknown {kind}")
        if row.revoked_at is not None:
            raise AuthError(f"{kind} ended" if kind == "session" else "revoked token")
        if _aware(row.expires_at) <= utcnow():
            raise AuthError(f"expired {kind}")
        user = session.get(User, row.user_id)
        if user is None or user.disabled_at is not None:
            raise AuthError("the user is disabled")
        return Caller(
            id=user.id,
            kind="user",
            name=user.username,
            tenant_id=user.tenant_id,
            grants=grants_of_user(session, user.id),
            credential=kind,
            credential_id=row.id,
        )


def revoke_credential(
    database: Database, credential_id: str, actor: str | None = None, username: str | None = None
) -> bool:
    """Ends a session (logout) or revokes a token; with `username`, only one of that user's.
    Returns whether it was live."""
    with database.write_session() as session:
        row = session.get(UserCredential, credential_id)
        if row is None:
            raise TrafiError(f"no session or token with id {credential_id!r}")
        user = session.get(User, row.user_id)
        assert user is not None  # the foreign key
        if username is not None and user.username != username:
            raise TrafiError(f"no token {credential_id!r} of user {username!r}")
        if row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        action = "session-ended" if row.kind == "session" else "user-token-revoked"
        detail = f"user {user.username} of tenant {user.tenant_id}, {row.kind} {row.id} ({row.name})"
        audited(session, action, detail, actor or current_actor())
        return True
