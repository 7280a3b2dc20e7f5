"""A module's `requirements.txt`, installed for the build: exactly the pinned list, pure Python only.

`pip install --no-deps --only-binary :all: --target` puts the listed wheels (and
nothing they would pull in) into a staging folder that componentize-py bundles.
Every line must read as `name==version` (what the dependency scan checks); the
installed distributions are then compared with that list, so the scan of
`requirements.txt` is a scan of exactly what the component carries. A package
with compiled code (`.so`) cannot run in the WebAssembly interpreter: the build
stops naming it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .errors import BuildError
from .validation.dependency_scan import LOCK_FILE, Dependency, _normal, read_lock

NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


def install_requirements(module: str, module_dir: Path, target: Path) -> list[Dependency]:
    """Installs the module's pinned requirements into `target`; what was installed (none: [])."""
    wanted, problems = read_lock(module_dir)
    if problems:
        listed = "; ".join(f"line {p.line}: {p.message}" for p in problems)
        raise BuildError(f"module {module}: {LOCK_FILE} must pin each package as name==version: {listed}")
    if not wanted:
        return []
    target.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--no-compile",
        "--target",
        str(target),
        *(f"{dep.name}=={dep.version}" for dep in wanted),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise BuildError(
            f"module {module}: installing {LOCK_FILE} failed (only wheels are used, so a package "
            f"without one, or with compiled code only, cannot be bundled): {why[-1] if why else '?'}"
        )
    installed = _installed(target)
    expected = {(dep.name, dep.version) for dep in wanted}
    if installed != expected:
        raise BuildError(
            f"module {module}: {LOCK_FILE} lists {sorted(expected)} but {sorted(installed)} were installed"
        )
    native = _native_files(target)
    if native:
        raise BuildError(
            f"module {module}: {', '.join(sorted(native))} from {LOCK_FILE} contains compiled code "
            f"({', '.join(sorted(native.values()))}), which cannot run in a WebAssembly component; "
            "use a pure-Python package instead"
        )
    return wanted


def _installed(target: Path) -> set[tuple[str, str]]:
    found = set()
    for info in target.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found.add((_normal(name), version))
    return found


def _native_files(target: Path) -> dict[str, str]:
    """Distribution name -> one compiled file it installed."""
    native: dict[str, str] = {}
    for info in target.glob("*.dist-info"):
        record = info / "RECORD"
        if not record.is_file():
            continue
        name = info.name.removesuffix(".dist-info").rpartition("-")[0]
        for line in record.read_text(encoding="utf-8").splitlines():
            path = line.split(",", 1)[0]
            if path.endswith(NATIVE_SUFFIXES) or ".so." in path:
                native.setdefault(name, path)
    return native
