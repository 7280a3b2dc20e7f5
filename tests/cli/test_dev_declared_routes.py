"""`trafi dev` serves a world-0.3.0 module's declared routes (what `trafi module new` writes) over
real HTTP, and a save that adds a route with a permission and changes another is, from its
`reloaded` event on, what the host matches, checks and documents in /openapi.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.cli.dev_process import DevProcess
from trafi_host.devserver import DEV_TENANT

ADDED = """

@module.get("/v1/hello/{who}", summary="Greet someone by name")
def hello_to(who: str) -> dict[str, str]:
    return {"message": f"hello {who} from greeter"}


@module.post("/v1/greetings/reset", summary="Start counting greetings again", permission="admin")
def reset(request: Request) -> Response:
    kv.delete("greetings")
    return Response.json({"reset": True})
"""


def save(path: Path, text: str, scratch: Path) -> None:
    """Written whole at once (a rename), so the watcher never reloads a half-written file."""
    (scratch / path.name).write_text(text)
    os.replace(scratch / path.name, path)


def openapi(dev: DevProcess) -> dict[str, Any]:
    with urllib.request.urlopen(dev.base + "/openapi.json", timeout=30) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


def key_with_only(project: Path, *scopes: str) -> str:
    """A key of the dev tenant for `scopes`, made by the CLI in the dev project: a module under
    `trafi dev` is not installed there, and its permissions are grantable all the same."""
    scope_options = [option for scope in scopes for option in ("--scope", scope)]
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "trafi_cli",
            "apikey",
            "create",
            "--tenant",
            DEV_TENANT,
            "--name",
            "greeter-user",
            *scope_options,
            "-C",
            str(project),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    answer: dict[str, Any] = json.loads(created.stdout)
    assert answer["scopes"] == list(scopes)
    return str(answer["key"])


@pytest.mark.slow
def test_a_saved_route_and_its_permission_are_served_checked_and_documented(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "trafi_cli", "module", "new", "greeter"], cwd=tmp_path, check=True, timeout=120
    )
    module = tmp_path / "greeter"
    manifest = json.loads((module / "trafi-module.json").read_text())
    assert manifest["world"] == "trafi:host/module@0.3.0"
    dev = DevProcess(tmp_path, "greeter", project=tmp_path / "dev")
    try:
        dev.wait_started()
        dev.follow_events()
        status, body = dev.get("/api/modules/greeter/v1/hello")
        assert status == 200 and body == {"message": "hello from greeter", "count": 1}
        # Declared, so matched by the host: an undeclared path never reaches the module.
        assert dev.get("/api/modules/greeter/v1/hello/ada")[0] == 404
        assert dev.call("POST", "/api/modules/greeter/v1/hello")[0] == 405
        user = key_with_only(tmp_path / "dev", "greeter:use")

        # The permission first (a route naming an undeclared one fails the load), then the code.
        manifest["apiPermissions"] = {"greeter:admin": "Reset the greeting counter"}
        save(module / "trafi-module.json", json.dumps(manifest, indent=2), tmp_path)
        assert dev.next_event()["kind"] == "reloaded"
        source = (module / "app.py").read_text()
        changed = source.replace(
            '@module.get("/v1/hello")', '@module.get("/v1/hello", summary="Count a greeting")'
        )
        assert changed != source
        save(module / "app.py", changed + ADDED, tmp_path)
        reloaded = dev.next_event()
        assert reloaded["kind"] == "reloaded" and reloaded["module"] == "greeter", reloaded

        assert dev.get("/api/modules/greeter/v1/hello/ada") == (200, {"message": "hello ada from greeter"})
        denied = dev.call("POST", "/api/modules/greeter/v1/greetings/reset", key=user)
        assert denied[0] == 403 and denied[1]["permission"] == "greeter:admin"
        assert dev.call("GET", "/api/modules/greeter/v1/hello", key=user)[0] == 200
        assert dev.get("/api/modules/greeter/v1/hello")[1]["count"] == 3  # not reset by the denied call
        assert dev.call("POST", "/api/modules/greeter/v1/greetings/reset") == (200, {"reset": True})
        assert dev.get("/api/modules/greeter/v1/hello")[1]["count"] == 1

        paths = openapi(dev)["paths"]
        reset = paths["/api/modules/greeter/v1/greetings/reset"]["post"]
        assert reset["x-trafi-permission"] == "greeter:admin"
        assert reset["summary"] == "Start counting greetings again"
        assert paths["/api/modules/greeter/v1/hello/{who}"]["get"]["x-trafi-permission"] == "greeter:use"
        assert paths["/api/modules/greeter/v1/hello"]["get"]["summary"] == "Count a greeting"
    finally:
        dev.stop()
