"""Start-up in dependency order with failures isolated, and enable/disable without restart."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import install_modules
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.install import set_enabled
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project


def hello_named(hello_dir: Path, tmp_path: Path, name: str, dependencies: dict[str, str]) -> Path:
    folder = tmp_path / name
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    data["name"] = name
    data["dependencies"] = dependencies
    manifest_file.write_text(json.dumps(data))
    return folder


def test_start_up_orders_isolates_and_explains(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path, tmp_path: Path
) -> None:
    modules = {
        "base": {},
        "uses-base": {"base": "^0.1.0"},
        "cycle-a": {"cycle-b": "*"},
        "cycle-b": {"cycle-a": "*"},
        "needs-ghost": {"ghost": "^1.0.0"},
        "needs-newer": {"base": "^2.0.0"},
        "needs-testkit": {"testkit": "^1.0.0"},
    }
    install_modules(
        sqlite_project, testkit_dir, *(hello_named(hello_dir, tmp_path, n, d) for n, d in modules.items())
    )
    config = sqlite_project.load_config()
    config.modules["testkit"].config["failInit"] = "exit"  # traps in init from now on
    sqlite_project.save_config(config)

    with ModuleHost(sqlite_project) as host:
        host.load_all()
        states = {name: (s.status, s.error) for name, s in host.states.items()}
    assert states["base"] == ("loaded", None)
    assert states["uses-base"] == ("loaded", None)
    assert states["cycle-a"] == ("failed", "dependency cycle: cycle-a -> cycle-b -> cycle-a")
    assert states["cycle-b"] == ("failed", "dependency cycle: cycle-a -> cycle-b -> cycle-a")
    assert states["needs-ghost"] == ("failed", "dependency ghost is not installed")
    assert states["needs-newer"] == ("failed", "needs base ^2.0.0; installed is 0.1.0")
    assert states["testkit"][0] == "failed" and "init trapped" in str(states["testkit"][1])
    assert states["needs-testkit"][0] == "failed"
    assert str(states["needs-testkit"][1]).startswith("dependency testkit failed: ")


def wait_until(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_enable_and_disable_apply_without_restart(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(project, hello_dir, testkit_dir)
    with ModuleHost(project) as host:
        create_tenant(host.database, "acme")
        key, _ = create_api_key(host.database, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(project)) as client:
        url = "/api/modules/testkit/whoami"
        assert client.get(url, headers=headers).status_code == 200
        set_enabled(project, "testkit", False)  # what `trafi module disable` writes
        assert wait_until(lambda: client.get(url, headers=headers).status_code == 404)
        assert client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200
        set_enabled(project, "testkit", True)
        assert wait_until(lambda: client.get(url, headers=headers).status_code == 200)
        set_enabled(project, "testkit", False)
        assert wait_until(lambda: client.get(url, headers=headers).status_code == 404)
    # The state survives a restart.
    with ModuleHost(project) as restarted:
        restarted.load_all()
        assert restarted.states["testkit"].status == "disabled"
        assert restarted.states["hello"].status == "loaded"


def test_toggling_under_load_never_fails_a_request(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(sqlite_project, hello_dir, testkit_dir)
    host = ModuleHost(sqlite_project)
    host.load_all()
    create_tenant(host.database, "acme")
    key, _ = create_api_key(host.database, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    seen: dict[str, list[int]] = {"hello": [], "testkit": []}
    bodies: list[str] = []
    stop = threading.Event()
    try:
        with TestClient(create_app(sqlite_project, host)) as client:

            def hammer(module: str, path: str) -> None:
                while not stop.is_set():
                    answer = client.get(f"/api/modules/{module}{path}", headers=headers)
                    seen[module].append(answer.status_code)
                    if answer.status_code not in (200, 404):
                        bodies.append(answer.text)

            workers = [
                threading.Thread(target=hammer, args=("hello", "/v1/hits")),
                threading.Thread(target=hammer, args=("testkit", "/whoami")),
            ]
            for worker in workers:
                worker.start()
            for enabled in (False, True, False, True):
                time.sleep(0.2)
                set_enabled(sqlite_project, "testkit", enabled)
                host.reconcile()
            time.sleep(0.2)
            stop.set()
            for worker in workers:
                worker.join()
    finally:
        stop.set()
        host.close()
    assert seen["hello"] and set(seen["hello"]) == {200}
    assert set(seen["testkit"]) <= {200, 404}, bodies
    assert 404 in seen["testkit"]
