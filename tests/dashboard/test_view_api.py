"""Module views through the host on real HTTP: the nav filtered by permission, a view rendered
for a caller holding its permission only (403 and the module never called otherwise), and a
tree that breaks the schema refused with each violation named."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import PASSWORD, AdminHost, serve_admin
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
ROLES = {
    "viewkit-user": ("viewkit:use",),
    "viewkit-auditor": ("viewkit:use", "viewkit:audit"),
    "commerce-only": ("commerce:read",),
}


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory, viewkit_dir: Path) -> Iterator[AdminHost]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("views") / "project")
        yield from serve_admin(project, [viewkit_dir], ROLES)


@contextmanager
def session(admin: AdminHost, role: str) -> Iterator[httpx.Client]:
    username = admin.user(role)
    with httpx.Client(base_url=admin.url, timeout=120) as client:
        assert (
            client.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code
            == 200
        )
        yield client


def _nav(client: httpx.Client) -> list[tuple[str, str]]:
    response = client.get("/api/admin/nav")
    assert response.status_code == 200, response.text
    assert response.json()["dev"] is False
    return [(v["module"], v["id"]) for v in response.json()["views"]]


def test_the_nav_lists_only_the_views_the_caller_may_open(admin: AdminHost) -> None:
    with session(admin, "viewkit-user") as client:
        assert _nav(client) == [("viewkit", "plain"), ("viewkit", "invalid"), ("viewkit", "fails")]
    with session(admin, "viewkit-auditor") as client:
        assert ("viewkit", "audit") in _nav(client)
    with session(admin, "commerce-only") as client:
        assert _nav(client) == []


def test_a_view_renders_with_the_callers_tenant_and_query(admin: AdminHost) -> None:
    with session(admin, "viewkit-user") as client:
        response = client.get("/api/admin/views/viewkit/plain", params={"tab": "second"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["module"], body["view"], body["title"]) == ("viewkit", "plain", "Plain view")
    assert body["tree"]["root"]["title"] == "Hello acme"
    assert body["tree"]["root"]["children"] == [{"type": "text", "text": "tab=second"}]


def test_a_view_needs_its_permission_and_the_tree_is_never_served_without(admin: AdminHost) -> None:
    with session(admin, "viewkit-user") as client:
        refused = client.get("/api/admin/views/viewkit/audit")
    assert refused.status_code == 403
    assert refused.json()["permission"] == "viewkit:audit"
    assert "secret audit rows" not in refused.text
    with session(admin, "viewkit-auditor") as client:
        allowed = client.get("/api/admin/views/viewkit/audit")
    assert allowed.status_code == 200 and "secret audit rows" in allowed.text
    denials = [e for e in admin.host.audit.entries(module="viewkit") if e.action == "permission-denied"]
    assert any("viewkit:audit" in (e.detail or "") for e in denials)


def test_without_the_modules_use_nothing_tells_whether_a_module_or_view_exists(admin: AdminHost) -> None:
    with session(admin, "commerce-only") as client:
        answers = [
            client.get(path)
            for path in (
                "/api/admin/views/viewkit/plain",
                "/api/admin/views/viewkit/nope",
                "/api/admin/views/ghost/x",
            )
        ]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert [a.json()["permission"] for a in answers] == ["viewkit:use", "viewkit:use", "ghost:use"]
    with session(admin, "viewkit-user") as client:
        missing = client.get("/api/admin/views/viewkit/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_a_tree_that_breaks_the_schema_is_a_structured_error(admin: AdminHost) -> None:
    with session(admin, "viewkit-user") as client:
        response = client.get("/api/admin/views/viewkit/invalid")
    assert response.status_code == 502
    body = response.json()
    assert "breaks trafi-ui/1" in body["error"] and (body["module"], body["view"]) == ("viewkit", "invalid")
    places = {v["path"]: v["message"] for v in body["violations"]}
    assert "'rows' is a required property" in places["root.children[0]"]
    assert "does not match" in places["root.children[1].action.path"]
    assert "tree" not in body


def test_a_view_that_raises_is_an_error_naming_the_problem(admin: AdminHost) -> None:
    with session(admin, "viewkit-user") as client:
        response = client.get("/api/admin/views/viewkit/fails")
    assert response.status_code == 502
    assert "could not render its view 'fails'" in response.json()["error"]


def test_views_need_a_credential(admin: AdminHost) -> None:
    assert httpx.get(admin.url + "/api/admin/nav", timeout=60).status_code == 401
    assert httpx.get(admin.url + "/api/admin/views/viewkit/plain", timeout=60).status_code == 401


def test_a_disabled_modules_views_leave_the_nav(admin: AdminHost) -> None:
    from trafi_host import lifecycle

    with session(admin, "viewkit-user") as client:
        lifecycle.disable(admin.host.project, "viewkit")
        admin.host.reconcile()
        try:
            assert _nav(client) == []
            gone = client.get("/api/admin/views/viewkit/plain")
            assert gone.status_code == 404 and "not running" in gone.json()["error"]
        finally:
            lifecycle.enable(admin.host.project, "viewkit")
            admin.host.reconcile()
        assert _nav(client)[0] == ("viewkit", "plain")
