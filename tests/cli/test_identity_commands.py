"""`trafi user`, `trafi role`, `trafi apikey create --scope`: the password never on the command
line nor in any output, grants checked against the catalogue, tokens that verify."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.auth import verify_api_key
from trafi_host.auth.credentials import verify_credential
from trafi_host.db import Database
from trafi_host.errors import AuthError
from trafi_host.project import Project

runner = CliRunner()
PASSWORD = "a passphrase typed at a prompt"


def trafi(project: Project, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-C", str(project.root)], input=input)
    return result.exit_code, result.output


@pytest.fixture
def shop(sqlite_project: Project) -> Project:
    assert trafi(sqlite_project, "tenant", "create", "acme")[0] == 0
    code, output = trafi(sqlite_project, "role", "create", "viewer", "--permission", "commerce:read")
    assert code == 0, output
    return sqlite_project


def test_there_is_no_way_to_give_the_password_as_an_argument(shop: Project) -> None:
    for option in ("--password", "-p", "--pass"):
        code, output = trafi(shop, "user", "create", "alice", "--tenant", "acme", option, PASSWORD)
        assert code == 2 and "No such option" in output


def test_a_prompted_password_is_never_echoed(shop: Project, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code, output = trafi(
        shop,
        "user",
        "create",
        "alice",
        "--tenant",
        "acme",
        "--role",
        "viewer",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert code == 0, output
    assert PASSWORD not in output and PASSWORD not in caplog.text
    code, output = trafi(shop, "audit", "list", "--json")
    assert PASSWORD not in output and "user-created" in output


def test_password_stdin_reads_one_line_and_a_short_one_is_refused(shop: Project) -> None:
    code, output = trafi(
        shop, "user", "create", "bob", "--tenant", "acme", "--password-stdin", input="short\n"
    )
    assert code == 1 and "at least 12" in output and "short" not in output.replace("at least", "")
    code, output = trafi(
        shop, "user", "create", "bob", "--tenant", "acme", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert code == 0, output
    code, output = trafi(shop, "user", "list", "--json")
    assert json.loads(output) == [
        {
            "id": json.loads(output)[0]["id"],
            "username": "bob",
            "tenant": "acme",
            "roles": [],
            "disabled": False,
        }
    ]


def test_a_token_acts_as_its_user_until_revoked_or_disabled(shop: Project) -> None:
    stdin = f"{PASSWORD}\n"
    trafi(
        shop,
        "user",
        "create",
        "alice",
        "--tenant",
        "acme",
        "--role",
        "viewer",
        "--password-stdin",
        input=stdin,
    )
    code, output = trafi(shop, "user", "token", "create", "alice", "--name", "ci", "--json")
    assert code == 0, output
    first = json.loads(output)
    second = json.loads(trafi(shop, "user", "token", "create", "alice", "--json")[1])
    with Database(shop.database_url()) as database:
        caller = verify_credential(database, first["token"], "token")
        assert (caller.name, caller.tenant_id, caller.grants) == ("alice", "acme", ("commerce:read",))
        assert trafi(shop, "user", "token", "revoke", "bob", first["tokenId"])[0] == 1  # not bob's
        assert trafi(shop, "user", "token", "revoke", "alice", first["tokenId"])[0] == 0
        with pytest.raises(AuthError, match="revoked"):
            verify_credential(database, first["token"], "token")
        assert trafi(shop, "user", "disable", "alice")[0] == 0
        with pytest.raises(AuthError, match="disabled"):
            verify_credential(database, second["token"], "token")
    assert json.loads(trafi(shop, "user", "list", "--json")[1])[0]["disabled"] is True


def test_grants_and_scopes_are_checked_against_the_catalogue(shop: Project) -> None:
    code, output = trafi(shop, "role", "create", "typo", "--permission", "commerce:reed")
    assert code == 1 and "unknown permission 'commerce:reed'" in output and "commerce:read" in output
    code, output = trafi(shop, "apikey", "create", "--tenant", "acme", "--scope", "hello:use")
    assert code == 1 and "unknown permission 'hello:use'" in output  # no module hello installed
    code, output = trafi(shop, "apikey", "create", "--tenant", "acme", "--scope", "commerce:read", "--json")
    assert code == 0, output
    created = json.loads(output)
    assert created["scopes"] == ["commerce:read"]
    unscoped = json.loads(trafi(shop, "apikey", "create", "--tenant", "acme", "--json")[1])
    assert unscoped["scopes"] == ["*"]
    with Database(shop.database_url()) as database:
        assert verify_api_key(database, created["key"]).scopes == ("commerce:read",)


def test_roles_are_granted_revoked_assigned_and_listed(shop: Project) -> None:
    trafi(shop, "user", "create", "alice", "--tenant", "acme", "--password-stdin", input=f"{PASSWORD}\n")
    assert trafi(shop, "role", "grant", "viewer", "modules:read", "audit:read")[0] == 0
    assert trafi(shop, "role", "revoke", "viewer", "audit:read")[0] == 0
    assert trafi(shop, "role", "assign", "alice", "viewer")[0] == 0
    code, output = trafi(shop, "role", "assign", "alice", "ghost")
    assert code == 1 and "no role 'ghost'" in output
    roles = json.loads(trafi(shop, "role", "list", "--json")[1])
    assert roles == [
        {
            "name": "viewer",
            "description": "",
            "permissions": ["commerce:read", "modules:read"],
            "users": ["alice"],
        }
    ]
    assert trafi(shop, "role", "unassign", "alice", "viewer")[0] == 0
    assert json.loads(trafi(shop, "role", "list", "--json")[1])[0]["users"] == []
    catalogue = json.loads(trafi(shop, "role", "permissions", "--json")[1])
    assert "commerce:write" in catalogue and "tenants:manage" in catalogue
