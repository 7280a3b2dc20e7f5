"""What a module reaches at run time: only granted variables and folders, never sockets."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
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
    from trafi_host.runtime.engine import EngineSettings, make_engine
    from trafi_host.validation.validate import validate_module

    settings = EngineSettings()
    report = validate_module(
        intruder_dir, ArtifactCache(shared_artifact_cache, make_engine(settings), settings)
    )
    blocked = {f.rule for f in report.blocking}
    assert {"TRF-S005", "TRF-S007"} <= blocked


@pytest.fixture
def incidents(shared_artifact_cache: Path) -> Iterator[tuple[ModuleRuntime, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    runtime = ModuleRuntime(
        shared_artifact_cache,
        host_capabilities(MemoryKv()),
        on_incident=lambda module, tenant, kind, detail: seen.append((tenant, detail)),
    )
    yield runtime, seen
    runtime.close()


def test_links_planted_in_the_write_folder_are_removed_and_are_incidents(
    incidents: tuple[ModuleRuntime, list[tuple[str, str]]], intruder_dir: Path, tmp_path: Path
) -> None:
    runtime, seen = incidents
    image = runtime.load_image(load_manifest(intruder_dir), intruder_dir, data_root=tmp_path / "data")
    exports = tmp_path / "data" / "acme" / "intruder" / "exports"
    assert call(runtime, image, "/write", "acme", b"mine", path="exports/a.txt")["ok"] is True
    planted = call(
        runtime, image, "/symlink", "acme", b"-", target="../../../../../etc/shadow", link="exports/s"
    )
    linked = call(runtime, image, "/hardlink", "acme", b"-", source="exports/a.txt", link="exports/b.txt")
    # Whether WASI let the call through or not, nothing but the plain file is left on the disk.
    assert sorted(p.name for p in exports.iterdir()) == ["a.txt"]
    assert not any(p.is_symlink() for p in (tmp_path / "data").rglob("*"))
    assert (exports / "a.txt").stat().st_nlink == 1
    made = [r for r in (planted, linked) if r["ok"]]
    assert [d for _, d in seen] == [
        f"fs: links made in the write folder were removed: exports/{name}"
        for name, r in (("s", planted), ("b.txt", linked))
        if r["ok"]
    ]
    assert made, "WASI refused both links itself: this test would not see the sweep at work"


def test_a_tenant_past_its_write_quota_turns_read_only(
    incidents: tuple[ModuleRuntime, list[tuple[str, str]]], intruder_dir: Path, tmp_path: Path
) -> None:
    runtime, seen = incidents
    image = runtime.load_image(load_manifest(intruder_dir), intruder_dir, data_root=tmp_path / "data")
    filled = call(runtime, image, "/fill", "acme", b"-", path="exports/big.bin", bytes=str(2 << 20))
    assert filled == {"ok": True, "value": 2 << 20}  # one call can overshoot: it is checked after it
    assert len(seen) == 1 and seen[0][0] == "acme"
    assert "write folder over its quota (2,097,152 of 1,048,576 bytes" in seen[0][1]
    # The next instance opens the folder read-only: reads work, writes are refused.
    again = call(runtime, image, "/write", "acme", b"more", path="exports/more.txt")
    assert again["ok"] is False
    assert call(runtime, image, "/listdir", "acme", path="exports")["value"] == ["big.bin"]
    # Another tenant of the module keeps its own quota.
    assert call(runtime, image, "/write", "globex", b"fine", path="exports/x.txt")["ok"] is True
    # Back under the quota (an operator removed the file), the next instance writes again:
    # the read-only one serves one more call, after which it is retired.
    (tmp_path / "data" / "acme" / "intruder" / "exports" / "big.bin").unlink()
    assert call(runtime, image, "/listdir", "acme", path="exports")["value"] == []
    assert call(runtime, image, "/write", "acme", b"ok", path="exports/more.txt")["ok"] is True
