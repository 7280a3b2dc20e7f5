"""What a module reaches at run time: only granted variables and folders, never sockets."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from trafi_host.manifest import load_manifest
from trafi_host.runtime import ModuleImage, ModuleRequest, ModuleRuntime, Principal


@pytest.fixture
def intruder(runtime: ModuleRuntime, intruder_dir: Path, tmp_path: Path) -> ModuleImage:
    return runtime.load_image(
        load_manifest(intruder_dir),
        intruder_dir,
        env={"CRM_TOKEN": "operator-value", "DATABASE_URL": "postgres://secret"},
        data_root=tmp_path / "data",
    )


def call(
    runtime: ModuleRuntime,
    image: ModuleImage,
    route: str,
    tenant: str = "acme",
    body: bytes = b"",
    **query: str,
) -> dict[str, object]:
    method = "POST" if body else "GET"
    request = ModuleRequest(method, route, tenant, Principal("k"), query=tuple(query.items()), body=body)
    response = asyncio.run(runtime.call_http(image, request))
    assert response.status == 200, response.body
    data: dict[str, object] = json.loads(response.body)
    return data


def test_only_granted_variables_with_operator_values(runtime: ModuleRuntime, intruder: ModuleImage) -> None:
    os.environ["TRAFI_HOST_SECRET"] = "must-not-leak"
    try:
        env = call(runtime, intruder, "/env")["env"]
    finally:
        del os.environ["TRAFI_HOST_SECRET"]
    # DATABASE_URL has a value in the operator config but no grant; nothing of the host leaks.
    assert env == {"CRM_TOKEN": "operator-value"}


def test_granted_assets_are_readable_but_not_writable(runtime: ModuleRuntime, intruder: ModuleImage) -> None:
    read = call(runtime, intruder, "/read", path="assets/catalogue.json")
    assert read["ok"] is True and "mug" in str(read["value"])
    write = call(runtime, intruder, "/write", path="assets/catalogue.json", body=b"defaced")
    assert write["ok"] is False
    assert "mug" in (intruder.folder / "assets" / "catalogue.json").read_text()


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "assets/../trafi-module.json", "assets/../../../../etc/passwd", "app.py", "../app.py"],
)
def test_nothing_outside_the_granted_folders_is_readable(
    runtime: ModuleRuntime, intruder: ModuleImage, path: str
) -> None:
    result = call(runtime, intruder, "/read", path=path)
    assert result["ok"] is False, result


def test_write_grants_are_per_tenant_folders(
    runtime: ModuleRuntime, intruder: ModuleImage, tmp_path: Path
) -> None:
    assert call(runtime, intruder, "/write", "acme", b"acme data", path="exports/report.csv")["ok"] is True
    assert call(runtime, intruder, "/read", "globex", path="exports/report.csv")["ok"] is False
    assert (tmp_path / "data" / "acme" / "intruder" / "exports" / "report.csv").read_text() == "acme data"
    assert call(runtime, intruder, "/listdir", "globex", path="exports")["value"] == []


def test_sockets_are_denied(runtime: ModuleRuntime, intruder: ModuleImage) -> None:
    result = call(runtime, intruder, "/socket", port="5432")
    assert result["ok"] is False, result


def test_static_validation_blocks_the_intruder(shared_artifact_cache: Path, intruder_dir: Path) -> None:
    from trafi_host.runtime.artifacts import ArtifactCache
    from trafi_host.runtime.engine import EngineSettings
    from trafi_host.validation import validate_module

    report = validate_module(
        intruder_dir, ArtifactCache.for_settings(shared_artifact_cache, EngineSettings())
    )
    blocked = {f.rule for f in report.blocking}
    assert {"TRF-S005", "TRF-S007"} <= blocked
