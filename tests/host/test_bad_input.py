"""Wrong values at the newer entry points: each gets a clear error and changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import install_modules, snapshot
from trafi_cli.main import app
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal

runner = CliRunner()


def test_revoking_an_unknown_key(sqlite_project: Project) -> None:
    result = runner.invoke(app, ["apikey", "revoke", "0123456789abcdef", "-C", str(sqlite_project.root)])
    assert result.exit_code == 1
    assert "no API key with id '0123456789abcdef'" in result.output


def test_inspecting_an_unknown_module(sqlite_project: Project) -> None:
    result = runner.invoke(app, ["module", "inspect", "ghost", "-C", str(sqlite_project.root)])
    assert result.exit_code == 5
    assert "no installed module named 'ghost'" in result.output


def test_adding_something_that_is_neither_folder_nor_archive(sqlite_project: Project, tmp_path: Path) -> None:
    stray = tmp_path / "module.zip"
    stray.write_bytes(b"PK")
    before = snapshot(sqlite_project)
    result = runner.invoke(app, ["module", "add", str(stray), "-C", str(sqlite_project.root)])
    assert result.exit_code == 1
    assert "is not a folder or a .tgz archive" in result.output
    assert snapshot(sqlite_project) == before


def test_an_unknown_override_rule(hello_dir: Path) -> None:
    result = runner.invoke(
        app, ["module", "validate", str(hello_dir), "--allow", "TRF-X999", "--reason", "a long enough reason"]
    )
    assert result.exit_code == 1
    assert "--allow TRF-X999: no such rule" in result.output


def test_an_oversized_request_body_is_413(sqlite_project: Project, hello_dir: Path) -> None:
    install_modules(sqlite_project, hello_dir)
    host = ModuleHost(sqlite_project)
    host.reconcile()
    create_tenant(host.database, "acme")
    key, _ = create_api_key(host.database, "acme")
    try:
        with TestClient(create_app(sqlite_project, host)) as client:
            response = client.post(
                "/api/modules/hello/v1/hits",
                headers={"Authorization": f"Bearer {key}"},
                content=b"x" * ((1 << 20) + 1),
            )
    finally:
        host.close()
    assert response.status_code == 413
    assert response.json() == {
        "error": "request body larger than 1048576 bytes, the limit of module hello (world 0.1.0)"
    }


def test_kv_refuses_oversized_keys_and_values(shared_artifact_cache: Path, testkit_dir: Path) -> None:
    # In dev the handler's uncaught exception (the SDK's refusal) reaches the client as text.
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), dev=True)
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)

        def put(key: str, body: bytes) -> dict[str, object]:
            request = ModuleRequest("PUT", f"/kv/{key}", "acme", Principal("k"), body=body)
            response = asyncio.run(runtime.call_http(image, request))
            data: dict[str, object] = json.loads(response.body)
            return data

        assert put("k", b"x" * ((1 << 20) + 1))["error"] == "LimitExceeded: value larger than 1048576 bytes"
        assert put("k" * 600, b"v")["error"] == "InvalidArgument: key longer than 512 bytes"
        assert put("k", b"v") == {"stored": True}
    finally:
        runtime.close()
