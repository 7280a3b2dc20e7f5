"""Scenario 4: the Wasm boundary: an empty export call, a host import, 1 KB and 100 KB bodies."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from trafi_host.capabilities.context import CallContext
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.instance import ModuleInstance

from .fixtures import TESTKIT, built
from .report import Row


def median_us(action: Callable[[], object], repeat: int) -> float:
    for _ in range(min(50, repeat)):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def run(work: Path, quick: bool) -> list[Row]:
    folder, manifest = built(TESTKIT)
    repeat = 200 if quick else 3000
    runtime = ModuleRuntime(work / "boundary-cache", MemoryKv())
    try:
        image = runtime.load_image(manifest, folder)
        kv = MemoryKv()
        kv.set("t", "testkit", "k", b"v")
        context = CallContext("testkit", manifest.version, "t", manifest.permissions, kv)
        instance = ModuleInstance(image, context, runtime.linker, runtime.ticker)

        def handle(path: str, method: str = "GET", body: bytes = b"") -> Callable[[], object]:
            record = runtime._to_record(ModuleRequest(method, path, "t", Principal("k"), body=body))
            return lambda: instance.handle(record, 5000)

        empty = median_us(lambda: instance._call(instance._destroy, timeout_ms=5000), repeat)
        noop = median_us(handle("/noop"), repeat)
        one_import = median_us(handle("/kv/k"), repeat)
        echo_1k = median_us(handle("/echo", "POST", b"x" * 1024), repeat)
        echo_100k = median_us(handle("/echo", "POST", b"x" * 100 * 1024), repeat // 3 or 1)
        instance.close()
    finally:
        runtime.close()
    return [
        Row("wasm boundary", "empty export call (lifecycle.destroy)", empty, "us"),
        Row("wasm boundary", "http handle, no host call (SDK routing)", noop, "us", empty, "empty call"),
        Row(
            "wasm boundary",
            "handle + 1 host import (kv.get)",
            one_import,
            "us",
            noop,
            "no host call",
            note=f"one import costs {one_import - noop:.0f} us",
        ),
        Row("wasm boundary", "1 KB body in and out", echo_1k, "us", noop, "empty body"),
        Row(
            "wasm boundary",
            "100 KB body in and out",
            echo_100k,
            "us",
            noop,
            "empty body",
            "<= 1000 us",
            f"crossing costs {echo_100k - noop:.0f} us",
        ),
    ]
