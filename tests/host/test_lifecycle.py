"""Start-up in dependency order with failures isolated, and enable/disable without restart."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import install_modules
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.lifecycle import disable, enable, remove
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

    host = ModuleHost(sqlite_project)
    try:
        host.reconcile()
        states = {name: (s.status, s.error) for name, s in host.states.items()}
    finally:
        host.close()
    assert states["base"] == ("loaded", None)
    assert states["uses-base"] == ("loaded", None)
    assert states["cycle-a"] == ("failed", "dependency cycle: cycle-a -> cycle-b -> cycle-a")
    assert states["cycle-b"] == ("failed", "dependency cycle: cycle-a -> cycle-b -> cycle-a")
    assert states["needs-ghost"] == ("failed", "dependency ghost is not installed")
    assert states["needs-newer"] == ("failed", "needs base ^2.0.0; installed is 0.1.0")
    assert states["testkit"][0] == "failed" and "init trapped" in str(states["testkit"][1])
    assert states["needs-testkit"][0] == "failed"
    assert str(states["needs-testkit"][1]).startswith("dependency testkit failed: ")


def test_enable_and_disable_apply_without_restart(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(project, hello_dir, testkit_dir)
    host = ModuleHost(project)
    create_tenant(host.database, "acme")
    key, _ = create_api_key(host.database, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    host.close()
    with TestClient(create_app(project)) as client:
        url = "/api/modules/testkit/whoami"
        assert client.get(url, headers=headers).status_code == 200
        disable(project, "testkit")  # what `trafi module disable` does
        wait_for(
            lambda: client.get(url, headers=headers).status_code == 404, message="testkit to be disabled"
        )
        assert client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200
        enable(project, "testkit")
        wait_for(lambda: client.get(url, headers=headers).status_code == 200, message="testkit to be enabled")
        disable(project, "testkit")
        wait_for(
            lambda: client.get(url, headers=headers).status_code == 404, message="testkit to be disabled"
        )
    # The state survives a restart.
    restarted = ModuleHost(project)
    try:
        restarted.reconcile()
        assert restarted.states["testkit"].status == "disabled"
        assert restarted.states["hello"].status == "loaded"
    finally:
        restarted.close()


def test_toggling_under_load_never_fails_a_request(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(sqlite_project, hello_dir, testkit_dir)
    host = ModuleHost(sqlite_project)
    host.reconcile()
    create_tenant(host.database, "acme")
    key, _ = create_api_key(host.database, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    seen: dict[str, list[int]] = {"hello": [], "testkit": []}
    bodies: list[str] = []
    overloads: list[str] = []
    stop = threading.Event()
    try:
        with TestClient(create_app(sqlite_project, host)) as client:

            def hammer(module: str, path: str) -> None:
                while not stop.is_set():
                    answer = client.get(f"/api/modules/{module}{path}", headers=headers)
                    overload = answer.status_code == 503 and answer.json().get("kind") == "overload"
                    if overload and answer.headers.get("Retry-After"):
                        # The host's "retry later" when a loaded machine kept the call from
                        # starting within its deadline: capacity, not the toggle. Retried, as
                        # its Retry-After tells a client to.
                        overloads.append(answer.text)
                        continue
                    seen[module].append(answer.status_code)
                    if answer.status_code not in (200, 404):
                        bodies.append(answer.text)

            workers = [
                threading.Thread(target=hammer, args=("hello", "/v1/hits")),
                threading.Thread(target=hammer, args=("testkit", "/whoami")),
            ]
            for worker in workers:
                worker.start()
            wait_for(lambda: seen["hello"] and seen["testkit"], message="both modules to answer a request")
            for enabled in (False, True, False, True):
                answered = len(seen["testkit"])
                (enable if enabled else disable)(sqlite_project, "testkit")
                host.reconcile()
                # An answer from the new state shows requests kept flowing across the change.
                status = 200 if enabled else 404
                wait_for(
                    lambda since=answered, status=status: status in seen["testkit"][since:],
                    message=f"testkit to answer {status} after the toggle",
                )
            answered_hello = len(seen["hello"])
            wait_for(lambda: len(seen["hello"]) > answered_hello, message="hello to answer after the toggles")
            stop.set()
            for worker in workers:
                worker.join()
    finally:
        stop.set()
        host.close()
    assert seen["hello"] and set(seen["hello"]) == {200}
    assert set(seen["testkit"]) <= {200, 404}, bodies
    assert 404 in seen["testkit"]


@pytest.mark.parametrize("how", ["disabled", "quarantined"])
def test_a_module_removed_while_not_running_leaves_no_trace_in_a_running_host(
    project: Project, hello_dir: Path, testkit_dir: Path, how: str
) -> None:
    install_modules(project, hello_dir, testkit_dir)
    host = ModuleHost(project)
    try:
        host.reconcile()
        create_tenant(host.database, "acme")
        key, _ = create_api_key(host.database, "acme")
        headers = {"Authorization": f"Bearer {key}"}
        if how == "disabled":
            disable(project, "testkit")
            host.reconcile()
        else:
            host.quarantine("testkit", "3 incidents in 60 s")
        assert host.states["testkit"].status == how
        remove(project, "testkit", data="keep")
        host.reconcile()
        assert "testkit" not in host.states
        with TestClient(create_app(project, host)) as client:
            health = client.get("/health").json()
            answer = client.get("/api/modules/testkit/whoami", headers=headers)
        assert "testkit" not in {m["name"] for m in health["modules"]}
        assert answer.status_code == 404, answer.text
        assert host.states["hello"].status == "loaded"
    finally:
        host.close()
