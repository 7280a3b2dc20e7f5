"""The in-process workload bench/instructions.py counts under callgrind: export calls on testkit.

Run as `python -m bench.instructions_probe <work> <marks extension> <calls> <body calls>`
under valgrind; prints each window's wall time as JSON. Every window is one `start()` ..
`stop(name)` pair of the marks extension, on a fresh instance.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleRequest, Principal

from .fixtures import testkit_image, worldkit_image

BODY = b"x" * 100 * 1024
# World 0.3.0 carries bytes in a string: every byte value, so the latin-1 conversion is exercised.
EVERY_BYTE = bytes(range(256)) * 400


def _marks(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_callgrind_marks", path)
    assert spec is not None and spec.loader is not None
    marks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marks)
    return marks


def main(work: Path, marks_path: Path, calls: int, body_calls: int) -> dict[str, dict[str, float]]:
    marks = _marks(marks_path)
    runtime, image = testkit_image(work, "instructions")
    kv = MemoryKv()
    kv.set("t", "testkit", "k", b"v")
    capabilities = host_capabilities(kv)
    windows: dict[str, dict[str, float]] = {}

    def window(name: str, count: int, action: Any) -> None:
        started = time.perf_counter()
        marks.start()
        for _ in range(count):
            action()
        marks.stop(name)
        windows[name] = {"seconds": time.perf_counter() - started, "count": count}

    try:
        # Warm first (plans, type look-ups), then stop the epoch ticker: under valgrind a call
        # lasts fifty times longer and would get a tick (a thread wake-up) of its own.
        instance = runtime.instantiate(image, "t", capabilities)
        instance.handle(image.world.request(ModuleRequest("GET", "/noop", "t", Principal("k"))), 60_000)
        instance.close()
        runtime.ticker.stop()
        window("idle", 1, lambda: time.sleep(2.0))
        newest = worldkit_image(runtime)
        for name, module, method, path, body, count in [
            ("module call", image, "GET", "/noop", b"", calls),
            ("one import", image, "GET", "/kv/k", b"", calls),
            ("100 KB body", image, "POST", "/echo", BODY, body_calls),
            ("module call 0.3.0", newest, "GET", "/whoami", b"", calls),
            ("100 KB body 0.3.0", newest, "POST", "/echo", EVERY_BYTE, body_calls),
        ]:
            instance = runtime.instantiate(module, "t", capabilities)
            record = module.world.request(ModuleRequest(method, path, "t", Principal("k"), body=body))
            for _ in range(3):  # warm: first-call type look-ups and plans
                instance.handle(record, 60_000)
            window(name, count, lambda i=instance, r=record: i.handle(r, 60_000))
            instance.close()
        # The same call as the host makes it for an HTTP request: bulkhead, guarded call and its
        # watchdog entry, the hop to a wasm worker thread and back to the event loop, the pool
        # checkout, the response checks. Less `module call`, what the host adds around the guest.
        loop = asyncio.new_event_loop()
        noop = ModuleRequest("GET", "/noop", "t", Principal("k"))
        try:
            for _ in range(3):
                loop.run_until_complete(runtime.call_http(image, noop))
            window("host call path", calls, lambda: loop.run_until_complete(runtime.call_http(image, noop)))
        finally:
            loop.close()
        window("idle-after", 1, lambda: time.sleep(2.0))
    finally:
        runtime.close()
    return windows


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(result))
