"""Scenario: `--workers 2` against one process, for the module route and the native route.

The same app as `endpoint_vs_native.py` (`bench/bench_server.py`: hello's
`GET /v1/hits/current` and a native route doing its work), served once as one
process and once by the `trafi serve --workers` supervisor with two workers,
under HTTP load from a separate process at 1, 8 and 32 connections. Rows: each
route with two workers against itself with one, and the module route against
the native route with two workers each (issue 20's target: >= 0.75x).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .endpoint_vs_native import _free_port
from .fixtures import HELLO, REPO, BenchProject, built, make_project
from .http_load import LoadResult, run_load
from .report import Row

START_SECONDS = 180.0


def _pids_answering(base: str, workers: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until `workers` distinct processes answer /health (each new connection may land on any)."""
    seen: set[int] = set()
    deadline = time.monotonic() + START_SECONDS
    while len(seen) < workers:
        if process.poll() is not None:
            raise RuntimeError("bench server exited")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {workers} workers answered")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                seen.add(int(json.load(response)["process"]["pid"]))
        except OSError:
            time.sleep(0.1)


def _measure(
    bench: BenchProject, workers: int, levels: list[int], seconds: float
) -> dict[tuple[str, int], LoadResult]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "bench.bench_server", str(bench.project.root), str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], cwd=REPO, env=env)
    results: dict[tuple[str, int], LoadResult] = {}
    try:
        _pids_answering(base, workers, process)
        urls = {
            "module": f"{base}/api/modules/hello/v1/hits/current",
            "native": f"{base}/api/native/hits/current",
        }
        for url in urls.values():  # warm every worker: instances, key cache, connections
            run_load(url, bench.key, 8, 1.0)
        for connections in levels:
            for route, url in urls.items():
                results[(route, connections)] = run_load(url, bench.key, connections, seconds)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return results


def run(work: Path, quick: bool) -> list[Row]:
    built(HELLO)
    bench = make_project(work / "workers", [HELLO])
    seconds = 1.0 if quick else 5.0
    levels = [4] if quick else [1, 8, 32]
    one = _measure(bench, 1, levels, seconds)
    two = _measure(bench, 2, levels, seconds)
    rows: list[Row] = []
    for connections in levels:
        for route in ("module", "native"):
            a, b = two[(route, connections)], one[(route, connections)]
            rows.append(
                Row(
                    "workers",
                    f"{route} route, 2 workers ({connections} conn, {a.tool})",
                    a.requests_per_s,
                    "req/s",
                    b.requests_per_s,
                    "1 process",
                    "",
                    f"errors {a.errors}/{b.errors}; p50 {a.p50_ms:.2f} vs {b.p50_ms:.2f} ms",
                )
            )
        module, native = two[("module", connections)], two[("native", connections)]
        rows.append(
            Row(
                "workers",
                f"module vs native, both 2 workers ({connections} conn, {module.tool})",
                module.requests_per_s,
                "req/s",
                native.requests_per_s,
                "native, 2 workers",
                ">= 0.75x",
                f"errors {module.errors}/{native.errors}",
            )
        )
    return rows
