"""The dashboard's fixtures: its build (once per run), one headless Debian chromium per session,
and a real host serving it on a free port with modules installed and users of each role."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import install_modules
from tests.live_server import live_server
from trafi_host.api import create_app
from trafi_host.auth import create_tenant
from trafi_host.auth.roles import create_role
from trafi_host.auth.users import create_user
from trafi_host.build import build_if_stale
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
ROLES = {
    "operator": ("modules:read", "modules:manage", "hello:use"),
    "viewer": ("modules:read",),
}


@pytest.fixture(scope="session")
def dashboard_built() -> Path:
    """dashboard/dist, built now if its sources changed since the last build (npm ci likewise)."""
    done = subprocess.run(
        [str(DASHBOARD / "ensure-built")], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"dashboard build failed:\n{done.stdout}\n{done.stderr}"
    return DASHBOARD / "dist"


@pytest.fixture(scope="session")
def viewkit_dir() -> Path:
    """A module of world 0.3.0 whose views misbehave on request (tests/fixtures/modules/viewkit)."""
    folder = REPO / "tests" / "fixtures" / "modules" / "viewkit"
    build_if_stale(folder)
    return folder


@pytest.fixture(scope="session")
def points_dir() -> Path:
    """The example module whose view has a table, a form and a chart."""
    folder = REPO / "modules" / "points"
    build_if_stale(folder)
    return folder


# Package scope: one browser for every test of tests/dashboard (where all browser tests live),
# closed when they are done. Playwright's sync API keeps an asyncio loop running on the main
# thread while it is open, so a session-wide one would break every later `asyncio.run`.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's chromium (installed by `just browser` / .ci/run), headless: never a downloaded build."""
    if not CHROMIUM.exists():
        pytest.fail("the browser tests drive Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class AdminHost:
    url: str
    host: ModuleHost

    def user(self, role: str | None) -> str:
        """A new user of tenant acme holding `role` (None: no role); its username."""
        username = f"{role or 'nobody'}-{uuid.uuid4().hex[:6]}"
        create_user(self.host.database, username, "acme", PASSWORD, roles=(role,) if role else ())
        return username


def serve_admin(
    project: Project, folders: list[Path], roles: dict[str, tuple[str, ...]]
) -> Iterator[AdminHost]:
    install_modules(project, *folders)
    host = ModuleHost(project)
    try:
        host.reconcile()
        create_tenant(host.database, "acme")
        for role, grants in {**ROLES, **roles}.items():
            create_role(host.database, role, grants)
        with live_server(create_app(project, host)) as url:
            yield AdminHost(url, host)
    finally:
        host.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (its own cookies and session storage) per test."""
    opened = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        yield opened
    finally:
        opened.close()


def sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(url + "/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("nav").wait_for()
