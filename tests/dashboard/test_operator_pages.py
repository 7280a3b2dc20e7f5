"""The operators' pages in Debian's chromium against a real host: sign in, the modules page,
disabling and enabling a module through the confirmation dialog, another open page following
the change live, the module detail, host health, and what a viewer is not offered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.dashboard.conftest import REPO, AdminHost, serve_admin, sign_in
from trafi_host.auth import create_api_key
from trafi_host.build import build_if_stale
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
# `just screenshots` sets it to docs/dashboard: the pages as docs/dashboard.md shows them.
SHOTS = os.environ.get("TRAFI_SCREENSHOTS_DIR")
LOYALTY = REPO / "modules" / "loyalty"


@pytest.fixture(scope="module")
def admin(
    tmp_path_factory: pytest.TempPathFactory,
    dashboard_built: Path,
    hello_dir: Path,
    testkit_dir: Path,
    points_dir: Path,
) -> Iterator[AdminHost]:
    build_if_stale(LOYALTY)  # records a counter, a gauge and a histogram (docs/metrics.md)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        project = Project.init(tmp_path_factory.mktemp("dashboard") / "project")
        yield from serve_admin(project, [hello_dir, testkit_dir, points_dir, LOYALTY], {})


def _shot(page: Page, name: str, tmp_path: Path) -> None:
    target = Path(SHOTS) if SHOTS else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
    assert (target / f"{name}.png").stat().st_size > 10_000


def test_sign_in_rejects_a_wrong_password(admin: AdminHost, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(admin.url + "/admin/")
    page.get_by_label("Username").fill(admin.user("viewer"))
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    expect(page.get_by_test_id("nav")).to_have_count(0)


def test_modules_page_disable_and_enable_with_confirmation(
    admin: AdminHost, context: BrowserContext, browser: Browser, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("operator"))
    expect(page).to_have_url(admin.url + "/admin/modules")
    hello = page.get_by_test_id("module-row-hello")
    expect(hello.get_by_test_id("status")).to_have_text("enabled")
    expect(page.get_by_test_id("module-row-testkit")).to_contain_text("1/1 granted")
    _shot(page, "modules", tmp_path)

    # Another operator's page, open meanwhile: it follows the change without a reload.
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        sign_in(other, admin.url, admin.user("viewer"))
        other_hello = other.get_by_test_id("module-row-hello")
        expect(other_hello.get_by_test_id("status")).to_have_text("enabled")

        hello.get_by_role("button", name="Disable").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Disable hello?")
        _shot(page, "disable-dialog", tmp_path)
        dialog.get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        assert "hello" in admin.host.images  # cancelled: nothing changed

        hello.get_by_role("button", name="Disable").click()
        page.get_by_test_id("confirm").click()
        expect(hello.get_by_test_id("status")).to_have_text("disabled")
        assert "hello" not in admin.host.images
        expect(other_hello.get_by_test_id("status")).to_have_text("disabled")

        hello.get_by_role("button", name="Enable").click()
        expect(page.get_by_role("dialog")).to_contain_text("validated again")
        page.get_by_test_id("confirm").click()
        expect(hello.get_by_test_id("status")).to_have_text("enabled")
        assert "hello" in admin.host.images
        expect(other_hello.get_by_test_id("status")).to_have_text("enabled")
    finally:
        other_context.close()


def test_a_viewer_is_offered_no_switch(admin: AdminHost, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewer"))
    expect(page.get_by_test_id("module-row-hello")).to_be_visible()
    expect(page.get_by_role("button", name="Disable")).to_have_count(0)


def test_module_detail_shows_routes_permissions_and_validation(
    admin: AdminHost, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewer"))
    page.get_by_role("link", name="testkit").click()
    expect(page).to_have_url(admin.url + "/admin/modules/testkit")
    expect(page.get_by_role("heading", name="testkit")).to_be_visible()
    # Routes come from the host's OpenAPI document.
    expect(page.get_by_test_id("routes-table")).to_contain_text("/api/modules/")
    page.get_by_role("tab", name="Permissions").click()
    expect(page.get_by_test_id("permissions-table")).to_contain_text("Tests tenant isolation")
    expect(page.get_by_text("testkit:inspect")).to_be_visible()
    page.get_by_role("tab", name="Validation").click()
    report = page.get_by_test_id("findings-table").or_(page.get_by_text("No finding."))
    expect(report).to_be_visible(timeout=120_000)
    _shot(page, "module-detail", tmp_path)


def test_module_metrics_tab_shows_values_as_the_module_records_them(
    admin: AdminHost, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewer"))
    page.get_by_role("link", name="loyalty", exact=True).click()
    page.get_by_role("tab", name="Metrics").click()
    expect(page.get_by_test_id("metrics-empty")).to_be_visible()
    expect(page.get_by_test_id("metric-points_awarded_total")).to_contain_text("Nothing recorded yet.")

    # Recorded while the tab is open: the tab's next refresh shows it, without a reload.
    key, _ = create_api_key(admin.host.database, "acme")
    with httpx.Client(base_url=admin.url, headers={"Authorization": f"Bearer {key}"}) as client:
        for number, total in enumerate((30, 12)):
            answer = client.post(
                "/api/modules/loyalty/v1/orders", json={"id": f"o{number}", "customer": "ada", "total": total}
            )
            assert answer.status_code == 201, answer.text
        # An order: loyalty's order.created handler sets its gauge.
        created = [
            client.post(path, json=body)
            for path, body in (
                ("/api/commerce/products", {"sku": "MUG", "name": "Mug", "price_cents": 1250}),
                ("/api/commerce/customers", {"email": "ada@example.com", "name": "Ada"}),
            )
        ]
        assert [r.status_code for r in created] == [201, 201], [r.text for r in created]
        order = client.post(
            "/api/commerce/orders",
            json={
                "customer_id": created[1].json()["id"],
                "lines": [{"product_id": created[0].json()["id"], "quantity": 1}],
            },
        )
        assert order.status_code == 201, order.text
    awarded = page.get_by_test_id("metric-values-points_awarded_total")
    expect(awarded.get_by_role("row").nth(1)).to_have_text("acmeorder42", timeout=30_000)
    expect(page.get_by_test_id("metric-values-orders_seen").get_by_role("row").nth(1)).to_have_text(
        "acme1", timeout=30_000
    )
    expect(page.get_by_test_id("metrics-empty")).to_have_count(0)
    durations = page.get_by_test_id("metric-values-points_service_duration_seconds")
    expect(durations.get_by_role("row").nth(1).get_by_role("cell").nth(2)).to_have_text("2")
    chart = page.get_by_test_id("metric-distribution-points_service_duration_seconds")
    expect(chart).to_contain_text("≤ 0.005")  # the declared buckets on its axis
    # A bar drawn for the bucket(s) the two calls fell in (recharts draws none for an empty one).
    expect(chart.locator("path.recharts-rectangle").first).to_be_visible()
    _shot(page, "module-metrics", tmp_path)


def test_host_health_page(admin: AdminHost, context: BrowserContext, tmp_path: Path) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user("viewer"))
    page.get_by_role("link", name="Health").click()
    expect(page.get_by_role("heading", name="Host health")).to_be_visible()
    expect(page.get_by_test_id("health-table")).to_contain_text("testkit")
    _shot(page, "health", tmp_path)


def test_a_user_without_modules_read_sees_no_operator_page(admin: AdminHost, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, admin.url, admin.user(None))
    expect(page.get_by_role("link", name="Modules")).to_have_count(0)
    page.goto(admin.url + "/admin/modules")
    expect(page.get_by_role("alert")).to_contain_text("modules:read")
