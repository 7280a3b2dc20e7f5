"""`TRAFI_WASM_PROFILER`: the engine tells `perf` the names of the modules' compiled functions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trafi_host.settings import SettingsError, wasm_profiler_mode


def _load_hello(hello_dir: Path, cache_dir: Path, profiler: str) -> subprocess.CompletedProcess[str]:
    # In a child process: the perf map is named after the process that loads the code.
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from trafi_host.runtime.artifacts import ArtifactCache
        from trafi_host.runtime.engine import EngineSettings
        cache = ArtifactCache.for_settings(Path({str(cache_dir)!r}), EngineSettings())
        cache.load(Path({str(hello_dir / "dist" / "hello.wasm")!r}), "hello")
        print(os.getpid())
        """
    )
    env = {**os.environ, "TRAFI_WASM_PROFILER": profiler}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env
    )


def test_perfmap_names_the_guests_functions(hello_dir: Path, shared_artifact_cache: Path) -> None:
    # As a serving host has it: the artifact compiled by an earlier process, mapped from the cache.
    assert _load_hello(hello_dir, shared_artifact_cache, "none").returncode == 0
    done = _load_hello(hello_dir, shared_artifact_cache, "perfmap")
    assert done.returncode == 0, done.stderr[-2000:]
    perf_map = Path(f"/tmp/perf-{done.stdout.split()[-1]}.map")
    try:
        lines = perf_map.read_text().splitlines()
    finally:
        perf_map.unlink(missing_ok=True)
    # `<start> <size> <name>` a function; CPython's interpreter loop is in the guest.
    assert any("_PyEval_EvalFrameDefault" in line.split(maxsplit=2)[2] for line in lines), lines[:5]


def test_no_profiler_writes_no_map(hello_dir: Path, shared_artifact_cache: Path) -> None:
    done = _load_hello(hello_dir, shared_artifact_cache, "none")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not Path(f"/tmp/perf-{done.stdout.split()[-1]}.map").exists()


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(
        SettingsError, match=r"TRAFI_WASM_PROFILER='vtune2': expected one of none, perfmap, jitdump"
    ):
        wasm_profiler_mode({"TRAFI_WASM_PROFILER": "vtune2"})
    assert wasm_profiler_mode({}) == "none"
    assert wasm_profiler_mode({"TRAFI_WASM_PROFILER": " PerfMap "}) == "perfmap"
