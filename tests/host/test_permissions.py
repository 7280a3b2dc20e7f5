"""Install grants what the manifest requests; an update asking for more needs --grant;
the host enforces the granted set."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import snapshot
from trafi_cli.main import app
from trafi_host.audit_log import AuditLog
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.db import Database
from trafi_host.manifest import load_manifest
from trafi_host.manifest.model import Permissions
from trafi_host.permissions import escalation
from trafi_host.project import Project
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal

runner = CliRunner()


def widened_copy(hello_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "hello-next"
    shutil.copytree(hello_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    data["version"] = "0.2.0"
    data["permissions"]["env"] = [{"name": "CRM_TOKEN", "reason": "Reports hits to the CRM."}]
    manifest_file.write_text(json.dumps(data))
    return folder


def test_an_update_asking_for_more_needs_grant(
    sqlite_project: Project, hello_dir: Path, tmp_path: Path
) -> None:
    root = str(sqlite_project.root)
    first = runner.invoke(app, ["module", "add", str(hello_dir), "-C", root])
    assert first.exit_code == 0
    assert "granted kv" in first.output
    next_version = widened_copy(hello_dir, tmp_path)
    before = snapshot(sqlite_project)
    refused = runner.invoke(app, ["module", "add", str(next_version), "-C", root])
    assert refused.exit_code == 12
    assert "+ env: CRM_TOKEN  (Reports hits to the CRM.)" in refused.output
    assert snapshot(sqlite_project) == before
    accepted = runner.invoke(app, ["module", "add", str(next_version), "--grant", "-C", root])
    assert accepted.exit_code == 0, accepted.output
    entry = sqlite_project.load_config().modules["hello"]
    assert entry.version == "0.2.0"
    assert entry.granted is not None and [g.name for g in entry.granted.env] == ["CRM_TOKEN"]
    with Database(sqlite_project.database_url()) as database:
        granted = [e.detail for e in AuditLog(database).entries("hello") if e.action == "permissions-granted"]
    assert granted == ["env: CRM_TOKEN", "kv"]


def test_the_host_enforces_the_granted_set(
    shared_artifact_cache: Path, intruder_dir: Path, tmp_path: Path
) -> None:
    manifest = load_manifest(intruder_dir)
    granted = Permissions()  # the operator granted nothing of what intruder asks for
    assert escalation(manifest.permissions, granted)
    with ModuleRuntime(shared_artifact_cache, MemoryKv()) as runtime:
        image = runtime.load_image(
            manifest, intruder_dir, env={"CRM_TOKEN": "x"}, data_root=tmp_path, granted=granted
        )

        def call(route: str, **query: str) -> dict[str, object]:
            request = ModuleRequest("GET", route, "acme", Principal("k"), query=tuple(query.items()))
            data: dict[str, object] = json.loads(asyncio.run(runtime.call_http(image, request)).body)
            return data

        assert call("/env") == {"env": {}}
        assert call("/read", path="assets/catalogue.json")["ok"] is False
