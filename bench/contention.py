"""Scenario 5: two worker threads against one (wasm calls release the GIL)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from trafi_host.capabilities.context import CallContext
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.runtime import ModuleRequest, Principal
from trafi_host.runtime.instance import ModuleInstance

from .fixtures import testkit_image
from .report import Row


def run(work: Path, quick: bool) -> list[Row]:
    calls = 300 if quick else 3000
    runtime, image = testkit_image(work, "contention")
    manifest = image.manifest
    with runtime:
        short = runtime._to_record(ModuleRequest("GET", "/noop", "t", Principal("k")))
        # ~5 ms of guest Python per call: the wasm side dominates.
        long = runtime._to_record(
            ModuleRequest("GET", "/compute", "t", Principal("k"), query=(("n", "40000"),))
        )
        instances = [
            ModuleInstance(
                image,
                CallContext("testkit", manifest.version, f"t{i}", manifest.permissions, MemoryKv()),
                runtime.linker,
                runtime.ticker,
            )
            for i in range(2)
        ]

        def rates(record: object, count: int) -> tuple[float, float]:
            def work_on(instance: ModuleInstance) -> None:
                for _ in range(count):
                    instance.handle(record, 5000)  # type: ignore[arg-type]

            work_on(instances[0])  # warm
            started = time.perf_counter()
            work_on(instances[0])
            one = count / (time.perf_counter() - started)
            threads = [threading.Thread(target=work_on, args=(instance,)) for instance in instances]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return 2 * count / (time.perf_counter() - started), one

        short_two, short_one = rates(short, calls)
        long_two, long_one = rates(long, calls // 50 or 5)
        for instance in instances:
            instance.close()
    return [
        Row(
            "contention",
            "short calls (~0.13 ms): calls/s, 2 threads",
            short_two,
            "calls/s",
            short_one,
            "1 thread",
            note="2 cores; ideal is 2.00x",
        ),
        Row(
            "contention",
            "long calls (~5 ms guest work): calls/s, 2 threads",
            long_two,
            "calls/s",
            long_one,
            "1 thread",
            note="2 cores; ideal is 2.00x",
        ),
    ]
