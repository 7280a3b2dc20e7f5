"""Scenario 2: compile, cached load, instantiate, first call; a 10-module host on a warm cache."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

from wasmtime import component as wc

from trafi_host.capabilities.context import CallContext
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.module_host import ModuleHost
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.instance import ModuleInstance

from .fixtures import HELLO, built, make_project
from .report import Row


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def run(work: Path, quick: bool) -> list[Row]:
    folder, manifest = built(HELLO)
    cache = work / "startup-cache"
    shutil.rmtree(cache, ignore_errors=True)
    rows: list[Row] = []
    with ModuleRuntime(cache, MemoryKv()) as runtime:
        component_path = folder / manifest.entry.backend
        compile_ms = _timed(lambda: runtime.artifacts.load(component_path, "hello"))
        artifact = runtime.artifacts.path_for(runtime.artifacts.load(component_path, "hello")[1])
        loads = [
            _timed(lambda: wc.Component.deserialize_file(runtime.engine, str(artifact))) for _ in range(5)
        ]
        image = runtime.load_image(manifest, folder)
        context = CallContext("hello", manifest.version, "t", manifest.permissions, MemoryKv())
        instantiations = []
        for _ in range(3 if quick else 20):
            started = time.perf_counter()
            instance = ModuleInstance(image, context, runtime.linker, runtime.ticker)
            instantiations.append((time.perf_counter() - started) * 1000)
            instance.close()
        request = ModuleRequest("GET", "/v1/hits", "fresh", Principal("k"))
        first_call = _timed(lambda: runtime.call_http_blocking(image, request, time.monotonic() + 10))
        warm_call = _timed(lambda: runtime.call_http_blocking(image, request, time.monotonic() + 10))
    rows += [
        Row("start-up", "compile (cold, Cranelift)", compile_ms, "ms", note="paid once, at install"),
        Row("start-up", "load artifact (mmap)", statistics.median(loads), "ms", compile_ms, "compile"),
        Row(
            "start-up",
            "instantiate",
            statistics.median(instantiations),
            "ms",
            target="<= 2 ms",
            note=f"median of {len(instantiations)}",
        ),
        Row(
            "start-up",
            "first call (instantiate + init + call)",
            first_call,
            "ms",
            warm_call,
            "warm call",
        ),
    ]

    empty = make_project(work / "startup-empty", [])
    ten = make_project(work / "startup-ten", [], copies_of_hello=1 if quick else 10)

    def start(project_root: Path) -> tuple[float, int]:
        from trafi_host.project import Project

        started = time.perf_counter()
        with ModuleHost(Project.open(project_root)) as host:
            host.load_all()
            elapsed = (time.perf_counter() - started) * 1000
            compiles = host.runtime.artifacts.compiles
        return elapsed, compiles

    start(empty.project.root)  # imports and first connection out of the measurement
    base_ms, _ = start(empty.project.root)
    ten_ms, compiles = start(ten.project.root)
    count = len(ten.project.load_config().modules)
    rows.append(
        Row(
            "start-up",
            f"host start with {count} modules (warm cache)",
            ten_ms,
            "ms",
            base_ms,
            "host with 0 modules",
            "<= 1000 ms",
            f"compiles during start: {compiles}",
        )
    )
    return rows
