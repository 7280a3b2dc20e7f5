"""Runtime incidents are recorded, and too many of them quarantine the module, not the host."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import install_modules
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime


def test_repeated_incidents_quarantine_one_module(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(project, hello_dir, testkit_dir)
    config = project.load_config()
    config.host.incident_threshold = 3
    project.save_config(config)

    with ModuleHost(project) as host:
        host.load_all()
        create_tenant(host.database, "acme")
        key, _ = create_api_key(host.database, "acme")
        headers = {"Authorization": f"Bearer {key}"}
        with TestClient(create_app(project, host)) as client:
            assert client.get("/api/modules/testkit/trap", headers=headers).status_code == 500
            assert client.get("/api/modules/testkit/spin", headers=headers).status_code == 504
            assert client.get("/api/modules/testkit/bomb", headers=headers).status_code == 500
            refused = client.get("/api/modules/testkit/whoami", headers=headers)
            assert refused.status_code == 503
            assert refused.json()["error"] == "module 'testkit' is quarantined"
            assert "3 incidents" in refused.json()["reason"]
            assert client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200
            health = {m["name"]: m["status"] for m in client.get("/health").json()["modules"]}
            assert health == {"hello": "loaded", "testkit": "quarantined"}
        kinds = [(e.action, e.rule) for e in reversed(host.audit.entries("testkit"))]
    assert kinds[-4:] == [
        ("incident", "trap"),
        ("incident", "deadline"),
        ("incident", "memory"),
        ("quarantined", None),
    ]
    assert project.load_config().modules["testkit"].quarantined

    runner = CliRunner()
    listing = json.loads(runner.invoke(cli, ["module", "list", "--json", "-C", str(project.root)]).output)
    assert {m["name"]: m["status"] for m in listing["modules"]}["testkit"] == "quarantined"
    assert any("testkit is quarantined" in w for w in listing["warnings"])
    assert runner.invoke(cli, ["module", "enable", "testkit", "-C", str(project.root)]).exit_code == 0
    assert project.load_config().modules["testkit"].quarantined is None


def test_a_refused_host_call_is_an_incident(project: Project, testkit_dir: Path, tmp_path: Path) -> None:
    import shutil

    from trafi_host.manifest import load_manifest
    from trafi_host.runtime import ModuleRequest, Principal

    # testkit without its kv grant: its kv calls are refused, and counted.
    folder = tmp_path / "testkit"
    shutil.copytree(testkit_dir, folder)
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    del data["permissions"]
    manifest_file.write_text(json.dumps(data))
    seen: list[tuple[str, str, str]] = []
    with ModuleRuntime(
        project.artifacts_dir, MemoryKv(), on_incident=lambda m, t, kind, d: seen.append((m, t, kind))
    ) as runtime:
        import asyncio

        image = runtime.load_image(load_manifest(folder), folder)
        response = asyncio.run(
            runtime.call_http(image, ModuleRequest("GET", "/kv/x", "acme", Principal("k")))
        )
    assert response.status == 500
    assert b"AccessDenied" in response.body
    assert ("testkit", "acme", "denied") in seen
