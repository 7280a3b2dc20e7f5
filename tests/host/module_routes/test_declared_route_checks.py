"""Declared routes checked where a module becomes served: routes differing only in parameter names
fail the load and refuse the install, naming both; an `apiVersions` entry without routes is an
install warning (TRF-A001). The worldkit fixture declares what its config says."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import install_modules
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.errors import TrafiError
from trafi_host.install import install_from_path
from trafi_host.module_host import ModuleHost
from trafi_host.module_settings import change_setting
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime

CONFLICTING = [
    {"method": "GET", "path": "/v1/items/{id}", "version": "v1"},
    {"method": "GET", "path": "/v1/items/{sku}", "version": "v1"},
]


@pytest.fixture
def runtime(shared_artifact_cache: Path) -> Iterator[ModuleRuntime]:
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()))
    yield runtime
    runtime.close()


CONFLICT = "module worldkit: routes GET /v1/items/{id} and GET /v1/items/{sku} match the same requests"


def test_conflicting_routes_fail_the_load_naming_both(sqlite_project: Project, worldkit_dir: Path) -> None:
    install_modules(sqlite_project, worldkit_dir)
    change_setting(sqlite_project, "worldkit", "declaredRoutes", CONFLICTING)
    with ModuleHost(sqlite_project) as host:
        host.reconcile()
        state = host.states["worldkit"]
        assert state.status == "failed" and "worldkit" not in host.images
        assert state.error is not None and CONFLICT in state.error


def test_conflicting_routes_refuse_the_install_and_leave_the_project_as_it_was(
    sqlite_project: Project, worldkit_dir: Path, runtime: ModuleRuntime
) -> None:
    install_modules(sqlite_project, worldkit_dir)
    # An update keeps the module's config: the staged copy's first start declares the conflict.
    change_setting(sqlite_project, "worldkit", "declaredRoutes", CONFLICTING)
    before = sqlite_project.load_config().modules["worldkit"]
    with pytest.raises(TrafiError, match=CONFLICT.replace("{", r"\{").replace("}", r"\}")):
        install_from_path(sqlite_project, worldkit_dir, runtime)
    assert sqlite_project.load_config().modules["worldkit"] == before


def _with_versions(tmp_path: Path, worldkit_dir: Path, versions: dict[str, Any]) -> Path:
    folder = tmp_path / "worldkit"
    shutil.copytree(worldkit_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((folder / "trafi-module.json").read_text())
    (folder / "trafi-module.json").write_text(json.dumps({**manifest, "apiVersions": versions}))
    return folder


def test_a_version_without_routes_is_an_install_warning(
    sqlite_project: Project, worldkit_dir: Path, runtime: ModuleRuntime, tmp_path: Path
) -> None:
    # worldkit serves no v7 or v8 routes.
    folder = _with_versions(tmp_path, worldkit_dir, {"v7": {"deprecated": "2026-01-01", "successor": "v8"}})
    result = install_from_path(sqlite_project, folder, runtime)
    assert [(f.rule, f.severity, f.message) for f in result.report.warnings if f.rule == "TRF-A001"] == [
        ("TRF-A001", "warning", "apiVersions.v7: the module declares no route of version v7"),
        ("TRF-A001", "warning", "apiVersions.v7.successor: the module declares no route of version v8"),
    ]
    assert result.report.passed  # a warning: installed
    assert "worldkit" in sqlite_project.load_config().modules
