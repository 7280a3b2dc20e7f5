"""Commands run at the same time, as real processes: the project lock makes them take turns, so no
update is lost. An npm registry that answers only when the test says holds an `add` in the
middle of its work (it has read the config, nothing is written yet)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli.commands import assert_consistent, audit_actions, start_trafi
from tests.conftest import install_modules
from tests.module_sources import as_npm_package, module_copy
from tests.polling import wait_for
from trafi_host.lifecycle import DesiredState, project_module_states
from trafi_host.project import Project

pytestmark = pytest.mark.slow


def _tarball(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=f"package/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


@dataclass
class HeldRegistry:
    """Serves packages, each request held until `release()`; `asked` counts metadata requests."""

    url: str = ""
    packages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (version, tarball)
    asked: int = 0
    gate: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.gate.set()


@contextmanager
def held_registry(tmp_path: Path, **modules: Path) -> Iterator[HeldRegistry]:
    registry = HeldRegistry()
    for name, folder in modules.items():
        package = as_npm_package(module_copy(folder, tmp_path / f"pkg-{name}"), name)
        version = json.loads((package / "package.json").read_text())["version"]
        registry.packages[name] = (version, _tarball(package))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.strip("/").split("/")[0]
            if name not in registry.packages:
                self.send_error(404)
                return
            version, tarball = registry.packages[name]
            if "/-/" in self.path:
                body = tarball
            else:
                registry.asked += 1
                registry.gate.wait(120)
                integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
                dist = {"tarball": f"{registry.url}{name}/-/{name}-{version}.tgz", "integrity": integrity}
                body = json.dumps(
                    {"name": name, "dist-tags": {"latest": version}, "versions": {version: {"dist": dist}}}
                ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    registry.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        registry.release()
        server.shutdown()
        server.server_close()


def test_two_adds_at_once_both_land(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path, tmp_path: Path
) -> None:
    project = sqlite_project
    with held_registry(tmp_path, hello=hello_dir, testkit=testkit_dir) as registry:
        first = start_trafi(
            project, "module", "add", "hello", log=tmp_path / "first.log", TRAFI_NPM_REGISTRY=registry.url
        )
        wait_for(lambda: registry.asked == 1, message="the first add asking the registry")
        second_log = tmp_path / "second.log"
        second = start_trafi(
            project, "module", "add", "testkit", log=second_log, TRAFI_NPM_REGISTRY=registry.url
        )
        # Today: it waits for the first. Without the lock it would be held at the registry too.
        wait_for(
            lambda: (
                registry.asked == 2
                or f"another command is running (pid {first.pid})" in second_log.read_text()
            ),
            message="the second add waiting",
        )
        registry.release()
        assert first.wait(300) == 0, (tmp_path / "first.log").read_text()
        assert second.wait(300) == 0, second_log.read_text()

    assert_consistent(project, {"hello", "testkit"})
    assert audit_actions(project, "hello").count("installed") == 1
    assert audit_actions(project, "testkit").count("installed") == 1


def test_a_disable_during_an_install_is_not_lost(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    project = sqlite_project
    install_modules(project, hello_dir)
    with held_registry(tmp_path, hello=hello_dir) as registry:
        # An update of hello (from npm this time), held after it has read the config.
        update = start_trafi(
            project, "module", "add", "hello", log=tmp_path / "update.log", TRAFI_NPM_REGISTRY=registry.url
        )
        wait_for(lambda: registry.asked == 1, message="the update asking the registry")
        disable_log = tmp_path / "disable.log"
        disable = start_trafi(project, "module", "disable", "hello", log=disable_log)
        wait_for(
            lambda: disable.poll() is not None or "another command is running" in disable_log.read_text(),
            message="the disable finishing or waiting",
        )
        registry.release()
        assert update.wait(300) == 0, (tmp_path / "update.log").read_text()
        assert disable.wait(300) == 0, disable_log.read_text()

    entry = project.load_config().modules["hello"]
    assert entry.source.kind == "npm"  # the update landed
    assert entry.enabled is False  # and so did the disable
    with project_module_states(project) as states:
        assert states.load()["hello"] == DesiredState(False, None)
    assert_consistent(project, {"hello"})
