"""Roles and scopes on real HTTP: who may call which core and module route, 403s that name the
permission, the module seeing the caller's resolved permissions, and denials in the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import install_modules
from tests.live_server import live_server
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.auth.credentials import create_token
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

# The module-scoped server installs and compiles two modules for the first test that uses it.
pytestmark = pytest.mark.timeout(900)
PASSWORD = "correct horse battery staple"
ROLES = {
    "admin": ("*",),
    "viewer": ("commerce:read", "modules:read"),
    "clerk": ("commerce:read", "commerce:write"),
    "hello-user": ("hello:use",),
    "inspector": ("testkit:use", "testkit:inspect"),
}
KEY_SCOPES = {"key-full": None, "key-reader": ("commerce:read",), "key-hello": ("hello:*",)}
# Users named after their role (and one with none), then the API keys.
PRINCIPALS = [*ROLES, "nobody", *KEY_SCOPES]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str | None  # None: any authenticated caller
    allowed: frozenset[str]


def _route(method: str, path: str, permission: str | None, *allowed: str) -> Route:
    return Route(method, path, permission, frozenset(allowed))


# The matrix: written out, not derived from the code under test.
ROUTES = [
    _route(
        "GET", "/api/commerce/products", "commerce:read", "admin", "viewer", "clerk", "key-full", "key-reader"
    ),
    _route("POST", "/api/commerce/products", "commerce:write", "admin", "clerk", "key-full"),
    _route("GET", "/api/modules", "modules:read", "admin", "viewer", "key-full"),
    _route("GET", "/api/modules/hello/v1/hits", "hello:use", "admin", "hello-user", "key-full", "key-hello"),
    _route("GET", "/api/modules/testkit/whoami", "testkit:use", "admin", "inspector", "key-full"),
    # A module that does not exist: refused before the lookup, so a caller learns nothing of it.
    _route("GET", "/api/modules/ghost/x", "ghost:use", "admin", "key-full"),
    _route("GET", "/api/auth/me", None, *PRINCIPALS),
]
SUCCESS = {
    "/api/commerce/products": {"GET": 200, "POST": 201},
    "/api/modules/ghost/x": {"GET": 404},
}


@dataclass
class Served:
    url: str
    host: ModuleHost
    credentials: dict[str, str]

    def call(self, principal: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.credentials[principal]}"}
        body = (
            {"sku": f"SKU-{uuid.uuid4().hex[:8]}", "name": "Mug", "price_cents": 1250}
            if method == "POST"
            else None
        )
        return httpx.request(method, self.url + path, headers=headers, json=body, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, hello_dir: Path, testkit_dir: Path) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("rbac") / "project")
        install_modules(project, hello_dir, testkit_dir)
        host = ModuleHost(project)
        try:
            host.reconcile()
            database = host.database
            create_tenant(database, "acme")
            credentials: dict[str, str] = {}
            for role, permissions in ROLES.items():
                create_role(database, role, permissions)
                create_user(database, role, "acme", PASSWORD, roles=(role,))
                credentials[role] = create_token(database, role).secret
            create_user(database, "nobody", "acme", PASSWORD)
            credentials["nobody"] = create_token(database, "nobody").secret
            for name, scopes in KEY_SCOPES.items():
                credentials[name], _ = create_api_key(database, "acme", name, *([scopes] if scopes else []))
            with live_server(create_app(project, host)) as url:
                yield Served(url, host, credentials)
        finally:
            host.close()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_rbac_matrix(served: Served, principal: str, route: Route) -> None:
    response = served.call(principal, route.method, route.path)
    if principal in route.allowed:
        assert response.status_code == SUCCESS.get(route.path, {}).get(route.method, 200), response.text
        return
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["permission"] == route.permission
    assert repr(route.permission) in body["error"] and route.path in body["error"]


def test_a_denial_is_in_the_audit_log_naming_caller_route_and_permission(served: Served) -> None:
    served.call("key-reader", "POST", "/api/commerce/products")
    served.call("nobody", "GET", "/api/modules/hello/v1/hits")

    def denials() -> list[tuple[str, str, str]]:
        return [
            (e.actor, e.module, e.detail or "")
            for e in AuditLog(served.host.database).entries(limit=1000)
            if e.action == "permission-denied"
        ]

    found = wait_for(
        lambda: (
            [d for d in denials() if "POST /api/commerce/products needs commerce:write" in d[2]]
            and [d for d in denials() if d[1] == "hello" and "hello:use" in d[2]]
        ),
        message="both denials in the audit log",
    )
    assert found
    actors = {actor for actor, _, _ in denials()}
    assert any(actor.startswith("api key ") and "(key-reader)" in actor for actor in actors)
    assert any(actor.startswith("user nobody (token ") for actor in actors)


def test_the_module_sees_the_callers_permissions_in_its_namespace(served: Served) -> None:
    inspector = served.call("inspector", "GET", "/api/modules/testkit/whoami").json()
    assert inspector["kind"] == "user"
    assert inspector["scopes"] == ["testkit:inspect", "testkit:use"]
    # `*` is expanded to the module's own catalogue: never the core's or other modules' names.
    admin = served.call("admin", "GET", "/api/modules/testkit/whoami").json()
    assert admin["scopes"] == ["testkit:inspect", "testkit:use"]
    key = served.call("key-full", "GET", "/api/modules/testkit/whoami").json()
    assert key["kind"] == "api-key" and key["scopes"] == ["testkit:inspect", "testkit:use"]


def test_me_lists_resolved_permissions(served: Served) -> None:
    me = served.call("viewer", "GET", "/api/auth/me").json()
    assert me["name"] == "viewer" and me["tenant"] == "acme" and me["credential"] == "token"
    assert me["permissions"] == ["commerce:read", "modules:read"]
    hello = served.call("key-hello", "GET", "/api/auth/me").json()
    assert hello["kind"] == "api-key" and hello["permissions"] == ["hello:use"]


def test_module_list_names_each_modules_permissions(served: Served) -> None:
    modules = {m["name"]: m for m in served.call("viewer", "GET", "/api/modules").json()}
    assert modules["testkit"]["status"] == "loaded"
    assert set(modules["testkit"]["permissions"]) == {"testkit:use", "testkit:inspect"}


def test_the_openapi_document_declares_the_three_schemes(served: Served) -> None:
    document = httpx.get(served.url + "/openapi.json", timeout=60).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["userToken"]["type"] == "http"
    assert schemes["session"] == {
        **schemes["session"],
        "type": "apiKey",
        "in": "cookie",
        "name": "trafi_session",
    }
    products = document["paths"]["/api/commerce/products"]["get"]
    assert {name for entry in products["security"] for name in entry} == {"apiKey", "userToken", "session"}
