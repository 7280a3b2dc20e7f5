"""docs/users-and-roles.md: the sign-in example runs as written, and every core permission and
audited action is documented."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import REPO
from trafi_host.api import create_app
from trafi_host.auth import create_tenant
from trafi_host.auth.permissions import CORE_PERMISSIONS
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user
from trafi_host.db import Database
from trafi_host.project import Project

DOC = REPO / "docs" / "users-and-roles.md"
PASSWORD = "a long passphrase, not in argv"


def test_the_sign_in_example_runs(sqlite_project: Project) -> None:
    with Database(sqlite_project.database_url()) as database:
        database.migrate()
        create_tenant(database, "acme")
        create_role(database, "viewer", ("commerce:read", "modules:read"))
        create_user(database, "alice", "acme", PASSWORD, roles=("viewer",))
    block = re.search(r"```python\n(signed_in.*?)```", DOC.read_text(), re.S)
    assert block is not None
    with TestClient(create_app(sqlite_project), base_url="http://localhost:8000") as client:
        exec(compile(block.group(1), str(DOC), "exec"), {"client": client, "password": PASSWORD})


def test_every_core_permission_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in CORE_PERMISSIONS if f"| `{name}` |" not in text]
    assert not missing, f"core permissions without a row in docs/users-and-roles.md: {missing}"


def test_every_identity_audit_action_is_documented() -> None:
    text = DOC.read_text()
    sources = "\n".join(path.read_text() for path in (REPO / "host" / "trafi_host" / "auth").glob("*.py"))
    actions = set(re.findall(r'"((?:user|role|session|api-key|tenant)-[a-z-]+)"', sources))
    assert actions, "no audit action found in host/trafi_host/auth"
    missing = sorted(a for a in actions if f"`{a}`" not in text)
    assert not missing, f"audit actions without a mention in docs/users-and-roles.md: {missing}"
