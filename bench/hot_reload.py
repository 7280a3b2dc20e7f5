"""Issue-17 rows: save -> first request served by the new code under `trafi dev`, and its start time.

A real `trafi dev` process (watcher, HTTP, dev runtime) serves a small module;
each edit writes a new answer into its source, and a client on a kept-alive
connection asks until the answer is the new one: the time from the write to
that response is the row. The server's own reload time (save seen -> new code
swapped in) comes from its `/dev/events`. The baseline is what an edit cost
before: `trafi module build` of the same module and its compile.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from trafi_host.build import build_module
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleRuntime

from .fixtures import REPO
from .report import Row

SOURCE = """\
from trafi_sdk import Module, Request, Response

module = Module("edited")


@module.get("/v1/answer")
def answer(request: Request) -> Response:
    return Response.json({"answer": ANSWER})
"""
MANIFEST = {
    "name": "edited",
    "version": "0.1.0",
    "description": "The module the hot-reload bench edits.",
    "author": "Trafi <modules@trafi.dev>",
    "license": "MIT",
    "trafi": "^0.2.0",
    "world": "trafi:host/module@0.2.0",
    "entry": {"backend": "dist/edited.wasm"},
    "build": {"pythonModule": "app"},
    "limits": {"memoryMb": 64, "timeoutMs": 5000},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class _Dev:
    """`trafi dev` started as a process; `started_s`: spawn -> listening."""

    def __init__(self, cwd: Path, args: list[str], env: dict[str, str]) -> None:
        self.port = _free_port()
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trafi_cli", "dev", *args, "--port", str(self.port)],
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "300"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.key = ""
        self.output: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"API key: (trafi_\S+)", line)
            if found:
                self.key = found.group(1)
            if "Uvicorn running on" in line:
                break
        self.started_s = time.perf_counter() - began
        if self.process.poll() is not None or not self.key:
            raise RuntimeError("trafi dev did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _reload_times(dev: _Dev) -> list[float]:
    """The server's reload_ms of each `reloaded` event, read from /dev/events in the background."""
    times: list[float] = []
    connection = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=600)
    connection.request("GET", "/dev/events")
    response = connection.getresponse()
    subscribed = threading.Event()

    def read() -> None:
        for raw in response:
            line = raw.decode().strip()
            if line == ": connected":
                subscribed.set()
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                if event["kind"] == "reloaded":
                    times.append(float(event["reload_ms"]))

    threading.Thread(target=read, daemon=True).start()
    subscribed.wait(60)
    return times


def _edits(dev: _Dev, module: Path, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=30)
    headers = {"Authorization": f"Bearer {dev.key}"}

    def answer() -> Any:
        connection.request("GET", "/api/modules/edited/v1/answer", headers=headers)
        response = connection.getresponse()
        body = response.read()
        return json.loads(body).get("answer") if response.status == 200 else None

    times = []
    for edit in range(1, count + 1):
        time.sleep(0.3)  # apart from the previous reload: each edit is its own save
        started = time.perf_counter()
        (module / "app.py").write_text(SOURCE.replace("ANSWER", str(edit)))
        while answer() != edit:
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"edit {edit} never served:\n" + "".join(dev.output[-30:]))
            time.sleep(0.002)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _build_and_compile_ms(module: Path, work: Path) -> float:
    """What an edit cost before `trafi dev` reloaded: a componentize-py build and its compile."""
    started = time.perf_counter()
    result = build_module(module, output=work / "edited.wasm")
    with ModuleRuntime(work / "baseline-artifacts", host_capabilities(MemoryKv())) as runtime:
        runtime.artifacts.load(result.component, "edited")
    return (time.perf_counter() - started) * 1000


def run(work: Path, quick: bool) -> list[Row]:
    module = work / "hot-reload" / "edited"
    module.mkdir(parents=True, exist_ok=True)
    (module / "trafi-module.json").write_text(json.dumps(MANIFEST))
    (module / "app.py").write_text(SOURCE.replace("ANSWER", "0"))
    env = {k: v for k, v in os.environ.items() if k not in ("TRAFI_DATABASE_URL", "TRAFI_ARTIFACT_DIR")}
    rows: list[Row] = []
    count = 5 if quick else 50
    dev = _Dev(work / "hot-reload", [str(module), "-C", str(work / "hot-reload" / "dev")], env)
    try:
        server_times = _reload_times(dev)
        saves = _edits(dev, module, count)
    finally:
        dev.stop()
    baseline = None if quick else _build_and_compile_ms(module, work / "hot-reload")
    label = "build + compile (before)" if baseline else ""
    edits = f"({count} edits)"
    rows.append(
        Row(
            "hot reload",
            f"save -> served by the new code, p50 {edits}",
            statistics.median(saves),
            "ms",
            baseline,
            label,
            note="trafi dev process: watcher, reload, HTTP",
        )
    )
    rows.append(
        Row(
            "hot reload",
            f"save -> served by the new code, p95 {edits}",
            _percentile(saves, 0.95),
            "ms",
            baseline,
            label,
            target="<= 100 ms",
        )
    )
    if server_times:
        rows.append(
            Row(
                "hot reload",
                "reload in the server (save seen -> swapped), p95",
                _percentile(server_times, 0.95),
                "ms",
                note=f"p50 {statistics.median(server_times):.1f} ms; with the new instance of each tenant",
            )
        )
    rows += _start_rows(work, env, quick)
    return rows


def _start_rows(work: Path, env: dict[str, str], quick: bool) -> list[Row]:
    """`trafi dev` with the repository's example modules: cold (no dev runtime cached) and warm."""
    examples = REPO / "modules"
    rows: list[Row] = []
    if not quick:
        cold_env = {**env, "XDG_CACHE_HOME": str(work / "hot-reload" / "empty-cache")}
        cold = _Dev(REPO, [str(examples), "-C", str(work / "hot-reload" / "cold")], cold_env)
        cold.stop()
        rows.append(
            Row(
                "hot reload",
                "trafi dev start, example modules, cold",
                cold.started_s * 1000,
                "ms",
                note="builds and compiles the dev runtime of both worlds: once per SDK version",
            )
        )
    warm = _Dev(REPO, [str(examples), "-C", str(work / "hot-reload" / "warm")], env)
    warm.stop()
    modules = len(list(examples.glob("*/trafi-module.json")))
    rows.append(
        Row(
            "hot reload",
            f"trafi dev start, {modules} example modules, warm",
            warm.started_s * 1000,
            "ms",
            note="spawn -> listening; new dev project, dev runtime cached",
        )
    )
    return rows
