"""A module under `trafi dev`: its new code serves after a reload, its old code until then."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.host.dev.dev_modules import auth, counter_source, never, write_counter
from tests.host.dev.wheels import write_wheel
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.dev.routes import dev_router
from trafi_host.dev.watcher import ModuleWatcher
from trafi_host.devserver import DevServer

ANSWER = "/api/modules/counter/v1/answer"


@pytest.fixture
def module_dir(tmp_path: Path) -> Path:
    return write_counter(tmp_path / "counter", answer=1, keep_state=True)


@pytest.fixture
def answers() -> list[bool]:
    """What the author answers when asked to grant a permission (popped in order)."""
    return []


@pytest.fixture
def dev(tmp_path: Path, module_dir: Path, answers: list[bool]) -> Iterator[DevServer]:
    asked: list[str] = []

    def confirm(module: str, missing: dict[str, str]) -> bool:
        asked.append(f"{module}: {', '.join(sorted(missing))}")
        return answers.pop(0) if answers else never(module, missing)

    with DevServer.start(tmp_path / "project", [module_dir], confirm) as server:
        server.watcher.stop()  # these tests reload by hand: nothing on its own time
        yield server


@pytest.fixture
def client(dev: DevServer) -> Iterator[TestClient]:
    app = create_app(dev.project, dev.host)
    app.include_router(dev_router(dev.events))
    with TestClient(app) as client:
        yield client


def test_a_reload_serves_the_new_code_and_keeps_in_memory_state(
    dev: DevServer, client: TestClient, module_dir: Path
) -> None:
    assert client.get(ANSWER, headers=auth(dev)).json() == {"answer": 1, "calls": 1}
    assert client.get(ANSWER, headers=auth(dev)).json() == {"answer": 1, "calls": 2}
    (module_dir / "app.py").write_text(counter_source(2, keep_state=True))
    event = dev.modules.load(module_dir)
    assert event.kind == "reloaded" and event.reload_ms is not None
    # New code, old count: the snapshot of the old instance went into the new one.
    assert client.get(ANSWER, headers=auth(dev)).json() == {"answer": 2, "calls": 3}


def test_without_the_hooks_in_memory_state_starts_over_but_kv_persists(
    dev: DevServer, client: TestClient, module_dir: Path
) -> None:
    (module_dir / "app.py").write_text(counter_source(1, keep_state=False))
    dev.modules.load(module_dir)
    client.get(ANSWER, headers=auth(dev))
    assert client.get("/api/modules/counter/v1/stored", headers=auth(dev)).json() == {"stored": 1}
    (module_dir / "app.py").write_text(counter_source(3, keep_state=False))
    dev.modules.load(module_dir)
    assert client.get(ANSWER, headers=auth(dev)).json() == {"answer": 3, "calls": 1}
    assert client.get("/api/modules/counter/v1/stored", headers=auth(dev)).json() == {"stored": 2}


def test_a_syntax_error_keeps_the_old_version_serving_and_says_where(
    dev: DevServer, client: TestClient, module_dir: Path
) -> None:
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 1
    broken = counter_source(2).replace("def answer(request: Request) -> Response:", "def answer(request:")
    (module_dir / "app.py").write_text(broken)
    event = dev.modules.load(module_dir)
    assert event.kind == "error" and event.serving == "0.1.0"
    problem = event.problem
    assert problem is not None and problem.kind == "syntax"
    assert problem.file == str(module_dir / "app.py")
    assert problem.line == broken.splitlines().index("def answer(request:") + 1
    assert (
        problem.excerpt is not None and "> " in problem.excerpt and "def answer(request:" in problem.excerpt
    )
    # The old code answers, in memory state and all.
    assert client.get(ANSWER, headers=auth(dev)).json() == {"answer": 1, "calls": 2}
    # An instance started after the failed reload (another tenant) still gets the old code.
    dev.host.runtime.pool.drop("counter")
    dev.host.runtime.pool.reopen("counter")
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 1
    (module_dir / "app.py").write_text(counter_source(4))
    assert dev.modules.load(module_dir).kind == "reloaded"
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 4


def test_an_import_time_error_names_the_authors_line(dev: DevServer, module_dir: Path) -> None:
    source = counter_source(1) + "\nvalue = 1 / 0\n"
    (module_dir / "app.py").write_text(source)
    problem = dev.modules.load(module_dir).problem
    assert problem is not None and problem.kind == "runtime"
    assert problem.message == "ZeroDivisionError: division by zero"
    assert problem.line == len(source.splitlines())
    assert problem.detail is not None and "importlib" not in problem.detail


def test_a_missing_package_is_an_import_error_that_says_what_to_do(dev: DevServer, module_dir: Path) -> None:
    (module_dir / "app.py").write_text("import requests\n" + counter_source(1))
    problem = dev.modules.load(module_dir).problem
    assert problem is not None and problem.kind == "import" and problem.line == 1
    assert "requirements.txt" in problem.message


def test_a_module_that_never_loaded_answers_503_with_the_problem(tmp_path: Path) -> None:
    module_dir = write_counter(tmp_path / "counter")
    (module_dir / "app.py").write_text("from trafi_sdk import Module\nmodule = Module('counter'\n")
    with DevServer.start(tmp_path / "project", [module_dir], never) as dev:
        dev.watcher.stop()
        with TestClient(create_app(dev.project, dev.host)) as client:
            response = client.get(ANSWER, headers=auth(dev))
            assert response.status_code == 503
            source = response.json()["source"]
            assert source["kind"] == "syntax" and source["file"] == str(module_dir / "app.py")
            assert "module = Module('counter'" in source["excerpt"]
            (module_dir / "app.py").write_text(counter_source(5))
            assert dev.modules.load(module_dir).kind == "reloaded"
            assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 5


def test_routes_and_services_come_from_the_new_code(
    dev: DevServer, client: TestClient, module_dir: Path
) -> None:
    source = counter_source(1).replace('"/v1/answer"', '"/v2/answer"')
    source += (
        '\n\n@module.service("tally", "get")\ndef tally(payload: object, tenant: str) -> int:\n    return 7\n'
    )
    (module_dir / "app.py").write_text(source)
    assert dev.modules.load(module_dir).kind == "reloaded"
    assert client.get(ANSWER, headers=auth(dev)).status_code == 404
    assert client.get("/api/modules/counter/v2/answer", headers=auth(dev)).json()["answer"] == 1
    assert dev.host.images["counter"].service_names == ("tally",)


def test_a_new_permission_waits_for_the_authors_yes(
    dev: DevServer, client: TestClient, module_dir: Path, answers: list[bool]
) -> None:
    manifest = json.loads((module_dir / "trafi-module.json").read_text())
    manifest["permissions"]["core"] = [{"scope": "orders:read", "reason": "Reads orders."}]
    (module_dir / "trafi-module.json").write_text(json.dumps(manifest))
    (module_dir / "app.py").write_text(counter_source(2))
    answers.append(False)
    refused = dev.modules.load(module_dir)
    assert refused.kind == "error" and refused.problem is not None and refused.problem.kind == "permission"
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 1
    answers.append(True)
    assert dev.modules.load(module_dir).kind == "reloaded"
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 2
    assert "orders:read" in str(dev.host.images["counter"].grants.model_dump(exclude_none=True))


def test_pure_python_requirements_are_importable_and_native_ones_are_named(
    dev: DevServer, client: TestClient, module_dir: Path, tmp_path: Path
) -> None:
    wheel = write_wheel(
        tmp_path / "wheels",
        "tinyfmt",
        "py3-none-any",
        {"tinyfmt/__init__.py": "def shout(x):\n    return str(x) + '!'\n"},
    )
    (module_dir / "requirements.txt").write_text(f"{wheel}\n")
    (module_dir / "app.py").write_text(
        "import tinyfmt\n"
        + counter_source("tinyfmt.shout(6)").replace("'tinyfmt.shout(6)'", "tinyfmt.shout(6)")
    )
    assert dev.modules.load(module_dir).kind == "reloaded"
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == "6!"
    native = write_wheel(
        tmp_path / "wheels", "fastthing", "cp311-cp311-manylinux_2_17_x86_64", {"fastthing/__init__.py": ""}
    )
    (module_dir / "requirements.txt").write_text(f"{native}\n")
    event = dev.modules.load(module_dir)
    assert event.problem is not None and event.problem.kind == "requirements"
    assert "fastthing" in event.problem.message
    assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == "6!"


def test_the_watcher_reloads_a_saved_module(dev: DevServer, client: TestClient, module_dir: Path) -> None:
    watcher = ModuleWatcher(dev.modules)
    watcher.start()
    try:
        (module_dir / "app.py").write_text(counter_source(6, keep_state=True))
        wait_for(
            lambda: client.get(ANSWER, headers=auth(dev)).json()["answer"] == 6, message="the saved code"
        )
        (module_dir / "notes.txt").write_text("not Python, still the module's: reloads too\n")
        (module_dir / "dist").mkdir()
        (module_dir / "dist" / "counter.wasm").write_bytes(b"build output: no reload")
        wait_for(lambda: len(dev.events.since(0)) >= 3, message="the notes reload")
    finally:
        watcher.stop()


def test_a_save_before_the_watch_is_in_place_is_not_lost(
    dev: DevServer, client: TestClient, module_dir: Path
) -> None:
    (module_dir / "app.py").write_text(counter_source(7, keep_state=True))  # no watcher yet
    watcher = ModuleWatcher(dev.modules)
    watcher.start()  # returns once watching, after catching up
    try:
        assert client.get(ANSWER, headers=auth(dev)).json()["answer"] == 7
    finally:
        watcher.stop()
