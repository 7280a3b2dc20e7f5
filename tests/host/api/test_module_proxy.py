"""The HTTP surface: auth fixes the tenant, the proxy reaches the module, errors are JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.lifecycle import disable
from trafi_host.project import Project


@pytest.fixture
def keys(project: Project, hello_dir: Path, testkit_dir: Path) -> dict[str, str]:
    install_modules(project, hello_dir, testkit_dir)
    return api_keys(project.database_url(), "acme", "globex")


@pytest.fixture
def client(project: Project, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(project)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_hello_counts_hits_per_tenant(client: TestClient, keys: dict[str, str]) -> None:
    url = "/api/modules/hello/v1/hits"
    assert client.get(url, headers=auth(keys["acme"])).json()["hits"] == 1
    assert client.get(url, headers=auth(keys["acme"])).json()["hits"] == 2
    globex = client.get(url, headers=auth(keys["globex"])).json()
    assert globex == {"greeting": "hello", "tenant": "globex", "hits": 1}


def test_the_key_fixes_the_tenant_the_module_sees(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/api/modules/testkit/whoami", headers={**auth(keys["acme"]), "X-Tenant": "globex"})
    assert response.json()["tenant"] == "acme"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer trafi_0123456789abcdef_" + "x" * 43, "Basic dXNlcjpwYXNz"],
)
def test_missing_or_bad_api_key_is_401(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/modules/hello/v1/hits", headers=headers)
    assert response.status_code == 401
    assert "API key" in response.json()["error"]
    # RFC 6750: the client is told which scheme to use, and that a key it sent is invalid.
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="trafi"')
    assert ('error="invalid_token"' in challenge) == (header is not None and header.startswith("Bearer "))


def test_a_handler_exception_over_http_carries_an_error_id_not_the_code(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.get("/api/modules/testkit/raise", headers=auth(keys["acme"]))
    assert response.status_code == 500
    data = response.json()
    assert data["kind"] == "module-exception" and len(data["errorId"]) == 12
    assert "handler bug" not in response.text and "app.py" not in response.text


def test_unknown_module_is_404(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/api/modules/nope/v1/x", headers=auth(keys["acme"]))
    assert response.status_code == 404
    assert response.json() == {"error": "no module named 'nope'"}


def test_deadline_is_504_and_other_calls_still_work(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/api/modules/testkit/spin", headers=auth(keys["acme"]))
    assert response.status_code == 504
    assert response.json()["kind"] == "deadline"
    assert client.get("/api/modules/hello/v1/hits", headers=auth(keys["acme"])).status_code == 200


def test_request_body_and_method_reach_the_module(client: TestClient, keys: dict[str, str]) -> None:
    payload = bytes(range(256)) * 4
    response = client.post("/api/modules/testkit/echo", headers=auth(keys["acme"]), content=payload)
    assert response.status_code == 200
    assert response.content == payload
    assert client.get("/api/modules/testkit/echo", headers=auth(keys["acme"])).status_code == 405


def test_health_reports_modules(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert {m["name"]: m["status"] for m in health["modules"]} == {"hello": "loaded", "testkit": "loaded"}


def test_disabled_module_is_not_served(project: Project, keys: dict[str, str]) -> None:
    disable(project, "hello")
    with TestClient(create_app(project)) as client:
        response = client.get("/api/modules/hello/v1/hits", headers=auth(keys["acme"]))
        assert response.status_code == 404
        assert response.json() == {"error": "module 'hello' is disabled"}


def test_revoked_key_is_refused_once_the_cache_expires(project: Project, keys: dict[str, str]) -> None:
    from trafi_host.auth import revoke_api_key
    from trafi_host.module_host import ModuleHost

    host = ModuleHost(project)
    host.reconcile()
    try:
        with TestClient(create_app(project, host)) as client:
            url = "/api/modules/hello/v1/hits"
            assert client.get(url, headers=auth(keys["acme"])).status_code == 200
            revoke_api_key(host.database, keys["acme"].split("_")[1])
            # Still cached: the TTL bounds how long a revoked key lives.
            assert client.get(url, headers=auth(keys["acme"])).status_code == 200
            host.key_cache.clear()
            refused = client.get(url, headers=auth(keys["acme"]))
            assert refused.status_code == 401
            assert refused.json() == {"error": "revoked API key"}
    finally:
        host.close()


def test_reading_the_counter_does_not_count(client: TestClient, keys: dict[str, str]) -> None:
    client.get("/api/modules/hello/v1/hits", headers=auth(keys["acme"]))
    current = client.get("/api/modules/hello/v1/hits/current", headers=auth(keys["acme"])).json()
    assert current == {"tenant": "acme", "hits": 1}
    assert client.get("/api/modules/hello/v1/hits/current", headers=auth(keys["acme"])).json()["hits"] == 1


@pytest.mark.parametrize("status", [101, 103, 999])
def test_a_hostile_status_is_a_502_and_an_incident(
    client: TestClient, keys: dict[str, str], status: int
) -> None:
    response = client.post(
        "/api/modules/testkit/respond", headers=auth(keys["acme"]), json={"status": status}
    )
    assert response.status_code == 502
    assert response.json()["kind"] == "bad-response"
    assert client.app.state.host.runtime.stats.by_failure["bad-response"] >= 1  # type: ignore[attr-defined]


def test_a_hostile_header_is_a_502_not_a_dropped_connection(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/api/modules/testkit/respond",
        headers=auth(keys["acme"]),
        json={"headers": [["x-evil", "a\r\nset-cookie: session=stolen"]]},
    )
    assert response.status_code == 502
    assert "set-cookie" not in response.headers


def test_the_header_policy_keeps_what_the_module_may_say(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/api/modules/testkit/respond",
        headers=auth(keys["acme"]),
        json={
            "status": 201,
            "headers": [
                ["set-cookie", "a=1; Path=/"],
                ["set-cookie", "b=2; Domain=evil.example"],
                ["set-cookie", "c=3"],
                ["strict-transport-security", "max-age=0"],
                ["access-control-allow-origin", "*"],
                ["x-module", "kept"],
            ],
        },
    )
    assert response.status_code == 201
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "c=3"]
    assert "strict-transport-security" not in response.headers
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-module"] == "kept"
