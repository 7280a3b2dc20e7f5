"""Under `trafi dev`, the dashboard follows a module's source: a save renders its open view
again, and a save that breaks the module shows the problem above the view still served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.dashboard.conftest import sign_in
from tests.live_server import live_server
from trafi_host.api import create_app
from trafi_host.dev.routes import dev_router
from trafi_host.devserver import DevServer

pytestmark = pytest.mark.timeout(900)

SOURCE = """
from trafi_sdk import Module
from trafi_sdk.views import ViewRequest

module = Module("notes")


@module.view("board", title="Board", nav_label="Board")
def board(request: ViewRequest) -> dict:
    return {"schema": "trafi-ui/1", "root": {"type": "text", "text": "MESSAGE"}}
"""


def _write(folder: Path, message: str) -> None:
    (folder / "app.py").write_text(SOURCE.replace("MESSAGE", message))


def _never(module: str, missing: dict[str, str]) -> bool:
    raise AssertionError(f"not asked to confirm: {module} {missing}")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, dashboard_built: Path) -> Iterator[tuple[str, str, Path]]:
    root = tmp_path_factory.mktemp("dev-views")
    folder = root / "notes"
    folder.mkdir()
    manifest = {
        "name": "notes",
        "version": "0.1.0",
        "description": "A view the dev-loop test edits.",
        "author": "Trafi <modules@trafi.dev>",
        "license": "MIT",
        "trafi": "^0.1.0",
        "world": "trafi:host/module@0.3.0",
        "entry": {"backend": "dist/notes.wasm"},
        "build": {"pythonModule": "app"},
        "limits": {"memoryMb": 64, "timeoutMs": 5000},
    }
    (folder / "trafi-module.json").write_text(json.dumps(manifest, indent=2))
    _write(folder, "first version")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRAFI_DATABASE_URL", raising=False)
        with DevServer.start(root / "project", [folder], _never) as server:
            app = create_app(server.project, server.host)
            app.include_router(dev_router(server.events))
            assert server.admin_password is not None
            with live_server(app) as url:
                yield url, server.admin_password, folder


def test_a_save_rerenders_the_view_and_a_broken_save_shows_its_error(
    dev: tuple[str, str, Path], context: BrowserContext
) -> None:
    url, password, folder = dev
    page = context.new_page()
    sign_in(page, url, "admin", password)
    page.get_by_test_id("nav-view-notes-board").click()
    view = page.get_by_test_id("module-view")
    expect(view).to_contain_text("first version")

    _write(folder, "second version")
    expect(view).to_contain_text("second version", timeout=120_000)

    (folder / "app.py").write_text(SOURCE.replace("MESSAGE", "third") + "\ndef broken(:\n")
    panel = page.get_by_test_id("view-error")
    expect(panel).to_contain_text("notes failed to reload", timeout=120_000)
    expect(panel).to_contain_text("app.py")
    expect(view).to_contain_text("second version")  # the version still served stays on the page
