"""Calls from several threads at once convert values correctly (wasmtime-py globals fixed)."""

from __future__ import annotations

import threading
from pathlib import Path

from trafi_host.capabilities.context import CallContext
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.manifest import load_manifest
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.instance import ModuleInstance


def hammer(runtime: ModuleRuntime, hello_dir: Path, threads: int = 4, calls: int = 400) -> list[str]:
    manifest = load_manifest(hello_dir)
    image = runtime.load_image(manifest, hello_dir)
    # kv.get of a missing key returns `not-found`: a `result` lowered by case test.
    record = runtime._to_record(ModuleRequest("GET", "/v1/hits/current", "t", Principal("k")))
    failures: list[str] = []

    def work(index: int) -> None:
        context = CallContext("hello", manifest.version, f"t{index}", manifest.permissions, MemoryKv())
        instance = ModuleInstance(image, context, runtime.linker, runtime.ticker)
        try:
            for _ in range(calls):
                try:
                    response = instance.handle(record, 5000)
                except Exception as error:  # noqa: BLE001 - collected for the assertion
                    failures.append(f"{type(error).__name__}: {error}"[:200])
                    instance.close()
                    instance = ModuleInstance(image, context, runtime.linker, runtime.ticker)
                    continue
                if response.status != 200:
                    failures.append(f"status {response.status}: {bytes(response.body)[:200]!r}")
        finally:
            instance.close()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures


def test_concurrent_calls_convert_results_correctly(shared_artifact_cache: Path, hello_dir: Path) -> None:
    with ModuleRuntime(shared_artifact_cache, MemoryKv()) as runtime:
        assert hammer(runtime, hello_dir) == []
