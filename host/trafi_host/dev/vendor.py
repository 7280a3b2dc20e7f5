"""A module's pure-Python requirements, installed once per requirements file for the dev runtime.

The guest is CPython for WASI: only pure-Python wheels (`py3-none-any`) can run
in it. pip is asked for exactly those, so a package that needs native code
fails here with its name, not at import inside the guest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import TrafiError

REQUIREMENTS_FILE = "requirements.txt"
# The guest's interpreter (componentize-py 0.25 embeds CPython 3.14).
GUEST_PYTHON = "3.14"
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


class RequirementsError(TrafiError):
    """A requirement cannot be vendored for the dev runtime (native code, not found)."""


def vendor_requirements(module_dir: Path, module: str, dev_dir: Path) -> Path | None:
    """The folder with the module's requirements installed, or None without a requirements file."""
    requirements = module_dir / REQUIREMENTS_FILE
    if not requirements.is_file():
        return None
    text = requirements.read_text()
    if not any(line.strip() and not line.strip().startswith("#") for line in text.splitlines()):
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    target = dev_dir / module / f"vendor-{digest}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=target.parent, prefix=".vendor-"))
    try:
        _pip_install(requirements, partial, module)
        native = sorted(
            p.relative_to(partial).as_posix() for p in partial.rglob("*") if p.name.endswith(NATIVE_SUFFIXES)
        )
        if native:
            raise RequirementsError(
                f"module {module}: {REQUIREMENTS_FILE} brings native code ({', '.join(native[:3])}), "
                "which cannot run inside a WebAssembly module; use a pure-Python package instead"
            )
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _pip_install(requirements: Path, target: Path, module: str) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), "--only-binary=:all:", "--platform", "any",
        "--implementation", "py", "--abi", "none", "--python-version", GUEST_PYTHON,
        "-r", str(requirements),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=requirements.parent)
    if result.returncode == 0:
        return
    output = result.stderr + result.stdout
    missing = re.search(r"No matching distribution found for (\S+)", output) or re.search(
        r"(\S+\.whl) is not a supported wheel on this platform", output
    )
    if missing:
        raise RequirementsError(
            f"module {module}: requirement {missing.group(1)!r} has no pure-Python wheel "
            "(py3-none-any): it needs native code, or exists only as a source distribution; "
            "a WebAssembly module can bundle pure-Python packages only"
        )
    raise RequirementsError(f"module {module}: could not install {REQUIREMENTS_FILE}:\n{output.strip()}")
