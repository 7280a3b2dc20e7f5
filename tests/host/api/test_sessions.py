"""Dashboard sessions on real HTTP: the cookie's attributes, CSRF, logout, expiry, a disabled user
refused at once, and the password kept out of every log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.live_server import live_server
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.auth.credentials import create_token
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user, disable_user
from trafi_host.db.schema import UserCredential, utcnow
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

PASSWORD = "correct horse battery staple"
CSRF = {"X-Trafi-CSRF": "1"}


@dataclass
class Served:
    url: str
    host: ModuleHost

    def user(self, role: str = "clerk") -> str:
        """A new user with `role`; its username."""
        username = f"u{uuid.uuid4().hex[:8]}"
        create_user(self.host.database, username, "acme", PASSWORD, roles=(role,))
        return username

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return httpx.post(
            self.url + "/api/auth/login", json={"username": username, "password": password}, timeout=60
        )

    @contextmanager
    def session(self, username: str) -> Iterator[httpx.Client]:
        """A client holding the user's session cookie (as a browser would)."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            yield client


def product() -> dict[str, object]:
    return {"sku": f"SKU-{uuid.uuid4().hex[:8]}", "name": "Mug", "price_cents": 1250}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("sessions") / "project")
        host = ModuleHost(project)
        try:
            create_tenant(host.database, "acme")
            create_role(host.database, "clerk", ("commerce:read", "commerce:write"))
            create_role(host.database, "viewer", ("commerce:read",))
            with live_server(create_app(project, host)) as url:
                yield Served(url, host)
        finally:
            host.close()


def test_login_sets_an_httponly_samesite_strict_cookie(served: Served) -> None:
    response = served.login(served.user())
    assert response.status_code == 200
    assert response.json()["tenant"] == "acme"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("trafi_session=trafis_")
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower() and "max-age=43200" in cookie.lower()
    # Plain-HTTP localhost is development: a Secure cookie would never come back.
    assert "secure" not in attributes


@pytest.mark.parametrize("base_url", ["http://testserver", "https://localhost", "http://shop.example.com"])
def test_the_cookie_is_secure_anywhere_but_plain_http_localhost(served: Served, base_url: str) -> None:
    username = served.user()
    with TestClient(create_app(served.host.project, served.host), base_url=base_url) as client:
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert "secure" in {part.strip().lower() for part in response.headers["set-cookie"].split(";")}


def test_a_session_reads_and_writes_with_the_csrf_header_only(served: Served) -> None:
    with served.session(served.user()) as browser:
        assert browser.get("/api/commerce/products").status_code == 200
        assert browser.get("/api/auth/me").json()["credential"] == "session"
        forged = browser.post("/api/commerce/products", json=product())
        assert forged.status_code == 403
        assert "X-Trafi-CSRF" in forged.json()["error"]
        assert browser.post("/api/commerce/products", json=product(), headers=CSRF).status_code == 201


def test_a_session_holds_its_roles_permissions(served: Served) -> None:
    with served.session(served.user("viewer")) as browser:
        denied = browser.post("/api/commerce/products", json=product(), headers=CSRF)
        assert denied.status_code == 403
        assert denied.json()["permission"] == "commerce:write"


def test_logout_ends_the_session_for_good(served: Served) -> None:
    with served.session(served.user()) as browser:
        cookie = browser.cookies["trafi_session"]
        out = browser.post("/api/auth/logout", headers=CSRF)
        assert out.status_code == 204
        assert (
            'trafi_session=""' in out.headers["set-cookie"]
            or "max-age=0" in out.headers["set-cookie"].lower()
        )
    # The old cookie, replayed (a copy an attacker kept), is refused.
    replayed = httpx.get(served.url + "/api/commerce/products", cookies={"trafi_session": cookie}, timeout=60)
    assert replayed.status_code == 401
    assert replayed.json() == {"error": "session ended"}


def test_an_expired_session_is_refused(served: Served) -> None:
    with served.session(served.user()) as browser:
        session_id = browser.cookies["trafi_session"].split("_")[1]
        with served.host.database.session() as db:
            db.execute(
                update(UserCredential).where(UserCredential.id == session_id).values(expires_at=utcnow())
            )
        refused = browser.get("/api/commerce/products")
    assert refused.status_code == 401
    assert refused.json() == {"error": "expired session"}


def test_a_disabled_users_session_and_token_are_refused_at_once(served: Served) -> None:
    username = served.user()
    token = create_token(served.host.database, username).secret
    bearer = {"Authorization": f"Bearer {token}"}
    with served.session(username) as browser:
        assert browser.get("/api/commerce/products").status_code == 200
        assert httpx.get(served.url + "/api/commerce/products", headers=bearer, timeout=60).status_code == 200
        disable_user(served.host.database, username)
        # The very next request, with no cache to expire and nothing to wait for.
        assert browser.get("/api/commerce/products").status_code == 401
        refused = httpx.get(served.url + "/api/commerce/products", headers=bearer, timeout=60)
        assert refused.status_code == 401 and refused.json() == {"error": "the user is disabled"}
    assert served.login(username).status_code == 401


def test_wrong_credentials_get_one_answer(served: Served) -> None:
    username = served.user()
    wrong = served.login(username, "not the password at all")
    unknown = served.login("nobody-" + uuid.uuid4().hex[:6])
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_logout_is_for_sessions_not_keys(served: Served) -> None:
    key, _ = create_api_key(served.host.database, "acme", "script")
    response = httpx.post(
        served.url + "/api/auth/logout", headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert response.status_code == 400


def test_the_password_is_in_no_log_line(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    username = served.user()
    secret_password = "never-log-me-" + uuid.uuid4().hex
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(served.host.project, served.host)) as client:
        client.post("/api/auth/login", json={"username": username, "password": secret_password})
        client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        client.post("/api/auth/login", json={"username": username, "password": secret_password, "extra": 1})
    logged = "\n".join(record.getMessage() + str(record.args) for record in caplog.records)
    assert secret_password not in logged and PASSWORD not in logged
