"""The lock's source digest: the same source anywhere gives the same digest, and the install error
tells a rebuild of the locked source from a different module."""

from __future__ import annotations

import shutil
from pathlib import Path

from trafi_host.manifest.load import load_manifest
from trafi_host.module_source_digest import locked_digest_mismatch, module_source_digest
from trafi_host.project.config import ModuleEntry, ModuleSource
from trafi_host.project.lock import LockedModule

SOURCE = ModuleSource(kind="path", spec="./hello", resolved="/src/hello")


def copy(hello_dir: Path, target: Path) -> Path:
    shutil.copytree(hello_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_digest_is_the_sources_not_the_place_or_the_build(hello_dir: Path, tmp_path: Path) -> None:
    first = copy(hello_dir, tmp_path / "a" / "hello")
    second = copy(hello_dir, tmp_path / "b" / "elsewhere")
    manifest = load_manifest(first)
    digest = module_source_digest(first, manifest)
    assert module_source_digest(second, manifest) == digest
    # A rebuilt component, its stamp and bytecode caches are not the source.
    (second / manifest.entry.backend).write_bytes(b"another build")
    (second / "dist" / "hello.wasm.source-sha256").write_text("x")
    (second / "__pycache__").mkdir(exist_ok=True)
    (second / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    assert module_source_digest(second, manifest) == digest
    # Any change to a source file, or a new file, is.
    (second / "app.py").write_text((second / "app.py").read_text() + "\n# changed\n")
    assert module_source_digest(second, manifest) != digest
    (first / "helpers.py").write_text("X = 1\n")
    assert module_source_digest(first, manifest) != digest


def locked(source_digest: str | None) -> LockedModule:
    return LockedModule(version="0.1.0", source=SOURCE, digest="a" * 64, source_digest=source_digest)


def installed(source_digest: str | None) -> ModuleEntry:
    return ModuleEntry(version="0.1.0", source=SOURCE, digest="b" * 64, source_digest=source_digest)


def test_same_source_other_build_says_builds_are_not_reproducible_and_what_to_do() -> None:
    message = locked_digest_mismatch("hello", locked("c" * 64), installed("c" * 64))
    assert f"the component's sha256 is {'b' * 64}, the lock records {'a' * 64}" in message
    assert "the source is the one locked" in message
    assert "not byte-for-byte reproducible" in message
    assert "trafi module add ./hello" in message


def test_another_source_says_it_is_not_the_locked_module() -> None:
    message = locked_digest_mismatch("hello", locked("c" * 64), installed("d" * 64))
    assert "its source differs from the one locked" in message
    assert "this is not the module that was locked" in message


def test_a_lock_without_a_source_digest_still_says_what_to_do() -> None:
    message = locked_digest_mismatch("hello", locked(None), installed("d" * 64))
    assert "no source digest" in message and "trafi module add ./hello" in message
