"""An artifact cache on its own engine: what validation and inspection use instead of a whole runtime."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.project import Project
from trafi_host.runtime import HostLimits, ModuleRuntime
from trafi_host.runtime.artifacts import ArtifactCache
from trafi_host.runtime.engine import EngineSettings

runner = CliRunner()


@pytest.mark.parametrize("limits", [HostLimits(), HostLimits(fuel_per_call=200_000_000)])
def test_its_artifacts_are_the_runtimes(tmp_path: Path, limits: HostLimits) -> None:
    """Same engine settings, same key: what enable's re-validation compiles, the hosts load."""
    with ModuleRuntime(tmp_path, host_capabilities(MemoryKv()), limits=limits) as runtime:
        expected = runtime.artifacts.path_for("0" * 64)
    cache = ArtifactCache.for_settings(tmp_path, EngineSettings.for_limits(limits))
    assert cache.path_for("0" * 64) == expected


def test_it_compiles_once_and_starts_no_thread(tmp_path: Path, hello_dir: Path) -> None:
    threads = threading.active_count()
    manifest = load_manifest(hello_dir)
    component = hello_dir / manifest.entry.backend
    first = ArtifactCache.for_settings(tmp_path, EngineSettings())
    first.load(component, manifest.name)
    second = ArtifactCache.for_settings(tmp_path, EngineSettings())
    second.load(component, manifest.name)
    assert (first.compiles, second.compiles, second.hits) == (1, 0, 1)
    assert threading.active_count() == threads


def test_validate_inspect_and_enable_start_no_runtime(
    sqlite_project: Project, hello_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(sqlite_project.root)
    assert runner.invoke(app, ["module", "add", str(hello_dir), "-C", root]).exit_code == 0
    assert runner.invoke(app, ["module", "disable", "hello", "-C", root]).exit_code == 0

    def no_runtime(*args: object, **kwargs: object) -> None:
        raise AssertionError("a whole ModuleRuntime was started")

    monkeypatch.setattr(ModuleRuntime, "__init__", no_runtime)
    for command in (
        ["module", "validate", str(hello_dir)],
        ["module", "inspect", str(hello_dir)],
        ["module", "inspect", "hello", "-C", root],
        ["module", "enable", "hello", "-C", root],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
