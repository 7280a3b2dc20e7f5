"""`trafi tenant` and `trafi apikey`: keys are shown once, stored hashed, and verify."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.auth import verify_api_key
from trafi_host.db import ApiKey, Database
from trafi_host.project import Project

runner = CliRunner()


def test_tenant_and_key_round_trip(project: Project) -> None:
    root = str(project.root)
    assert runner.invoke(app, ["tenant", "create", "acme", "-C", root]).exit_code == 0
    duplicate = runner.invoke(app, ["tenant", "create", "acme", "-C", root])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    result = runner.invoke(app, ["apikey", "create", "--tenant", "acme", "--json", "-C", root])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    with Database(project.database_url()) as database:
        assert verify_api_key(database, created["key"]).tenant_id == "acme"
        with database.session() as session:
            row = session.get(ApiKey, created["keyId"])
            assert row is not None
            secret = created["key"].split("_", 2)[2]
            assert secret not in row.secret_hash and len(row.secret_hash) == 64
    listing = runner.invoke(app, ["tenant", "list", "--json", "-C", root])
    assert json.loads(listing.output) == [{"id": "acme", "name": "acme"}]


def test_key_for_unknown_tenant_is_refused(project: Project) -> None:
    result = runner.invoke(app, ["apikey", "create", "--tenant", "ghost", "-C", str(project.root)])
    assert result.exit_code == 1
    assert "no tenant 'ghost'" in result.output


def test_bad_tenant_id(project: Project) -> None:
    result = runner.invoke(app, ["tenant", "create", "Bad Name", "-C", str(project.root)])
    assert result.exit_code == 1
    assert "lowercase" in result.output
