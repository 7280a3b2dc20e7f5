"""Scenario 5: two worker threads against one (wasm calls release the GIL)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from trafi_host.capabilities.context import CallContext
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.instance import ModuleInstance

from .fixtures import TESTKIT, built
from .report import Row


def run(work: Path, quick: bool) -> list[Row]:
    folder, manifest = built(TESTKIT)
    calls = 300 if quick else 3000
    runtime = ModuleRuntime(work / "contention-cache", MemoryKv())
    try:
        image = runtime.load_image(manifest, folder)
        record = runtime._to_record(ModuleRequest("GET", "/noop", "t", Principal("k")))
        instances = [
            ModuleInstance(
                image,
                CallContext("testkit", manifest.version, f"t{i}", manifest.permissions, MemoryKv()),
                runtime.linker,
                runtime.ticker,
            )
            for i in range(2)
        ]

        def work_on(instance: ModuleInstance) -> None:
            for _ in range(calls):
                instance.handle(record, 5000)

        work_on(instances[0])  # warm
        started = time.perf_counter()
        work_on(instances[0])
        one = calls / (time.perf_counter() - started)
        threads = [threading.Thread(target=work_on, args=(instance,)) for instance in instances]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        two = 2 * calls / (time.perf_counter() - started)
        for instance in instances:
            instance.close()
    finally:
        runtime.close()
    return [
        Row(
            "contention",
            "calls/s with 2 threads, 2 instances",
            two,
            "calls/s",
            one,
            "1 thread",
            note="2 cores; ideal is 2.00x",
        )
    ]
