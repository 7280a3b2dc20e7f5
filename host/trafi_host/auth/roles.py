"""Roles: named sets of permissions (and wildcards), assigned to users.

A user holds the union of its roles' grants, read at each request: a grant,
revocation or assignment applies to the next request of every host process.
Every change is audited in its own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.schema import Role, RolePermission, User, UserRole, utcnow
from ..errors import TrafiError
from .audit_entry import audited
from .permissions import check_grant

ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class RoleRecord:
    name: str
    description: str
    permissions: tuple[str, ...]
    users: tuple[str, ...]


def role_row(session: Session, name: str) -> Role:
    role = session.get(Role, name)
    if role is None:
        raise TrafiError(f"no role {name!r}; create it with `trafi role create {name}`")
    return role


def user_row(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise TrafiError(f"no user {username!r}; see `trafi user list`")
    return user


def create_role(
    database: Database,
    name: str,
    permissions: tuple[str, ...] = (),
    description: str = "",
    actor: str | None = None,
    known: frozenset[str] | None = None,
) -> RoleRecord:
    if not ROLE_NAME.match(name):
        raise TrafiError(f"role name {name!r} must be lowercase letters, digits and '-' (max 64)")
    grants = tuple(dict.fromkeys(check_grant(p, known) for p in permissions))
    with database.write_session() as session:
        if session.get(Role, name) is not None:
            raise TrafiError(f"role {name!r} already exists")
        session.add(Role(name=name, description=description, created_at=utcnow()))
        session.flush()
        session.add_all(RolePermission(role=name, permission=p) for p in grants)
        audited(session, "role-created", f"role {name}, permissions {' '.join(grants) or '(none)'}", actor)
    return RoleRecord(name, description, tuple(sorted(grants)), ())


def grant_permissions(
    database: Database,
    name: str,
    permissions: tuple[str, ...],
    actor: str | None = None,
    known: frozenset[str] | None = None,
) -> RoleRecord:
    grants = tuple(dict.fromkeys(check_grant(p, known) for p in permissions))
    with database.write_session() as session:
        role_row(session, name)
        held = set(session.scalars(select(RolePermission.permission).where(RolePermission.role == name)))
        added = [p for p in grants if p not in held]
        session.add_all(RolePermission(role=name, permission=p) for p in added)
        if added:
            audited(session, "role-granted", f"role {name}, permissions {' '.join(added)}", actor)
    return role_record(database, name)


def revoke_permissions(
    database: Database, name: str, permissions: tuple[str, ...], actor: str | None = None
) -> RoleRecord:
    with database.write_session() as session:
        role_row(session, name)
        held = set(session.scalars(select(RolePermission.permission).where(RolePermission.role == name)))
        removed = [p for p in dict.fromkeys(permissions) if p in held]
        if removed:
            session.execute(
                delete(RolePermission).where(
                    RolePermission.role == name, RolePermission.permission.in_(removed)
                )
            )
            audited(session, "role-revoked", f"role {name}, permissions {' '.join(removed)}", actor)
    return role_record(database, name)


def assign_role(database: Database, username: str, name: str, actor: str | None = None) -> None:
    with database.write_session() as session:
        user = user_row(session, username)
        role_row(session, name)
        if session.get(UserRole, (user.id, name)) is None:
            session.add(UserRole(user_id=user.id, role=name))
            audited(session, "role-assigned", f"user {username}, role {name}", actor)


def unassign_role(database: Database, username: str, name: str, actor: str | None = None) -> None:
    with database.write_session() as session:
        user = user_row(session, username)
        row = session.get(UserRole, (user.id, name))
        if row is not None:
            session.delete(row)
            audited(session, "role-unassigned", f"user {username}, role {name}", actor)


def grants_of_user(session: Session, user_id: str) -> tuple[str, ...]:
    """The union of the user's roles' permissions and wildcards, sorted."""
    rows = session.scalars(
        select(RolePermission.permission)
        .join(UserRole, UserRole.role == RolePermission.role)
        .where(UserRole.user_id == user_id)
        .distinct()
    )
    return tuple(sorted(rows))


def role_record(database: Database, name: str) -> RoleRecord:
    with database.session() as session:
        role = role_row(session, name)
        permissions = session.scalars(
            select(RolePermission.permission).where(RolePermission.role == name).order_by("permission")
        )
        users = session.scalars(
            select(User.username).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == name)
        )
        return RoleRecord(role.name, role.description, tuple(permissions), tuple(sorted(users)))


def list_roles(database: Database) -> list[RoleRecord]:
    with database.session() as session:
        names = list(session.scalars(select(Role.name).order_by(Role.name)))
    return [role_record(database, name) for name in names]
