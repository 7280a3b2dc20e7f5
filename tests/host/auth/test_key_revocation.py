"""API keys against a running host: revocation reaches it at once, failed attempts are throttled
per source, and creating tenants and keys or revoking keys is in the audit log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import api_keys
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_api_key, create_tenant, revoke_api_key
from trafi_host.auth.failed_attempts import FAILURES_PER_WINDOW
from trafi_host.db import Database
from trafi_host.project import Project


def test_a_revoked_key_stops_working_in_a_running_host_long_before_its_cache_expires(
    sqlite_project: Project,
) -> None:
    keys = api_keys(sqlite_project.database_url(), "acme")
    headers = {"Authorization": f"Bearer {keys['acme']}"}
    with TestClient(create_app(sqlite_project)) as client:
        assert client.get("/api/commerce/products", headers=headers).status_code == 200  # now cached (30 s)
        with Database(sqlite_project.database_url()) as database:
            revoke_api_key(database, keys["acme"].split("_")[1])
        # The cache would keep the key for 30 s: the host drops it when it sees the revocation.
        wait_for(
            lambda: client.get("/api/commerce/products", headers=headers).status_code == 401,
            timeout=15,
            message="the running host to refuse the revoked key",
        )


def test_failed_attempts_from_one_source_are_throttled(sqlite_project: Project) -> None:
    keys = api_keys(sqlite_project.database_url(), "acme")
    with TestClient(create_app(sqlite_project)) as client:
        bad = {"Authorization": "Bearer trafi_0123456789abcdef_" + "x" * 43}
        answers = [
            client.get("/api/commerce/products", headers=bad).status_code for _ in range(FAILURES_PER_WINDOW)
        ]
        assert answers == [401] * FAILURES_PER_WINDOW
        throttled = client.get("/api/commerce/products", headers=bad)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1
        # A key the host already verified keeps working: only unverified attempts wait.
        good = {"Authorization": f"Bearer {keys['acme']}"}
        assert client.get("/api/commerce/products", headers=good).status_code in (200, 429)


def test_tenant_and_key_operations_are_in_the_audit_log(sqlite_project: Project) -> None:
    with Database(sqlite_project.database_url()) as database:
        database.migrate()
        create_tenant(database, "acme", actor="ops")
        _, record = create_api_key(database, "acme", "checkout", actor="ops")
        revoke_api_key(database, record.key_id, actor="ops")
        revoke_api_key(database, record.key_id, actor="ops")  # again: nothing new to record
        entries = [(e.action, e.detail, e.actor) for e in reversed(AuditLog(database).entries())]
    assert entries == [
        ("tenant-created", "tenant acme", "ops"),
        ("api-key-created", f"tenant acme, key {record.key_id} (checkout), scopes *", "ops"),
        ("api-key-revoked", f"tenant acme, key {record.key_id} (checkout)", "ops"),
    ]
