"""`/admin` serves the built dashboard: its files, index.html for the app's own routes, a clear
503 when it is not built, nothing outside the build, and headers that keep other origins out."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trafi_host.api.admin_static import dashboard_router
from trafi_host.api.errors import ApiError, api_error_handler


def _client(dist: Path) -> TestClient:
    app = FastAPI()
    app.add_exception_handler(ApiError, api_error_handler)
    app.include_router(dashboard_router(dist))
    return TestClient(app)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<div id=root></div>")
    (tmp_path / "dist" / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not served")
    return tmp_path / "dist"


def test_files_and_the_spa_fallback(dist: Path) -> None:
    client = _client(dist)
    asset = client.get("/admin/assets/index-abc.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]
    for path in ("/admin/", "/admin/modules", "/admin/views/points/overview"):
        page = client.get(path)
        assert page.status_code == 200 and page.text == "<div id=root></div>", path
        assert page.headers["cache-control"] == "no-cache"
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    redirect = client.get("/admin", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "/admin/"


def test_a_missing_asset_is_a_404_not_the_app(dist: Path) -> None:
    response = _client(dist).get("/admin/assets/gone.js")
    assert response.status_code == 404 and "gone.js" in response.json()["error"]


def test_nothing_outside_the_build_is_served(dist: Path) -> None:
    client = _client(dist)
    for path in ("/admin/../secret.txt", "/admin/%2e%2e/secret.txt", "/admin/..%2fsecret.txt"):
        response = client.get(path)
        assert "not served" not in response.text, path


def test_an_unbuilt_dashboard_says_how_to_build_it(tmp_path: Path) -> None:
    response = _client(tmp_path / "nothing").get("/admin/")
    assert response.status_code == 503
    assert "npm ci && npm run build" in response.json()["error"]


def test_the_repository_build_is_what_the_host_serves(dashboard_built: Path, tmp_path: Path) -> None:
    client = _client(dashboard_built)
    page = client.get("/admin/modules")
    assert page.status_code == 200 and '<div id="root">' in page.text
    # Every asset the page loads is the host's own, under /admin/: no CDN, no font service.
    assert "http://" not in page.text and "https://" not in page.text
    for built in (dashboard_built / "assets").iterdir():
        assert client.get(f"/admin/assets/{built.name}").status_code == 200
        if built.suffix == ".css":
            assert "@import" not in built.read_text() and "fonts.googleapis" not in built.read_text()
