"""A module's source copied, per version, to the folder the dev runtime imports it from.

The copy, not the author's folder, is preopened: an instance the old version
starts while the author is mid-edit (a new tenant, a retired instance replaced)
must still get the old version's code, untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..manifest.model import MANIFEST_FILE, Manifest

# Never part of a module's source: build output, caches, version control, environments.
IGNORED_DIRS = frozenset(
    {"dist", "__pycache__", ".git", ".venv", "node_modules", ".mypy_cache", ".pytest_cache"}
)
IGNORED_SUFFIXES = (".wasm", ".pyc", ".swp", ".swx", "~")


def is_source_path(path: Path, root: Path) -> bool:
    """Whether a change to `path` (inside `root`) is a change to the module."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not parts or any(part in IGNORED_DIRS or part.startswith(".") for part in parts):
        return False
    return not path.name.endswith(IGNORED_SUFFIXES)


def source_files(source_dir: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(source_dir):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if is_source_path(path, source_dir):
                found.append(path)
    return found


@dataclass(frozen=True)
class StagedSource:
    folder: Path  # entry.json and src/: what the guest sees at /trafi-dev
    digest: str  # of the manifest and every source file


def _read_source(module_dir: Path, manifest: Manifest) -> tuple[dict[str, bytes], str]:
    """The module's source files (relative path -> bytes) and their digest, with the manifest's."""
    source_dir = (module_dir / manifest.build.source_dir).resolve()
    digest = hashlib.sha256((module_dir / MANIFEST_FILE).read_bytes())
    contents = {}
    for path in source_files(source_dir):
        relative = path.relative_to(source_dir).as_posix()
        data = path.read_bytes()
        contents[relative] = data
        digest.update(f"\0{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return contents, digest.hexdigest()


def current_digest(module_dir: Path, manifest: Manifest) -> str:
    return _read_source(module_dir, manifest)[1]


def stage_source(module_dir: Path, manifest: Manifest, dev_dir: Path) -> StagedSource:
    """The module's current source in `dev_dir/<name>/<digest>/src` (reused when unchanged)."""
    contents, hexdigest = _read_source(module_dir, manifest)
    folder = dev_dir / manifest.name / hexdigest[:16]
    if folder.is_dir():
        return StagedSource(folder, hexdigest)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
    try:
        for relative, data in contents.items():
            target = partial / "src" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (partial / "entry.json").write_text(json.dumps({"module": manifest.build.python_module}))
        os.replace(partial, folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not folder.is_dir():
            raise
    return StagedSource(folder, hexdigest)


def prune_staged(dev_dir: Path, module: str, keep: set[Path]) -> None:
    """Remove the module's staged versions other than `keep` (served or about to be)."""
    root = dev_dir / module
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and folder not in keep and not folder.name.startswith("vendor-"):
            shutil.rmtree(folder, ignore_errors=True)
