"""What the scenarios share: built components, a project with modules and keys."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from trafi_host.auth import create_api_key, create_tenant
from trafi_host.build import build_if_stale
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.install import install_from_path
from trafi_host.manifest.load import load_manifest
from trafi_host.manifest.model import Manifest
from trafi_host.project import Project
from trafi_host.runtime import ModuleImage, ModuleRuntime

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "modules" / "hello"
TESTKIT = REPO / "tests" / "fixtures" / "modules" / "testkit"
# World 0.3.0: bodies as bytes carried in a string.
WORLDKIT = REPO / "tests" / "fixtures" / "modules" / "worldkit"


def built(folder: Path) -> tuple[Path, Manifest]:
    build_if_stale(folder)
    return folder, load_manifest(folder)


@dataclass(frozen=True)
class BenchProject:
    project: Project
    key: str


def make_project(root: Path, modules: list[Path], copies_of_hello: int = 0) -> BenchProject:
    """A project with the given modules (and `copies_of_hello` renamed copies) and one API key."""
    if root.exists():
        shutil.rmtree(root)
    project = Project.init(root)
    runtime = ModuleRuntime(project.artifacts_dir, host_capabilities(MemoryKv()))
    try:
        for folder in modules:
            install_from_path(project, folder, runtime)
        for index in range(copies_of_hello):
            copy = root.parent / f"hello-{index}"
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(HELLO, copy, ignore=shutil.ignore_patterns("__pycache__"))
            manifest = json.loads((copy / "trafi-module.json").read_text())
            manifest["name"] = f"hello-{index}"
            (copy / "trafi-module.json").write_text(json.dumps(manifest))
            install_from_path(project, copy, runtime)
    finally:
        runtime.close()
    database = Database(project.database_url())
    database.migrate()
    create_tenant(database, "bench")
    key, _ = create_api_key(database, "bench", "bench")
    database.close()
    return BenchProject(project, key)


def testkit_image(
    work: Path, name: str, native_boundary: str | None = None
) -> tuple[ModuleRuntime, ModuleImage]:
    """A runtime with the testkit module loaded (the caller closes the runtime).

    `native_boundary`: `on`/`off`/`auto` for the C call boundary (None: `TRAFI_NATIVE_BOUNDARY`).
    """
    folder, manifest = built(TESTKIT)
    runtime = ModuleRuntime(
        work / f"{name}-cache", host_capabilities(MemoryKv()), native_boundary=native_boundary
    )
    return runtime, runtime.load_image(manifest, folder)


def worldkit_image(runtime: ModuleRuntime) -> ModuleImage:
    """The world 0.3.0 fixture loaded into `runtime` (testkit's counterpart for 0.3.0 bodies)."""
    folder, manifest = built(WORLDKIT)
    return runtime.load_image(manifest, folder)
