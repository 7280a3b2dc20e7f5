"""The artifact cache maps only what it compiled: a corrupted, swapped or unrecorded
artifact is recompiled from the component, never deserialised (wasmtime trusts an
artifact as native code: a bad one crashed the host with a segfault)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import install_modules
from trafi_host.project import Project
from trafi_host.runtime.artifacts import ArtifactCache, component_digest
from trafi_host.runtime.engine import EngineSettings, make_engine


def new_cache(folder: Path) -> ArtifactCache:
    settings = EngineSettings()
    return ArtifactCache(folder, make_engine(settings), settings)


@pytest.fixture(scope="module")
def compiled_hello(
    hello_dir: Path, shared_artifact_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A cache folder holding hello's artifact and record (copied from the session's cache)."""
    shared = new_cache(shared_artifact_cache)
    _, digest = shared.load(hello_dir / "dist" / "hello.wasm", "hello")
    folder = tmp_path_factory.mktemp("hello-cache")
    artifact = shared.path_for(digest)
    shutil.copy(artifact, folder / artifact.name)
    shutil.copy(ArtifactCache.record_path(artifact), ArtifactCache.record_path(folder / artifact.name))
    return folder


def test_a_corrupted_artifact_is_recompiled_not_mapped(
    compiled_hello: Path, hello_dir: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    shutil.copytree(compiled_hello, cache_dir)
    [artifact] = cache_dir.glob("*.cwasm")
    data = bytearray(artifact.read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 4096):
        data[offset] ^= 0xA5  # same size, garbage in the code section
    artifact.write_bytes(bytes(data))
    # In a child process: were the check missing, the segfault must fail this test,
    # not end the test run.
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from trafi_host.runtime.artifacts import ArtifactCache, component_digest
        from trafi_host.runtime.engine import EngineSettings, make_engine
        settings = EngineSettings()
        cache = ArtifactCache(Path({str(cache_dir)!r}), make_engine(settings), settings)
        cache.load(Path({str(hello_dir / "dist" / "hello.wasm")!r}), "hello")
        print(cache.rejected, cache.compiles, cache.hits)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1", "0"]
    assert "its bytes differ from the record" in done.stderr


def test_another_modules_artifact_copied_over_is_refused(
    compiled_hello: Path, testkit_dir: Path, tmp_path: Path
) -> None:
    cache = new_cache(compiled_hello)
    [hello_artifact] = compiled_hello.glob("*.cwasm")
    # The attacker's copy: hello's artifact and record where testkit's belong.
    testkit_digest = component_digest(testkit_dir / "dist" / "testkit.wasm")
    target = cache.path_for(testkit_digest)
    shutil.copy(hello_artifact, target)
    shutil.copy(ArtifactCache.record_path(hello_artifact), ArtifactCache.record_path(target))
    try:
        assert cache._mismatch(target, testkit_digest) == "its record is for another component or engine"
        # The genuine one still passes.
        assert cache._mismatch(hello_artifact, hello_artifact.name.split("-")[0]) is None
    finally:
        target.unlink()
        ArtifactCache.record_path(target).unlink()


def test_an_artifact_without_a_good_record_is_refused(compiled_hello: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    shutil.copytree(compiled_hello, cache_dir)
    cache = new_cache(cache_dir)
    [artifact] = cache_dir.glob("*.cwasm")
    digest = artifact.name.split("-")[0]
    record = ArtifactCache.record_path(artifact)
    record.write_text('{"component": "nope"')
    assert cache._mismatch(artifact, digest) == "its record is unreadable"
    record.unlink()
    assert cache._mismatch(artifact, digest) == "it has no record"


def test_a_component_copied_over_an_installed_one_fails_that_module_only(
    sqlite_project: Project, hello_dir: Path, listener_dir: Path
) -> None:
    from trafi_host.module_host import ModuleHost

    install_modules(sqlite_project, hello_dir, listener_dir)
    installed = sqlite_project.module_dir("hello") / "dist" / "hello.wasm"
    shutil.copy(listener_dir / "dist" / "listener.wasm", installed)
    host = ModuleHost(sqlite_project)
    try:
        host.reconcile()
        assert host.states["listener"].status == "loaded"
        hello = host.states["hello"]
        assert hello.status == "failed"
        assert "hello.wasm is not the installed component" in str(hello.error)
    finally:
        host.close()
