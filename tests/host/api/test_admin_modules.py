"""The dashboard's operator API on real HTTP: the module list and detail, enable/disable as
`trafi module enable/disable` do them (audited with the signed-in user), their permissions,
CSRF, and the live feed of module state changes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import install_modules
from tests.live_server import live_server
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.auth import create_tenant
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
PASSWORD = "correct horse battery staple"
CSRF = {"X-Trafi-CSRF": "1"}


@dataclass
class Served:
    url: str
    host: ModuleHost

    @contextmanager
    def session(self, role: str) -> Iterator[httpx.Client]:
        """A browser-like client signed in as a new user holding `role`."""
        username = f"u{uuid.uuid4().hex[:8]}"
        create_user(self.host.database, username, "acme", PASSWORD, roles=(role,) if role else ())
        with httpx.Client(base_url=self.url, timeout=120) as client:
            signed_in = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
            yield client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, hello_dir: Path, testkit_dir: Path) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        patch.setenv("TRAFI_ACTOR", "the-os-user")
        project = Project.init(tmp_path_factory.mktemp("admin") / "project")
        install_modules(project, hello_dir, testkit_dir)
        host = ModuleHost(project)
        try:
            host.reconcile()
            create_tenant(host.database, "acme")
            create_role(host.database, "viewer", ("modules:read",))
            create_role(host.database, "operator", ("modules:read", "modules:manage", "hello:use"))
            create_role(host.database, "hello-only", ("hello:use",))
            with live_server(create_app(project, host)) as url:
                yield Served(url, host)
        finally:
            host.close()


def test_the_module_list_shows_status_version_source_compatibility_and_permissions(served: Served) -> None:
    with served.session("viewer") as client:
        response = client.get("/api/admin/modules")
    assert response.status_code == 200, response.text
    modules = {m["name"]: m for m in response.json()}
    assert set(modules) == {"hello", "testkit"}
    testkit = modules["testkit"]
    assert testkit["status"] == "enabled" and testkit["running"] is True
    assert testkit["version"] == "1.0.0"
    assert testkit["sourceKind"] == "path" and testkit["source"]
    assert testkit["compatible"] is True and testkit["compatibility"] == "ok"
    assert testkit["loadMs"] is not None and testkit["loadMs"] > 0
    assert testkit["incidents"] == 0
    assert [(g["permission"], g["status"]) for g in testkit["permissions"]] == [("kv", "granted")]
    assert "Tests tenant isolation" in testkit["permissions"][0]["reason"]


def test_reading_needs_modules_read(served: Served) -> None:
    with served.session("") as client:
        for path in ("/api/admin/modules", "/api/admin/modules/hello", "/api/admin/modules/hello/validation"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert response.json()["permission"] == "modules:read"


def test_module_detail_lists_events_services_metrics_and_incidents(served: Served) -> None:
    with served.session("viewer") as client:
        detail = client.get("/api/admin/modules/testkit").json()
        missing = client.get("/api/admin/modules/ghost")
    assert detail["module"]["name"] == "testkit"
    assert detail["world"] == "trafi:host/module@0.1.0"
    assert detail["apiPermissions"] == {
        "testkit:inspect": "See the permissions the host resolved for the caller."
    }
    assert isinstance(detail["events"], list) and isinstance(detail["metrics"], list)
    assert set(detail["services"]) == {"provides", "dependsOn"}
    assert detail["incidents"] == []
    assert missing.status_code == 404 and "ghost" in missing.json()["error"]


def test_an_incident_shows_on_the_module(served: Served) -> None:
    served.host.audit.record(
        "testkit", "incident", rule="trap", detail="tenant acme: unreachable", actor="host"
    )
    with served.session("viewer") as client:
        detail = client.get("/api/admin/modules/testkit").json()
        listed = {m["name"]: m for m in client.get("/api/admin/modules").json()}
    assert [(i["action"], i["kind"]) for i in detail["incidents"]] == [("incident", "trap")]
    assert "unreachable" in detail["incidents"][0]["detail"]
    assert listed["testkit"]["incidents"] == 1


def test_validation_report_of_the_installed_copy(served: Served) -> None:
    with served.session("viewer") as client:
        report = client.get("/api/admin/modules/hello/validation")
        unknown = client.get("/api/admin/modules/ghost/validation")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["module"] == "hello" and body["version"]
    assert all({"rule", "severity", "message", "fix"} <= set(f) for f in body["findings"])
    assert unknown.status_code == 404 and "ghost" in unknown.json()["error"]


def test_disable_and_enable_need_modules_manage_and_the_csrf_header(served: Served) -> None:
    with served.session("viewer") as client:
        refused = client.post("/api/admin/modules/hello/disable", headers=CSRF)
    assert refused.status_code == 403 and refused.json()["permission"] == "modules:manage"
    with served.session("operator") as client:
        no_csrf = client.post("/api/admin/modules/hello/disable")
        assert no_csrf.status_code == 403 and "X-Trafi-CSRF" in no_csrf.json()["error"]
        assert client.get("/api/modules/hello/v1/hits").status_code == 200
        unknown = client.post("/api/admin/modules/ghost/enable", headers=CSRF)
        assert unknown.status_code == 404 and "ghost" in unknown.json()["error"]


def _read_changes(stream: Iterator[str], wanted: int) -> list[dict[str, object]]:
    changes: list[dict[str, object]] = []
    event = ""
    for line in stream:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "module":
            changes.append(json.loads(line.removeprefix("data: ")))
            if len(changes) == wanted:
                break
    return changes


def test_disable_then_enable_is_applied_audited_and_announced(served: Served) -> None:
    with (
        served.session("operator") as client,
        client.stream("GET", "/api/admin/events", timeout=120) as events,
    ):
        assert events.status_code == 200
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == ": connected"

        disabled = client.post("/api/admin/modules/hello/disable", headers=CSRF)
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["status"] == "disabled" and disabled.json()["running"] is False
        # Applied by this host before the answer: the module's routes are gone at once.
        assert client.get("/api/modules/hello/v1/hits").status_code == 404
        assert served.host.project.load_config().modules["hello"].enabled is False  # the config mirror

        enabled = client.post("/api/admin/modules/hello/enable", headers=CSRF)
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["status"] == "enabled" and enabled.json()["running"] is True
        assert client.get("/api/modules/hello/v1/hits").status_code == 200

        changes = _read_changes(lines, 2)
    assert [(c["module"], c["status"]) for c in changes] == [("hello", "disabled"), ("hello", "enabled")]
    entries = [e for e in served.host.audit.entries(module="hello") if e.action in ("enabled", "disabled")]
    assert [e.action for e in entries[:2]] == ["enabled", "disabled"]
    # The signed-in user, not the host process's OS user or TRAFI_ACTOR.
    assert all(e.actor.startswith("user u") and "(session " in e.actor for e in entries[:2])


def test_the_event_stream_needs_a_credential(served: Served) -> None:
    response = httpx.get(served.url + "/api/admin/events", timeout=60)
    assert response.status_code == 401


def test_a_caller_hears_only_of_modules_it_may_know_of(served: Served) -> None:
    """`hello:use` but not `modules:read`: testkit's change is not announced to it, hello's is."""
    with (
        served.session("operator") as operator,
        served.session("hello-only") as client,
        client.stream("GET", "/api/admin/events", timeout=120) as events,
    ):
        lines = events.iter_lines()
        assert next(lines) == ": connected"
        for name in ("testkit", "hello"):
            assert operator.post(f"/api/admin/modules/{name}/disable", headers=CSRF).status_code == 200
            assert operator.post(f"/api/admin/modules/{name}/enable", headers=CSRF).status_code == 200
        changes = _read_changes(lines, 2)
    assert [(c["module"], c["status"]) for c in changes] == [("hello", "disabled"), ("hello", "enabled")]


def test_a_change_made_by_another_process_reaches_the_feed(served: Served) -> None:
    """The CLI (another process) writes the state table; this host's watcher applies it and
    the feed announces it, exactly as for the dashboard's own change."""
    from trafi_host import lifecycle

    with (
        served.session("viewer") as client,
        client.stream("GET", "/api/admin/events", timeout=120) as events,
    ):
        lines = events.iter_lines()
        assert next(lines) == ": connected"
        lifecycle.disable(served.host.project, "testkit")
        # One at a time: the watcher polls the table's content, which two quick changes would restore.
        changes = _read_changes(lines, 1)
        lifecycle.enable(served.host.project, "testkit")
        changes += _read_changes(lines, 1)
    assert [(c["module"], c["status"]) for c in changes] == [("testkit", "disabled"), ("testkit", "enabled")]
    wait_for(lambda: "testkit" in served.host.images, message="testkit running again")
