"""`trafi user ...` and `trafi role ...`: who may sign in, and what each role may do.

A password is read from a hidden prompt or, with `--password-stdin`, from the
first line of standard input: never from the command line, where `ps` and the
shell history would keep it.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import typer

from trafi_host.auth.credentials import TOKEN_LIFETIME, create_token, revoke_credential
from trafi_host.auth.roles import (
    assign_role,
    create_role,
    grant_permissions,
    list_roles,
    revoke_permissions,
    unassign_role,
)
from trafi_host.auth.users import create_user, disable_user, list_users
from trafi_host.db import Database
from trafi_host.permission_catalogue import permission_catalogue

from .context import ProjectOption, console, emit_json, open_project, reported_errors

user_app = typer.Typer(help="Operator and admin users (dashboard sign-in, tokens).", no_args_is_help=True)
token_app = typer.Typer(help="A user's bearer tokens for scripts.", no_args_is_help=True)
role_app = typer.Typer(help="Roles: named sets of permissions, assigned to users.", no_args_is_help=True)
user_app.add_typer(token_app, name="token")

PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input."
)
JsonOption = typer.Option(False, "--json")


def _database(project: Path | None) -> Database:
    database = Database(open_project(project).database_url())
    database.migrate()
    return database


def _actor(project: Path | None) -> str | None:
    return open_project(project).settings.actor


def _known(project: Path | None) -> frozenset[str]:
    return frozenset(permission_catalogue(open_project(project)))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("create")
def user_create(
    username: str,
    tenant: str = typer.Option(..., "--tenant", help="The tenant the user acts for."),
    role: list[str] = typer.Option([], "--role", help="A role to assign (repeatable)."),
    password_stdin: bool = PasswordStdin,
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a user; the password is prompted for (or read with --password-stdin)."""
    password = _password(password_stdin)
    with reported_errors(as_json), _database(project) as database:
        record = create_user(database, username, tenant, password, tuple(role), actor=_actor(project))
    if as_json:
        emit_json(
            {"id": record.id, "username": record.username, "tenant": record.tenant_id, "roles": record.roles}
        )
    else:
        console.print(f"created user {record.username} of tenant {record.tenant_id}", highlight=False)


@user_app.command("list")
def user_list(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's users."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """List users, their tenant, roles and whether they are disabled."""
    with reported_errors(as_json), _database(project) as database:
        users = list_users(database, tenant)
    if as_json:
        emit_json(
            [
                {
                    "id": u.id,
                    "username": u.username,
                    "tenant": u.tenant_id,
                    "roles": list(u.roles),
                    "disabled": u.disabled,
                }
                for u in users
            ]
        )
        return
    for u in users:
        state = "disabled" if u.disabled else "active"
        console.print(f"{u.username}\t{u.tenant_id}\t{state}\t{','.join(u.roles) or '-'}", highlight=False)


@user_app.command("disable")
def user_disable(username: str, project: Path | None = ProjectOption, as_json: bool = JsonOption) -> None:
    """Disable a user: its sessions and tokens are refused from their next request."""
    with reported_errors(as_json), _database(project) as database:
        record = disable_user(database, username, actor=_actor(project))
    if as_json:
        emit_json({"username": record.username, "disabled": True})
    else:
        console.print(f"disabled user {record.username}", highlight=False)


@token_app.command("create")
def token_create(
    username: str,
    name: str = typer.Option("default", help="A label for the token."),
    days: int = typer.Option(TOKEN_LIFETIME.days, min=1, max=366, help="Days until it expires."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a bearer token acting as the user; printed once, stored only hashed."""
    with reported_errors(as_json), _database(project) as database:
        token = create_token(database, username, name, timedelta(days=days), actor=_actor(project))
    if as_json:
        emit_json(
            {
                "token": token.secret,
                "tokenId": token.id,
                "user": token.username,
                "expiresAt": token.expires_at,
            }
        )
    else:
        console.print(token.secret, highlight=False)


@token_app.command("revoke")
def token_revoke(
    username: str,
    token_id: str = typer.Argument(..., help="The token id: the 16 hex characters after `trafit_`."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke one of the user's tokens; it is refused from its next request."""
    with reported_errors(as_json), _database(project) as database:
        revoke_credential(database, token_id, actor=_actor(project), username=username)
    if as_json:
        emit_json({"tokenId": token_id, "revoked": True})
    else:
        console.print(f"revoked token {token_id} of user {username}", highlight=False)


@role_app.command("create")
def role_create(
    name: str,
    permission: list[str] = typer.Option(
        [], "--permission", help="A permission, `<namespace>:*` or `*` (repeatable)."
    ),
    description: str = typer.Option("", help="What the role is for."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a role with its permissions (each checked against the catalogue)."""
    with reported_errors(as_json), _database(project) as database:
        record = create_role(
            database, name, tuple(permission), description, actor=_actor(project), known=_known(project)
        )
    if as_json:
        emit_json({"name": record.name, "permissions": list(record.permissions)})
    else:
        console.print(
            f"created role {record.name}: {' '.join(record.permissions) or '(none)'}", highlight=False
        )


@role_app.command("list")
def role_list(project: Path | None = ProjectOption, as_json: bool = JsonOption) -> None:
    """List roles, their permissions and their users."""
    with reported_errors(as_json), _database(project) as database:
        roles = list_roles(database)
    if as_json:
        emit_json(
            [
                {
                    "name": r.name,
                    "description": r.description,
                    "permissions": list(r.permissions),
                    "users": list(r.users),
                }
                for r in roles
            ]
        )
        return
    for r in roles:
        console.print(
            f"{r.name}\t{' '.join(r.permissions) or '-'}\t{','.join(r.users) or '-'}", highlight=False
        )


@role_app.command("grant")
def role_grant(
    name: str,
    permissions: list[str] = typer.Argument(..., help="Permissions, `<namespace>:*` or `*`."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Add permissions to a role; its users hold them from their next request."""
    with reported_errors(as_json), _database(project) as database:
        record = grant_permissions(
            database, name, tuple(permissions), actor=_actor(project), known=_known(project)
        )
    if as_json:
        emit_json({"name": record.name, "permissions": list(record.permissions)})
    else:
        console.print(f"role {record.name}: {' '.join(record.permissions)}", highlight=False)


@role_app.command("revoke")
def role_revoke(
    name: str,
    permissions: list[str] = typer.Argument(..., help="Permissions to take away."),
    project: Path | None = ProjectOption,
    as_json: bool = JsonOption,
) -> None:
    """Take permissions from a role; its users lose them from their next request."""
    with reported_errors(as_json), _database(project) as database:
        record = revoke_permissions(database, name, tuple(permissions), actor=_actor(project))
    if as_json:
        emit_json({"name": record.name, "permissions": list(record.permissions)})
    else:
        console.print(f"role {record.name}: {' '.join(record.permissions) or '(none)'}", highlight=False)


@role_app.command("assign")
def role_assign(
    username: str, role: str, project: Path | None = ProjectOption, as_json: bool = JsonOption
) -> None:
    """Give a user a role."""
    with reported_errors(as_json), _database(project) as database:
        assign_role(database, username, role, actor=_actor(project))
    if as_json:
        emit_json({"username": username, "role": role, "assigned": True})
    else:
        console.print(f"user {username} has role {role}", highlight=False)


@role_app.command("unassign")
def role_unassign(
    username: str, role: str, project: Path | None = ProjectOption, as_json: bool = JsonOption
) -> None:
    """Take a role from a user."""
    with reported_errors(as_json), _database(project) as database:
        unassign_role(database, username, role, actor=_actor(project))
    if as_json:
        emit_json({"username": username, "role": role, "assigned": False})
    else:
        console.print(f"user {username} no longer has role {role}", highlight=False)


@role_app.command("permissions")
def role_permissions(project: Path | None = ProjectOption, as_json: bool = JsonOption) -> None:
    """The permission catalogue: the core's and each installed module's."""
    with reported_errors(as_json):
        catalogue = permission_catalogue(open_project(project))
    if as_json:
        emit_json(catalogue)
        return
    for name, description in catalogue.items():
        console.print(f"{name}\t{description}", highlight=False, soft_wrap=True)
