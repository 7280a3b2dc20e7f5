"""A world 0.3.0 module behind the real HTTP proxy: bytes of every value cross both ways, and the
principal carries every permission the caller holds (core and each running module's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import install_modules
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.db import Database
from trafi_host.project import Project


@pytest.fixture
def client(sqlite_project: Project, hello_dir: Path, worldkit_dir: Path) -> Iterator[TestClient]:
    install_modules(sqlite_project, hello_dir, worldkit_dir)
    with Database(sqlite_project.database_url()) as database:
        database.migrate()
        create_tenant(database, "acme")
    with TestClient(create_app(sqlite_project)) as client:
        yield client


def key(project: Project, *scopes: str) -> dict[str, str]:
    with Database(project.database_url()) as database:
        plaintext, _ = create_api_key(database, "acme", "test", scopes=scopes)
    return {"Authorization": f"Bearer {plaintext}"}


def test_every_byte_value_crosses_the_proxy_both_ways(client: TestClient, sqlite_project: Project) -> None:
    body = bytes(range(256)) * 16
    response = client.post("/api/modules/worldkit/echo", content=body, headers=key(sqlite_project, "*"))
    assert (response.status_code, response.content) == (200, body)


def test_the_principal_carries_every_permission_the_caller_holds(
    client: TestClient, sqlite_project: Project
) -> None:
    full = client.get("/api/modules/worldkit/whoami", headers=key(sqlite_project, "*")).json()
    assert full["scopes"] == ["worldkit:inspect", "worldkit:use"]
    assert {"modules:read", "commerce:write", "hello:use", "worldkit:use", "worldkit:inspect"} <= set(
        full["permissions"]
    )
    narrow = key(sqlite_project, "worldkit:use", "hello:*")
    answer = client.get("/api/modules/worldkit/whoami", headers=narrow).json()
    assert answer == {"scopes": ["worldkit:use"], "permissions": ["hello:use", "worldkit:use"]}
