"""Module views in Debian's chromium against a real host: the example's view (table, form,
chart), its form posting to the module's own endpoint, nav entries and routes guarded by
permission, a tree that breaks the schema shown as an error panel, and the nav following a
module's disable and enable live, its client state cleared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.dashboard.conftest import AdminHost, serve_admin, sign_in
from trafi_host import lifecycle
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
SHOTS = os.environ.get("TRAFI_SCREENSHOTS_DIR")
ROLES = {
    "points-clerk": ("points:use", "points:award", "viewkit:use"),
    "viewkit-user": ("viewkit:use",),
}


@pytest.fixture(scope="module")
def admin(
    tmp_path_factory: pytest.TempPathFactory, dashboard_built: Path, points_dir: Path, viewkit_dir: Path
) -> Iterator[AdminHost]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("views-browser") / "project")
        yield from serve_admin(project, [points_dir, viewkit_dir], ROLES)


def _shot(page: Page, name: str, tmp_path: Path) -> None:
    target = Path(SHOTS) if SHOTS else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def test_open_a_view_submit_its_form_and_see_the_result(
    admin: AdminHost, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("points-clerk"))
    page.get_by_test_id("nav-view-points-overview").click()
    expect(page).to_have_url(admin.url + "/admin/views/points/overview")
    view = page.get_by_test_id("module-view")
    expect(view.get_by_role("table")).to_be_visible()
    expect(view.get_by_test_id("chart")).to_have_count(1)

    form = view.get_by_test_id("form-award")
    form.get_by_label("Customer").fill("ada")
    form.get_by_label("Points").fill("7")
    form.get_by_role("button", name="Award").click()
    expect(page.get_by_test_id("form-award-result")).to_contain_text("Points awarded.")
    # The view was rendered again: the new balance is in its table.
    expect(view.get_by_role("row").filter(has_text="ada")).to_contain_text("7")
    _shot(page, "module-view", tmp_path)


def test_no_nav_entry_and_a_403_without_the_views_permission(
    admin: AdminHost, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewkit-user"))
    expect(page.get_by_test_id("nav-view-viewkit-plain")).to_be_visible()
    expect(page.get_by_test_id("nav-view-viewkit-audit")).to_have_count(0)
    expect(page.get_by_test_id("nav-module-points")).to_have_count(0)

    page.goto(admin.url + "/admin/views/viewkit/audit")
    panel = page.get_by_test_id("view-error")
    expect(panel).to_contain_text("viewkit:audit")
    expect(page.get_by_text("secret audit rows")).to_have_count(0)
    page.goto(admin.url + "/admin/views/points/overview")
    expect(page.get_by_test_id("view-error")).to_contain_text("points:use")
    expect(page.get_by_test_id("module-view")).to_have_count(0)


def test_a_tree_that_breaks_the_schema_shows_an_error_panel(
    admin: AdminHost, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewkit-user"))
    page.get_by_test_id("nav-view-viewkit-invalid").click()
    panel = page.get_by_test_id("view-error")
    expect(panel).to_contain_text("breaks trafi-ui/1")
    violations = page.get_by_test_id("view-violations")
    expect(violations).to_contain_text("root.children[0]: 'rows' is a required property")
    expect(violations).to_contain_text("root.children[1].action.path")
    expect(page.get_by_test_id("nav")).to_be_visible()  # the shell stands: not a blank page
    _shot(page, "view-error", tmp_path)


def test_the_nav_follows_disable_and_enable_live_and_the_modules_state_is_cleared(
    admin: AdminHost, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("points-clerk"))
    page.get_by_test_id("nav-view-points-overview").click()
    page.get_by_test_id("form-award").get_by_label("Customer").fill("a draft")
    assert page.evaluate("Object.keys(sessionStorage)") == ["trafi.module.points.form.award"]

    lifecycle.disable(admin.host.project, "points")  # as `trafi module disable points` would
    try:
        expect(page.get_by_test_id("nav-module-points")).to_have_count(0)
        expect(page.get_by_test_id("nav-view-viewkit-plain")).to_be_visible()
        assert page.evaluate("Object.keys(sessionStorage)") == []
    finally:
        lifecycle.enable(admin.host.project, "points")
    expect(page.get_by_test_id("nav-view-points-overview")).to_be_visible()
