"""Compiles `boundary.c` and `epoch_ticker.c` into the `_boundary` extension beside it, with the
machine's C compiler.

`./bootstrap` runs `python host/trafi_host/runtime/native/build.py` (a machine without a compiler
keeps the wasmtime-py path: the build reports why and the bootstrap goes on). The extension
carries the digest of the sources it was built from; the loader refuses a stale one, so an
edited `boundary.c` is never run from an old build.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = (
    HERE / "boundary.c",
    HERE / "epoch_ticker.c",
    HERE / "epoch_ticker.h",
    HERE / "wasmtime_component_api.h",
)
COMPILED = (HERE / "boundary.c", HERE / "epoch_ticker.c")


class NativeBuildError(Exception):
    """The extension could not be compiled (no compiler, no Python headers, a compile error)."""


def source_digest() -> str:
    digest = hashlib.sha256()
    for source in SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def extension_path() -> Path:
    return HERE / f"_boundary{sysconfig.get_config_var('EXT_SUFFIX') or '.so'}"


def built_digest(path: Path) -> str | None:
    """The source digest an extension file was built from, read from its bytes (not imported)."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    marker = b"trafi-source-digest:"
    at = data.find(marker)
    if at < 0:
        return None
    return data[at + len(marker) : at + len(marker) + 16].decode("ascii", "replace")


def compile_extension(sources: Sequence[Path], target: Path, extra_c: str = "") -> Path:
    """Compile C `sources` (and the `extra_c` text) into the CPython extension `target`, atomically."""
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").is_file():
        raise NativeBuildError(f"no Python headers in {include} (install the python3-dev package)")
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        output = Path(scratch) / target.name
        extra = Path(scratch) / "extra.c"
        extra.write_text(extra_c or "/* nothing */\n")
        command = [
            *compiler,
            *("-shared", "-fPIC", "-O2", "-Wall", "-Werror", f"-I{include}"),
            *(str(source) for source in sources),
            str(extra),
            *("-o", str(output), "-ldl"),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as error:
            raise NativeBuildError(f"cannot run the C compiler {compiler[0]!r}: {error}") from None
        if done.returncode != 0:
            raise NativeBuildError(f"{shlex.join(command)} failed:\n{done.stderr.strip()}")
        os.replace(output, target)
    return target


def build(target: Path | None = None) -> Path:
    """Compile the extension; an old copy already loaded stays valid (the file is replaced)."""
    digest = source_digest()
    # The digest twice: a string `built_digest` finds in the file without importing it, and
    # SOURCE_DIGEST, which the loader compares with the sources before it uses the extension.
    extra_c = (
        f'const char trafi_source_digest[] = "trafi-source-digest:{digest}";\n'
        f'const char *trafi_boundary_digest(void) {{ return "{digest}"; }}\n'
    )
    return compile_extension(COMPILED, target or extension_path(), extra_c)


def build_if_stale() -> Path:
    """The extension for the current sources, compiled only when missing or stale."""
    target = extension_path()
    if built_digest(target) != source_digest():
        build(target)
    return target


def main() -> int:
    """Builds when stale; says so only when it built or could not (bootstrap runs it every time)."""
    target = extension_path()
    if built_digest(target) == source_digest():
        return 0
    try:
        build(target)
    except NativeBuildError as error:
        print(f"trafi: the native call boundary was not built; module calls use wasmtime-py ({error})")
        return 0
    print(f"trafi: built the native call boundary ({target.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
