"""Module packages for source tests: a built module as an npm package or a git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.source-sha256")


def module_copy(
    source: Path,
    into: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    dependencies: dict[str, str] | None = None,
    manifest: dict[str, Any] | None = None,
    with_component: bool = True,
) -> Path:
    """A copy of a built module folder, its manifest edited."""
    shutil.copytree(source, into, ignore=_IGNORE)
    if not with_component:
        shutil.rmtree(into / "dist", ignore_errors=True)
    manifest_file = into / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    if name is not None:
        component = into / data["entry"]["backend"]
        data["name"] = name
        if component.exists():
            renamed = component.with_name(f"{name}.wasm")
            component.rename(renamed)
            data["entry"]["backend"] = renamed.relative_to(into).as_posix()
    if version is not None:
        data["version"] = version
    if dependencies is not None:
        data["dependencies"] = dependencies
    data.update(manifest or {})
    manifest_file.write_text(json.dumps(data, indent=2))
    return into


def as_npm_package(folder: Path, package_name: str, version: str | None = None) -> Path:
    """Adds the package.json `npm publish` needs; the module's files all go in the package."""
    manifest = json.loads((folder / "trafi-module.json").read_text())
    manifest["version"] = version or manifest["version"]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    package = {"name": package_name, "version": manifest["version"], "files": files, "license": "MIT"}
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    return folder


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def git_repository(folder: Path, bare: Path, tag: str | None = None) -> str:
    """Commits `folder` (dist/ included) to a new bare repository; returns the commit."""
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A", "-f")
    git(folder, "commit", "-q", "-m", "module")
    if tag:
        git(folder, "tag", tag)
    bare.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(folder), str(bare)], check=True)
    return git(folder, "rev-parse", "HEAD")


def release_version(folder: Path, bare: Path, version: str) -> str:
    """A new commit of `folder` with the manifest at `version`, tagged `v<version>`, pushed to
    `bare` (made by `git_repository`); returns the commit."""
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    data["version"] = version
    manifest_file.write_text(json.dumps(data, indent=2))
    git(folder, "commit", "-q", "-am", f"release {version}")
    git(folder, "tag", f"v{version}")
    git(folder, "push", "-q", str(bare), "main", f"v{version}")
    return git(folder, "rev-parse", "HEAD")
