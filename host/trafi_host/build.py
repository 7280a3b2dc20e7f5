"""`trafi module build`: Python source to a WebAssembly component with componentize-py.

The build stages a two-line entry module that imports the author's code and the
SDK's export classes; componentize-py snapshots the interpreter after that
import, so a module's import-time error is a build error, reported here with
the module's own file and line (not componentize-py's Rust backtrace).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafi_sdk

from .build_checks import check_syntax
from .build_requirements import install_requirements
from .capabilities.registry import ALL
from .errors import BuildError
from .manifest.load import load_manifest
from .manifest.model import Manifest
from .validation.dependency_scan import LOCK_FILE

ENTRY_MODULE = "trafi_component_entry"


# The repository's WIT folder; the `TRAFI_WIT_DIR` setting names another.
REPOSITORY_WIT = Path(__file__).resolve().parents[2] / "wit"


def wit_dir(version: str, wit_root: Path | None = None) -> Path:
    path = (wit_root or REPOSITORY_WIT) / f"since_v{version}"
    if not path.is_dir():
        raise BuildError(f"no WIT for world version {version} at {path}")
    return path


def world_for(manifest: Manifest) -> str:
    """The narrowest world: imports beyond the base world (http) only for modules granted them."""
    wider = [c for c in ALL if not c.base_world and c.granted(manifest.permissions)]
    return "module-with-network" if wider else "module"


@dataclass(frozen=True)
class BuildResult:
    manifest: Manifest
    component: Path
    size: int


def _componentize_command() -> list[str]:
    found = shutil.which("componentize-py", path=str(Path(sys.executable).parent)) or shutil.which(
        "componentize-py"
    )
    if found is None:
        raise BuildError("componentize-py is not installed (pip install componentize-py)")
    return [os.path.abspath(found)]  # the build runs in a staging folder


def explain_failure(output: str, search_paths: list[Path]) -> str:
    """The Python part of componentize-py's error, with guest paths mapped back to real ones."""
    match = re.search(
        r"AssertionError: (Traceback \(most recent call last\):.*?)\n\s*\nCaused by:", output, re.S
    )
    match = match or re.search(r"(Traceback \(most recent call last\):.*?)\n\s*\nCaused by:", output, re.S)
    text = match.group(1) if match else output.strip()
    # componentize-py mounts each -p folder as /0, /1, ... inside the guest.
    for index, path in enumerate(search_paths):
        text = text.replace(f'File "/{index}/', f'File "{path}/')
    frames = re.findall(r'File "([^"]+)", line (\d+)', text)
    user_frames = [f for f in frames if ENTRY_MODULE not in f[0]]
    lines = text.strip().splitlines()
    summary = lines[-1] if lines else "componentize-py failed"
    if user_frames:
        file, line = user_frames[-1]
        return f"{summary} at {file}:{line}\n\n{text}"
    return f"{summary}\n\n{text}"


Progress = Callable[[str], None]


def build_module(
    module_dir: Path,
    output: Path | None = None,
    wit_root: Path | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """`progress` hears each step (the CLI shows it on a terminal)."""
    say = progress or (lambda _message: None)
    module_dir = module_dir.resolve()
    manifest = load_manifest(module_dir)
    source_dir = (module_dir / manifest.build.source_dir).resolve()
    entry_file = source_dir / (manifest.build.python_module.replace(".", "/") + ".py")
    package_init = source_dir / manifest.build.python_module.replace(".", "/") / "__init__.py"
    if not entry_file.is_file() and not package_init.is_file():
        raise BuildError(
            f"module {manifest.name}: build.pythonModule {manifest.build.python_module!r} "
            f"not found in {source_dir}"
        )
    say(f"checking the syntax of {manifest.name}'s Python files")
    check_syntax(manifest.name, source_dir)
    target = (output or module_dir / manifest.entry.backend).resolve()
    sdk_root = Path(trafi_sdk.__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="trafi-build-") as staging:
        stage = Path(staging)
        # componentize-py mounts the -p folders as /0, /1, /2 in the guest; the
        # SDK uses this map so a module's error names `app.py`, not `/1/app.py`.
        (stage / f"{ENTRY_MODULE}.py").write_text(
            "import trafi_sdk.guest\n"
            "trafi_sdk.guest.SOURCE_ROOTS.update({'/1/': '', '/2/': 'sdk:', '/3/': 'requirements:'})\n"
            f"import {manifest.build.python_module}  # noqa: F401\n"
            "from trafi_sdk.guest import (  # noqa: F401\n"
            "    EventHandler, HttpHandler, Lifecycle, Routes, Services, Views\n"
            ")\n"
            "trafi_sdk.guest.freeze_heap()\n"
        )
        search_paths = [stage, source_dir, sdk_root]
        if (module_dir / LOCK_FILE).is_file():
            say(f"installing {manifest.name}'s {LOCK_FILE}")
            site = stage / "_requirements"  # mounted as /3 in the guest
            if install_requirements(manifest.name, module_dir, site):
                search_paths.append(site)
        partial = stage / "component.wasm"
        command = [
            *_componentize_command(),
            "--quiet",
            "-d",
            str(wit_dir(manifest.wit_version, wit_root)),
            "-w",
            world_for(manifest),
            "componentize",
            *[arg for path in search_paths for arg in ("-p", str(path))],
            ENTRY_MODULE,
            "-o",
            str(partial),
        ]
        say(f"componentizing {manifest.name} (interpreter, SDK and module into one component)")
        env = {**os.environ, "RUST_BACKTRACE": "0"}
        env.pop("VIRTUAL_ENV", None)  # only the module's folders and the SDK go in
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=stage)
        if result.returncode != 0:
            raise BuildError(
                f"module {manifest.name}: build failed: "
                + explain_failure(result.stderr + result.stdout, search_paths)
            )
        say(f"writing {target.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, target) if partial.stat().st_dev == target.parent.stat().st_dev else shutil.move(
            partial, target
        )
    return BuildResult(manifest, target, target.stat().st_size)


def source_digest(module_dir: Path, manifest: Manifest, wit_root: Path | None = None) -> str:
    """Hash of everything the build reads from the module (source, manifest) and the SDK/WIT."""
    import hashlib

    digest = hashlib.sha256()
    source_dir = (module_dir / manifest.build.source_dir).resolve()
    sdk_dir = Path(trafi_sdk.__file__).resolve().parent
    inputs = [module_dir / "trafi-module.json"]
    inputs += [path for path in [module_dir / LOCK_FILE] if path.is_file()]
    inputs += sorted(p for p in source_dir.rglob("*.py") if "dist" not in p.parts)
    inputs += sorted(sdk_dir.rglob("*.py"))
    inputs += sorted(wit_dir(manifest.wit_version, wit_root).rglob("*.wit"))
    for path in inputs:
        digest.update(str(path.relative_to(path.anchor)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_if_stale(module_dir: Path, wit_root: Path | None = None) -> BuildResult | None:
    """Build only when the sources changed since the last build; None when up to date."""
    module_dir = module_dir.resolve()
    manifest = load_manifest(module_dir)
    component = module_dir / manifest.entry.backend
    stamp = component.with_name(component.name + ".source-sha256")
    wanted = source_digest(module_dir, manifest, wit_root)
    if component.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return None
    result = build_module(module_dir, wit_root=wit_root)
    stamp.write_text(wanted + "\n")
    return result
