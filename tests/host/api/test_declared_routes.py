"""Declared routes on real HTTP (a world 0.3.0 module, `routekit`, beside hello of world 0.1.0):
the RBAC matrix of roles x routes, the route that ran is the one whose permission was checked,
403 bodies and audit entries, the host's 404/405 without a module call, the resolved
permissions the module sees, deprecation headers, and the live OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, install_modules
from tests.live_server import live_server
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.audit_log import AuditLog
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.auth.credentials import create_token
from trafi_host.auth.permissions import CORE_PERMISSIONS
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user
from trafi_host.build import build_if_stale
from trafi_host.lifecycle import transitions
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
ROUTEKIT = REPO / "tests" / "fixtures" / "modules" / "routekit"
PASSWORD = "correct horse battery staple"
ROLES = {
    "admin": ("*",),
    "user": ("routekit:use",),
    "operator": ("routekit:admin",),  # a declared permission without the base one
    "auditor": ("routekit:use", "routekit:audit"),
    "clerk": ("commerce:read",),  # nothing of routekit
}
KEYS = {"key-full": None, "key-use": ("routekit:use",), "key-all-routekit": ("routekit:*",)}
PRINCIPALS = [*ROLES, *KEYS]
USE, ADMIN, AUDIT = "routekit:use", "routekit:admin", "routekit:audit"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    route: str | None  # the declared route that must run; None: the host answers
    permission: str  # what the host requires
    allowed: frozenset[str]
    status: int = 200  # for an allowed caller


def case(
    method: str, path: str, route: str | None, permission: str, *allowed: str, status: int = 200
) -> Case:
    return Case(method, path, route, permission, frozenset(allowed), status)


HOLDERS_OF_USE = ("admin", "user", "auditor", "key-full", "key-use", "key-all-routekit")
HOLDERS_OF_ANY = (*HOLDERS_OF_USE, "operator")
# Written out, not derived from the code under test.
MATRIX = [
    case("GET", "/v2/items/7", "GET /v2/items/{item_id}", USE, *HOLDERS_OF_USE),
    case("GET", "/v1/items/7", "GET /v1/items/{item_id}", USE, *HOLDERS_OF_USE),
    case("GET", "/ping", "GET /ping", USE, *HOLDERS_OF_USE),
    case("POST", "/v2/items", "POST /v2/items", USE, *HOLDERS_OF_USE),
    # The literal route wins over /v2/items/{item_id}, declared first, and needs routekit:admin.
    case(
        "GET",
        "/v2/items/export",
        "GET /v2/items/export",
        ADMIN,
        "admin",
        "operator",
        "key-full",
        "key-all-routekit",
    ),
    case(
        "DELETE",
        "/v2/items/7",
        "DELETE /v2/items/{item_id}",
        ADMIN,
        "admin",
        "operator",
        "key-full",
        "key-all-routekit",
    ),
    case("GET", "/v2/whoami", "GET /v2/whoami", AUDIT, "admin", "auditor", "key-full", "key-all-routekit"),
    # No such route: the host's 404 or 405, to callers holding some permission of the module.
    case("GET", "/v2/nothing", None, USE, *HOLDERS_OF_ANY, status=404),
    case("PUT", "/v2/items/7", None, USE, *HOLDERS_OF_ANY, status=405),
]
NEW_ITEM = {"name": "mug", "size": "m", "count": 2}


@dataclass
class Served:
    url: str
    host: ModuleHost
    project: Project
    credentials: dict[str, str]

    def call(self, principal: str, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.credentials[principal]}"}
        body = NEW_ITEM if method == "POST" else None
        return httpx.request(
            method, f"{self.url}/api/modules/routekit{path}", headers=headers, json=body, timeout=60
        )

    def document(self) -> dict[str, object]:
        document: dict[str, object] = httpx.get(self.url + "/openapi.json", timeout=60).json()
        return document


@pytest.fixture(scope="module")
def routekit_dir() -> Path:
    build_if_stale(ROUTEKIT)
    return ROUTEKIT


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, hello_dir: Path, routekit_dir: Path) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("routes") / "project")
        install_modules(project, hello_dir, routekit_dir)
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
            for name, scopes in KEYS.items():
                credentials[name], _ = create_api_key(database, "acme", name, *([scopes] if scopes else []))
            with live_server(create_app(project, host)) as url:
                yield Served(url, host, project, credentials)
        finally:
            host.close()


@pytest.mark.parametrize("route", MATRIX, ids=lambda c: f"{c.method} {c.path}")
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_rbac_matrix(served: Served, principal: str, route: Case) -> None:
    response = served.call(principal, route.method, route.path)
    if principal in route.allowed:
        assert response.status_code == route.status, response.text
        if route.route is not None:
            assert response.json()["route"] == route.route  # the route checked is the route that ran
        return
    assert response.status_code == 403, response.text
    body = response.json()
    # A caller holding nothing of the module is refused at the door, as for a module that
    # does not exist; one holding some of it learns which permission the route needs.
    expected = route.permission if principal in HOLDERS_OF_ANY else USE
    assert body["permission"] == expected
    assert repr(expected) in body["error"] and f"/api/modules/routekit{route.path}" in body["error"]


def test_a_route_denial_is_audited_with_the_routes_permission(served: Served) -> None:
    # A caller of its own: repeats of one (caller, permission) within a minute are counted, not written.
    secret, _ = create_api_key(served.host.database, "acme", "audited", ("routekit:use",))
    served.credentials["audited"] = secret
    assert served.call("audited", "DELETE", "/v2/items/9").status_code == 403

    def found() -> list[str]:
        return [
            entry.detail or ""
            for entry in AuditLog(served.host.database).entries(limit=1000)
            if entry.action == "permission-denied"
            and entry.module == "routekit"
            and "(audited)" in (entry.actor or "")
        ]

    details = wait_for(found, message="the denial in the audit log")
    assert details == ["DELETE /api/modules/routekit/v2/items/9 needs routekit:admin"], details


def test_the_host_answers_unknown_routes_without_calling_the_module(served: Served) -> None:
    before = served.host.runtime.stats.calls
    missing = served.call("user", "GET", "/v2/items/7/extra")
    wrong_method = served.call("user", "PATCH", "/v2/items/7")
    assert missing.status_code == 404 and "declares no route /v2/items/7/extra" in missing.json()["error"]
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "DELETE, GET"
    assert served.host.runtime.stats.calls == before
    # An older world's module still gets every path.
    hello = httpx.get(
        f"{served.url}/api/modules/hello/nothing/here",
        headers={"Authorization": f"Bearer {served.credentials['key-full']}"},
        timeout=60,
    )
    assert hello.status_code == 404 and served.host.runtime.stats.calls == before + 1


def test_the_module_sees_the_resolved_permissions(served: Served) -> None:
    auditor = served.call("auditor", "GET", "/v2/whoami").json()
    assert auditor["scopes"] == [AUDIT, USE]
    assert auditor["permissions"] == [AUDIT, USE]
    admin = served.call("admin", "GET", "/v2/whoami").json()
    assert admin["scopes"] == [ADMIN, AUDIT, USE]
    # Core and every loaded module's permissions, wildcards expanded.
    assert set(admin["permissions"]) == {*CORE_PERMISSIONS, ADMIN, AUDIT, USE, "hello:use"}


def test_a_deprecated_version_carries_its_headers(served: Served) -> None:
    old = served.call("user", "GET", "/v1/items/a b")
    assert old.headers["Deprecation"] == "@1782777600"  # 2026-06-30T00:00:00Z
    assert old.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert old.headers["Link"] == '</api/modules/routekit/v2/items/a%20b>; rel="successor-version"'
    for path in ("/v2/items/7", "/ping"):
        response = served.call("user", "GET", path)
        assert "Deprecation" not in response.headers and "Sunset" not in response.headers, path


def test_typed_bodies_are_checked_by_the_module(served: Served) -> None:
    created = served.call("user", "POST", "/v2/items")
    assert created.status_code == 200 and created.json()["count"] == 2
    bad = httpx.post(
        f"{served.url}/api/modules/routekit/v2/items",
        headers={"Authorization": f"Bearer {served.credentials['user']}"},
        json={"name": "mug", "size": "xl", "count": 1},
        timeout=60,
    )
    assert bad.status_code == 400 and "size" in bad.text


def _module_paths(document: dict[str, object], module: str) -> dict[str, dict[str, dict[str, object]]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {path: item for path, item in paths.items() if path.startswith(f"/api/modules/{module}/")}


def test_the_document_lists_each_declared_route(served: Served) -> None:
    document = served.document()
    routekit = _module_paths(document, "routekit")
    assert set(routekit) == {
        "/api/modules/routekit/v1/items/{item_id}",
        "/api/modules/routekit/v2/items/{item_id}",
        "/api/modules/routekit/v2/items/export",
        "/api/modules/routekit/v2/items",
        "/api/modules/routekit/v2/whoami",
        "/api/modules/routekit/ping",
    }
    export = routekit["/api/modules/routekit/v2/items/export"]["get"]
    assert export["x-trafi-permission"] == ADMIN and export["tags"] == ["routekit v2"]
    assert "Requires the permission `routekit:admin`." in str(export["description"])
    assert routekit["/api/modules/routekit/v1/items/{item_id}"]["get"]["deprecated"] is True
    post = routekit["/api/modules/routekit/v2/items"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[index]
    assert schema["properties"]["size"] == {"enum": ["s", "m", "l"]} or "enum" in str(
        schema["properties"]["size"]
    )
    # hello, of world 0.1.0: one catch-all; the generic proxy route is not listed.
    assert set(_module_paths(document, "hello")) == {"/api/modules/hello/{path}"}
    assert "/api/modules/{name}/{path}" not in document["paths"]  # type: ignore[operator]


def test_swagger_ui_reads_the_live_document(served: Served) -> None:
    page = httpx.get(served.url + "/docs", timeout=60)
    assert page.status_code == 200 and "swagger-ui" in page.text and "'/openapi.json'" in page.text


def test_disabling_a_module_removes_its_routes_from_the_document_and_enabling_brings_them_back(
    served: Served,
) -> None:
    assert _module_paths(served.document(), "routekit")
    transitions.disable(served.project, "routekit")
    served.host.reconcile()
    wait_for(
        lambda: not _module_paths(served.document(), "routekit"), message="routekit gone from the document"
    )
    assert _module_paths(served.document(), "hello")
    transitions.enable(served.project, "routekit")
    served.host.reconcile()
    wait_for(lambda: _module_paths(served.document(), "routekit"), message="routekit back in the document")
    assert served.call("user", "GET", "/v2/items/7").status_code == 200
