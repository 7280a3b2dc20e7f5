"""Users, roles, sessions and tokens, scoped keys: the library, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update

from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_api_key, create_tenant, verify_api_key
from trafi_host.auth.credentials import create_token, login, revoke_credential, verify_credential
from trafi_host.auth.passwords import WeakPassword
from trafi_host.auth.permissions import CORE_PERMISSIONS, GrantError, allows, check_grant, resolved
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
from trafi_host.db.engine import MIGRATIONS
from trafi_host.db.schema import ApiKey, User, UserCredential, utcnow
from trafi_host.errors import AuthError, TrafiError

PASSWORD = "correct horse battery staple"
KNOWN = frozenset({*CORE_PERMISSIONS, "reviews:use", "reviews:moderate"})


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    create_tenant(database, "acme", actor="ops")
    yield database
    database.close()


def test_grants_match_permissions_and_wildcards() -> None:
    assert allows(("commerce:read",), "commerce:read")
    assert not allows(("commerce:read",), "commerce:write")
    assert allows(("reviews:*",), "reviews:moderate") and not allows(("reviews:*",), "commerce:read")
    assert allows(("*",), "anything:at-all")
    # A wildcard of one namespace never reaches another that merely starts the same way.
    assert not allows(("review:*",), "reviews:use")
    assert resolved(("reviews:*", "commerce:read"), KNOWN) == (
        "commerce:read",
        "reviews:moderate",
        "reviews:use",
    )


@pytest.mark.parametrize(
    "grant",
    ["commerce", "Commerce:read", "commerce:read:x", "commerce:*x", "**", "commerce:delete", "nope:*"],
)
def test_malformed_or_unknown_grants_are_refused(grant: str) -> None:
    with pytest.raises(GrantError):
        check_grant(grant, KNOWN)


def test_a_user_holds_its_roles_permissions_and_changes_apply_at_once(database: Database) -> None:
    create_role(database, "clerk", ("commerce:read",), known=KNOWN)
    create_role(database, "moderator", ("reviews:*",), known=KNOWN)
    create_user(database, "alice", "acme", PASSWORD, roles=("clerk",))
    token = create_token(database, "alice", "script")
    assert verify_credential(database, token.secret, "token").grants == ("commerce:read",)

    assign_role(database, "alice", "moderator")
    grant_permissions(database, "clerk", ("commerce:write",), known=KNOWN)
    caller = verify_credential(database, token.secret, "token")
    assert caller.grants == ("commerce:read", "commerce:write", "reviews:*")
    assert caller.permissions_in(KNOWN) == (
        "commerce:read",
        "commerce:write",
        "reviews:moderate",
        "reviews:use",
    )

    revoke_permissions(database, "clerk", ("commerce:write",))
    unassign_role(database, "alice", "moderator")
    assert verify_credential(database, token.secret, "token").grants == ("commerce:read",)
    assert [(r.name, r.users) for r in list_roles(database)] == [("clerk", ("alice",)), ("moderator", ())]


def test_passwords_are_argon2_hashes_and_weak_ones_are_refused(database: Database) -> None:
    create_user(database, "alice", "acme", PASSWORD)
    with database.session() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(WeakPassword, match="at least 12"):
        create_user(database, "bob", "acme", "short")
    assert [u.username for u in list_users(database)] == ["alice"]


def test_login_answers_the_same_for_every_wrong_case(database: Database) -> None:
    create_user(database, "alice", "acme", PASSWORD)
    create_user(database, "carol", "acme", PASSWORD)
    disable_user(database, "carol")
    messages = set()
    for username, password in (("alice", "wrong password!!"), ("nobody", PASSWORD), ("carol", PASSWORD)):
        with pytest.raises(AuthError) as refused:
            login(database, username, password)
        messages.add(str(refused.value))
    assert len(messages) == 1
    session = login(database, "alice", PASSWORD)
    assert session.secret.startswith("trafis_") and verify_credential(database, session.secret, "session")


def test_a_disabled_user_is_refused_at_once_everywhere(database: Database) -> None:
    create_user(database, "alice", "acme", PASSWORD)
    session = login(database, "alice", PASSWORD)
    token = create_token(database, "alice")
    disable_user(database, "alice")
    for secret, kind in ((session.secret, "session"), (token.secret, "token")):
        with pytest.raises(AuthError, match="disabled"):
            verify_credential(database, secret, kind)  # type: ignore[arg-type]
    with pytest.raises(TrafiError, match="disabled"):
        create_token(database, "alice")


def test_expired_revoked_and_swapped_credentials_are_refused(database: Database) -> None:
    create_user(database, "alice", "acme", PASSWORD)
    session = login(database, "alice", PASSWORD)
    token = create_token(database, "alice", lifetime=timedelta(days=1))
    # A session is not a token, and the other way round.
    with pytest.raises(AuthError):
        verify_credential(database, session.secret, "token")
    with pytest.raises(AuthError):
        verify_credential(database, token.secret.replace("trafit_", "trafis_"), "session")
    # A tampered secret.
    with pytest.raises(AuthError, match="unknown"):
        verify_credential(database, token.secret[:-4] + "AAAA", "token")
    with database.session() as db:
        db.execute(update(UserCredential).where(UserCredential.id == session.id).values(expires_at=utcnow()))
    with pytest.raises(AuthError, match="expired session"):
        verify_credential(database, session.secret, "session")
    assert revoke_credential(database, token.id, actor="ops")
    with pytest.raises(AuthError, match="revoked token"):
        verify_credential(database, token.secret, "token")


def test_every_identity_change_is_audited(database: Database) -> None:
    create_role(database, "clerk", ("commerce:read",), actor="ops", known=KNOWN)
    create_user(database, "alice", "acme", PASSWORD, roles=("clerk",), actor="ops")
    grant_permissions(database, "clerk", ("commerce:write",), actor="ops", known=KNOWN)
    revoke_permissions(database, "clerk", ("commerce:write",), actor="ops")
    unassign_role(database, "alice", "clerk", actor="ops")
    assign_role(database, "alice", "clerk", actor="ops")
    token = create_token(database, "alice", "ci", actor="ops")
    revoke_credential(database, token.id, actor="ops")
    session = login(database, "alice", PASSWORD)
    revoke_credential(database, session.id, actor="user alice")
    disable_user(database, "alice", actor="ops")
    _, key = create_api_key(database, "acme", "reader", ("commerce:read",), actor="ops", known=KNOWN)
    entries = [(e.action, e.actor) for e in reversed(AuditLog(database).entries())]
    assert entries == [
        ("tenant-created", "ops"),
        ("role-created", "ops"),
        ("user-created", "ops"),
        ("role-granted", "ops"),
        ("role-revoked", "ops"),
        ("role-unassigned", "ops"),
        ("role-assigned", "ops"),
        ("user-token-created", "ops"),
        ("user-token-revoked", "ops"),
        ("session-started", "user alice"),
        ("session-ended", "user alice"),
        ("user-disabled", "ops"),
        ("api-key-created", "ops"),
    ]
    details = " ".join(e.detail or "" for e in AuditLog(database).entries())
    assert PASSWORD not in details and token.secret not in details and session.secret not in details
    assert "scopes commerce:read" in details and key.scopes == ("commerce:read",)


def test_a_failed_change_leaves_no_audit_entry(database: Database) -> None:
    before = len(AuditLog(database).entries())
    with pytest.raises(TrafiError, match="no role"):
        create_user(database, "alice", "acme", PASSWORD, roles=("ghost",))
    with pytest.raises(TrafiError, match="no tenant"):
        create_user(database, "bob", "globex", PASSWORD)
    assert len(AuditLog(database).entries()) == before
    assert list_users(database) == []


def test_keys_made_before_scopes_keep_their_tenants_full_access(database_url: str) -> None:
    """Revision 0010: an API key stored with no scopes (every key before it) gets `*`."""
    database = Database(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO trafi_tenants VALUES ('acme', 'Acme', :now)"), {"now": utcnow()}
            )
        old_key = "INSERT INTO trafi_api_keys VALUES (:id, 'acme', 'old', :hash, '', :now, NULL)"
        secret = "s" * 43
        with database.engine.begin() as connection:
            connection.execute(
                text(old_key),
                {
                    "id": "0123456789abcdef",
                    "hash": hashlib.sha256(secret.encode()).hexdigest(),
                    "now": utcnow(),
                },
            )
        database.migrate()
        record = verify_api_key(database, f"trafi_0123456789abcdef_{secret}")
        assert record.scopes == ("*",)
        with database.session() as session:
            assert session.scalars(select(ApiKey.scopes)).one() == "*"
    finally:
        database.close()
