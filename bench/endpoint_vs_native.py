"""Scenario 1: hello's kv-read endpoint against a native route doing the same work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .fixtures import HELLO, REPO, built, make_project
from .http_load import run_load
from .report import Row


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("bench server exited")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("bench server did not start")


def run(work: Path, quick: bool) -> list[Row]:
    built(HELLO)
    bench = make_project(work / "endpoint", [HELLO])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The caller's path after the repository: a checkout run with its own sources keeps them.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_server", str(bench.project.root), str(port)], cwd=REPO, env=env
    )
    rows: list[Row] = []
    try:
        _wait_healthy(base, process)
        module_url = f"{base}/api/modules/hello/v1/hits/current"
        native_url = f"{base}/api/native/hits/current"
        seconds = 1.0 if quick else 5.0
        levels = [4] if quick else [1, 8, 32]
        run_load(module_url, bench.key, 4, 1.0)  # warm: instances, key cache, connections
        run_load(native_url, bench.key, 4, 1.0)
        for connections in levels:
            native = run_load(native_url, bench.key, connections, seconds)
            module = run_load(module_url, bench.key, connections, seconds)
            label = f"{connections} conn, {module.tool}"
            rows.append(
                Row(
                    "endpoint vs native",
                    f"throughput ({label})",
                    module.requests_per_s,
                    "req/s",
                    native.requests_per_s,
                    "native",
                    ">= 0.75x",
                    f"errors {module.errors}/{native.errors}",
                )
            )
            rows.append(
                Row(
                    "endpoint vs native",
                    f"median latency ({label})",
                    module.p50_ms,
                    "ms",
                    native.p50_ms,
                    "native",
                    "+0.3 ms max",
                    f"added {module.p50_ms - native.p50_ms:+.2f} ms; "
                    f"p99 {module.p99_ms:.2f} vs {native.p99_ms:.2f}",
                )
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
    return rows
