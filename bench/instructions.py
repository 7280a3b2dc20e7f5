"""Scenario: instructions per request, counted by callgrind: numbers a busy machine cannot blur.

Two processes run under `valgrind --tool=callgrind`, each once with the C call boundary
(`TRAFI_NATIVE_BOUNDARY=on`) and once with wasmtime-py's path (`off`):

- the bench server (`bench/bench_server.py`), asked over one kept-alive connection from this
  process: hello's `GET /v1/hits/current` against the native route doing the same work (and
  against the same work as a plain route, as the module proxy is written);
- `bench/instructions_probe.py`, calling testkit's exports in process: a module call
  (`/noop`), the same with one host import (`kv.get`), and a 100 KB body in and out.

Each measure is a window: the process zeroes every thread's counters (a callgrind client
request, `bench/native/callgrind_marks.c`), runs N requests, and dumps. Collection stays on
(callgrind's collect toggle is per thread, and module calls run on worker threads), so a
window would also count what runs whatever the requests do. Under valgrind a request lasts
fifty times longer, and the module route's longer windows would collect more of it: so once
warm the bench server stops the epoch ticker (every 5 ms), the change watch (4 polls a second)
and the event relay, sweeper and job workers (`POST /bench/callgrind/quiet`); neither route
needs them. Two idle windows of two seconds, before and after, measure what is left per second
of wall time (the event loop's own timers, about 1M instructions a second), and each window's
count is corrected by it before dividing by N.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from trafi_host.manifest.load import load_manifest
from trafi_host.runtime.artifacts import ArtifactCache, component_digest
from trafi_host.runtime.engine import EngineSettings, make_engine
from trafi_host.runtime.native.build import compile_extension

from .endpoint_vs_native import _free_port, _wait_healthy
from .fixtures import HELLO, REPO, TESTKIT, WORLDKIT, built, make_project
from .report import Row

MODES = {"on": "C boundary", "off": "wasmtime-py"}
NATIVE = "/api/native/hits/current"
LEAN_NATIVE = "/api/native-lean/hits/current"
MODULE = "/api/modules/hello/v1/hits/current"


@dataclass(frozen=True)
class Window:
    instructions: int
    seconds: float
    count: int


# valgrind's CPU has no AVX-512: wasmtime refuses code compiled for it there and would compile
# again under valgrind (many minutes). Compiled without it, an artifact runs in both places.
NO_AVX512 = (
    "has_avx512bitalg",
    "has_avx512dq",
    "has_avx512vl",
    "has_avx512vbmi",
    "has_avx512vnni",
    "has_avx512f",
    "has_avx_vnni",
)


def _compile_for_valgrind(cache_dir: Path, folders: list[Path]) -> None:
    """Replace the artifacts of `folders`' components in `cache_dir` with ones valgrind runs."""
    settings = EngineSettings()
    cache = ArtifactCache(cache_dir, make_engine(settings, NO_AVX512), settings)
    for folder in folders:
        component = folder / load_manifest(folder).entry.backend
        cache.path_for(component_digest(component)).unlink(missing_ok=True)
        cache.load(component, folder.name)


def _marks(work: Path) -> Path:
    return compile_extension((REPO / "bench" / "native" / "callgrind_marks.c",), work / "_callgrind_marks.so")


def _valgrind(out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    return ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}/callgrind.out"]


def _dumps(out: Path) -> dict[str, int]:
    """Instructions of each named dump (`desc: Trigger: Client Request: <name>`, `totals:`)."""
    found: dict[str, int] = {}
    for path in sorted(out.glob("callgrind.out*")):
        name = total = None
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("desc: Trigger: Client Request: "):
                name = line.removeprefix("desc: Trigger: Client Request: ").strip()
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
        if name is not None and total is not None:
            found[name] = total
    return found


def _per_request(windows: dict[str, Window]) -> dict[str, float]:
    """Each window's instructions per request, less what the process runs idle for that long
    (the lower rate of the idle windows before and after, per second of wall time)."""
    idle = [window for name, window in windows.items() if name.startswith("idle")]
    rate = min(window.instructions / window.seconds for window in idle)
    return {
        name: (window.instructions - rate * window.seconds) / window.count
        for name, window in windows.items()
        if not name.startswith("idle") and window.count
    }


def _server_windows(work: Path, marks: Path, mode: str, requests: int) -> dict[str, Window]:
    bench = make_project(work / f"instructions-{mode}", [HELLO])
    _compile_for_valgrind(bench.project.artifacts_dir, [HELLO])
    out = work / f"callgrind-server-{mode}"
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "TRAFI_NATIVE_BOUNDARY": mode,
        "TRAFI_BENCH_CALLGRIND_MARKS": str(marks),
    }
    command = [
        *_valgrind(out),
        sys.executable,
        "-m",
        "bench.bench_server",
        str(bench.project.root),
        str(port),
    ]
    process = subprocess.Popen(command, cwd=REPO, env=env)
    seconds: dict[str, tuple[float, int]] = {}
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, timeout=900)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        headers = {"Authorization": f"Bearer {bench.key}"}

        def ask(method: str, path: str) -> None:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status < 300, (path, response.status)

        def window(name: str, path: str | None, count: int, pause: float = 0.0) -> None:
            started = time.perf_counter()
            ask("POST", "/bench/callgrind/start")
            for _ in range(count):
                ask("GET", path or "")
            if pause:
                time.sleep(pause)
            ask("POST", f"/bench/callgrind/stop/{name.replace(' ', '-')}")
            seconds[name] = (time.perf_counter() - started, count)

        for path in (NATIVE, LEAN_NATIVE, MODULE):
            for _ in range(20):  # warm: instances, key cache, plans
                ask("GET", path)
        ask("POST", "/bench/callgrind/quiet")
        window("idle", None, 0, pause=2.0)
        window("native route", NATIVE, requests)
        window("lean native route", LEAN_NATIVE, requests)
        window("module route", MODULE, requests)
        window("idle-after", None, 0, pause=2.0)
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=300)
    counts = _dumps(out)
    return {
        name: Window(counts[name.replace(" ", "-")], wall, count) for name, (wall, count) in seconds.items()
    }


def _probe_windows(work: Path, marks: Path, mode: str, calls: int, body_calls: int) -> dict[str, Window]:
    _compile_for_valgrind(work / "instructions-cache", [TESTKIT, WORLDKIT])
    out = work / f"callgrind-probe-{mode}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "TRAFI_NATIVE_BOUNDARY": mode,
    }
    command = [
        *_valgrind(out),
        sys.executable,
        "-m",
        "bench.instructions_probe",
        str(work),
        str(marks),
        str(calls),
        str(body_calls),
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the callgrind probe failed:\n{done.stderr[-3000:]}")
    walls = json.loads(done.stdout.strip().splitlines()[-1])
    counts = _dumps(out)
    return {name: Window(counts[name], data["seconds"], int(data["count"])) for name, data in walls.items()}


def run(work: Path, quick: bool) -> list[Row]:
    if shutil.which("valgrind") is None:
        return [Row("instructions", "skipped: valgrind is not installed", 0, "")]
    if quick:
        # Four processes under callgrind take many minutes; tests/bench/test_instructions.py
        # checks the windows themselves.
        return [Row("instructions", "skipped in --quick (run --only instructions)", 0, "")]
    # Built here, outside valgrind: a stale component would be rebuilt (and compiled) under it.
    built(HELLO)
    built(TESTKIT)
    built(WORLDKIT)
    marks = _marks(work)
    requests, calls, body_calls = 200, 100, 10
    server = {mode: _per_request(_server_windows(work, marks, mode, requests)) for mode in MODES}
    probe = {mode: _per_request(_probe_windows(work, marks, mode, calls, body_calls)) for mode in MODES}
    return rows_for(server, probe, requests, body_calls)


def rows_for(
    server: dict[str, dict[str, float]], probe: dict[str, dict[str, float]], requests: int, body_calls: int
) -> list[Row]:
    """The table rows of per-request counts by path (`on`, `off`) and window name."""
    rows: list[Row] = []
    native_route = server["on"]["native route"]
    for mode, label in MODES.items():
        if mode not in server:
            continue
        rows.append(
            Row(
                "instructions",
                f"module route per request ({label})",
                server[mode]["module route"] / 1e6,
                "M instr",
                native_route / 1e6,
                "native route",
                "<= 1.35x" if mode == "on" else "",
                f"{requests} kept-alive requests; hello GET /v1/hits/current",
            )
        )
    rows.append(
        Row(
            "instructions",
            "module route per request, against the lean native route (C boundary)",
            server["on"]["module route"] / 1e6,
            "M instr",
            server["on"]["lean native route"] / 1e6,
            "lean native route",
            note="the native work as a plain route calling the same authentication, as the module proxy is",
        )
    )
    if "off" in server:
        rows.append(
            Row(
                "instructions",
                "native route per request",
                native_route / 1e6,
                "M instr",
                server["off"]["native route"] / 1e6,
                "same route, the other server run",
                note="the route never enters wasm: the two runs agree within callgrind's idle correction",
            )
        )
    for mode, label in MODES.items():
        if mode not in probe:
            continue
        counts = probe[mode]
        call = counts["module call"]
        rows += [
            Row("instructions", f"module call, testkit /noop ({label})", call / 1e6, "M instr"),
            Row(
                "instructions",
                f"one host import, kv.get ({label})",
                (counts["one import"] - call) / 1e6,
                "M instr",
                note="GET /kv/{key} less GET /noop: the import, and routing a path parameter",
            ),
            Row(
                "instructions",
                f"host call path around a module call ({label})",
                (counts["host call path"] - call) / 1e6,
                "M instr",
                note="runtime.call_http on an event loop less the bare export call: bulkhead, guarded "
                "call, worker hop, pool checkout, response checks",
            ),
            Row(
                "instructions",
                f"100 KB body in and out, list<u8> ({label})",
                (counts["100 KB body"] - call) / 1e6,
                "M instr",
                note=f"{body_calls} calls; the same call with an empty body subtracted",
            ),
            Row(
                "instructions",
                f"100 KB body in and out, world 0.3.0 (bytes in a string) ({label})",
                (counts["100 KB body 0.3.0"] - counts["module call 0.3.0"]) / 1e6,
                "M instr",
                note=f"{body_calls} calls; worldkit's GET /whoami subtracted; every byte value",
            ),
        ]
    return rows
