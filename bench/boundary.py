"""Scenario 4: the Wasm boundary: an empty export call, a host import, 1 KB and 100 KB bodies,
and the 100 KB body again in world 0.3.0 (bytes carried in a string) against `list<u8>`."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleImage, ModuleRequest, Principal
from trafi_host.runtime.native.calls import native_calls

from .fixtures import testkit_image, worldkit_image
from .report import Row


def median_us(action: Callable[[], object], repeat: int) -> float:
    for _ in range(min(20, repeat)):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def run(work: Path, quick: bool) -> list[Row]:
    rows = _measure(work, quick, None)
    default_path = "C boundary" if native_calls() is not None else "default path (extension not built)"
    # The same calls through wasmtime-py's own conversion: what the C boundary replaced.
    python = {row.measure: row for row in _measure(work, quick, "off")}
    for name in (
        "http handle, no host call (SDK routing)",
        "100 KB body in and out",
        "100 KB body in and out, world 0.3.0 (bytes in a string)",
    ):
        ours = next(row for row in rows if row.measure == name)
        rows.append(
            Row(
                "wasm boundary",
                f"{name}, wasmtime-py path",
                python[name].value,
                "us",
                ours.value,
                default_path,
                note="TRAFI_NATIVE_BOUNDARY=off",
            )
        )
    return rows


def _measure(work: Path, quick: bool, native_boundary: str | None) -> list[Row]:
    repeat = 200 if quick else 3000
    runtime, image = testkit_image(work, "boundary", native_boundary)
    try:
        kv = MemoryKv()
        kv.set("t", "testkit", "k", b"v")
        capabilities = host_capabilities(kv)

        def measure(
            path: str,
            method: str = "GET",
            body: bytes = b"",
            times: int = repeat,
            image: ModuleImage = image,
        ) -> float:
            # A fresh instance per measure: returned bytes stay allocated in a
            # componentize-py guest (the pool retires such instances; here we
            # call the instance directly).
            instance = runtime.instantiate(image, "t", capabilities)
            record = image.world.request(ModuleRequest(method, path, "t", Principal("k"), body=body))
            try:
                if path == "destroy":
                    return median_us(lambda: instance._call(instance.exports.destroy, timeout_ms=5000), times)
                return median_us(lambda: instance.handle(record, 5000), times)
            finally:
                instance.close()

        empty = measure("destroy")
        noop = measure("/noop")
        one_import = measure("/kv/k")
        echo_1k = measure("/echo", "POST", b"x" * 1024)
        echo_100k = measure("/echo", "POST", b"x" * 100 * 1024, times=100)
        # The same echo in a world 0.3.0 module: every byte value, so latin-1 is really exercised.
        newest = worldkit_image(runtime)
        every_byte = bytes(range(256)) * 400
        echo_100k_text = measure("/echo", "POST", every_byte, times=100, image=newest)
        noop_text = measure("/whoami", times=repeat, image=newest)
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
        Row(
            "wasm boundary",
            "100 KB body in and out, world 0.3.0 (bytes in a string)",
            echo_100k_text,
            "us",
            echo_100k,
            "the same body as list<u8> (world 0.1/0.2)",
            "<= 1000 us",
            f"crossing costs {echo_100k_text - noop_text:.0f} us (a small handler: {noop_text:.0f} us)",
        ),
    ]
