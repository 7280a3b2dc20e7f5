"""Issue-12 rows: what the hardening checks cost one module call, against the same call without them.

Each check is switched off by replacing it with a no-op for the baseline (never
in the host itself), and the two variants are measured in alternating batches
in the same run, so a busy machine slows both alike.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from unittest.mock import patch

from trafi_host.capabilities.fs.host import FsCapability
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.log.budget import LogBudget
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleRequest, ModuleResponse, ModuleRuntime, Principal
from trafi_host.runtime import module_runtime as runtime_module
from trafi_host.runtime.call_timing import CallTiming
from trafi_host.runtime.response_policy import CheckedHeaders

from .fixtures import REPO, TESTKIT, built
from .report import Row

INTRUDER = REPO / "tests" / "fixtures" / "modules" / "intruder"
BATCH = 10


class _AdmitAll:
    """The bulkhead switched off: every call gets a slot at once."""

    def try_enter(self, module: str, tenant: str = "") -> bool:
        return True

    def enter_or_queue(self, module: str, tenant: str, start: Callable[[], None]) -> None:
        return None  # a slot, taken now

    def withdraw(self, module: str, waiter: object) -> bool:
        return False

    def leave(self, module: str, tenant: str = "") -> None:
        return None


class _NoLogBudget(LogBudget):
    def take(self, module: str, tenant: str, size: int) -> tuple[bool, bool]:
        return True, False


def _alternating(
    call: Callable[[], Any], check_off: Callable[[], AbstractContextManager[Any]], times: int
) -> tuple[float, float]:
    """Median ms of `call` with the check, and with it off, in alternating batches."""
    on: list[float] = []
    off: list[float] = []
    for batch in range(2 * max(1, times // BATCH)):
        samples = off if batch % 2 else on
        with check_off() if batch % 2 else nullcontext():
            for _ in range(BATCH):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(on), statistics.median(off)


def _ok(response: ModuleResponse) -> None:
    assert response.status < 400, (response.status, response.body[:200])


def _request(route: str, method: str = "GET", body: bytes = b"", **query: str) -> ModuleRequest:
    return ModuleRequest(method, route, "bench", Principal("k"), body=body, query=tuple(query.items()))


def run(work: Path, quick: bool) -> list[Row]:
    times = 40 if quick else 400
    rows: list[Row] = []
    testkit_folder, testkit_manifest = built(TESTKIT)
    intruder_folder, intruder_manifest = built(INTRUDER)
    runtime = ModuleRuntime(work / "hardening-cache", host_capabilities(MemoryKv()))
    loop = asyncio.new_event_loop()
    try:
        testkit = runtime.load_image(testkit_manifest, testkit_folder)
        intruder = runtime.load_image(intruder_manifest, intruder_folder, data_root=work / "hardening-data")
        noop = _request("/noop")

        def http_call() -> None:
            _ok(loop.run_until_complete(runtime.call_http(testkit, noop)))

        http_call()  # an instance is ready

        on, off = _alternating(http_call, lambda: patch.object(runtime, "bulkhead", _AdmitAll()), times)
        rows.append(_row("bulkhead enter + leave (module and tenant shares)", on, off, "bulkhead off"))

        def plain_hop() -> None:
            async def hop() -> ModuleResponse:
                deadline = time.monotonic() + testkit.timeout_ms / 1000
                timing = CallTiming.start(testkit.timeout_ms / 1000)
                work_item = runtime.threads.submit(
                    lambda: runtime.call_http_blocking(testkit, noop, deadline, timing)
                )
                answer: ModuleResponse = await asyncio.wrap_future(work_item)
                return answer

            _ok(loop.run_until_complete(hop()))

        guarded = _median_pair(
            http_call, plain_hop, times, lambda: patch.object(runtime, "bulkhead", _AdmitAll())
        )
        rows.append(
            _row(
                "abandonable call (watchdog, leases; bulkhead off in both)",
                guarded[0],
                guarded[1],
                "the same worker hop unguarded",
                note="what bounds a worker to deadline + 0.5 s",
            )
        )

        log_capability: Any = next(c for c in runtime.capabilities if c.name == "log")
        flood = _request("/flood", lines="20")
        on, off = _alternating(
            lambda: _blocking(runtime, testkit, flood),
            lambda: patch.object(log_capability, "budget", _NoLogBudget()),
            times,
        )
        rows.append(
            _row("log byte budget, 20 lines in one call", on, off, "no budget", note="testkit /flood")
        )

        headers = [[f"x-bench-{index}", "value"] for index in range(10)] + [["set-cookie", "a=b; Path=/"]]
        respond = _request("/respond", "POST", json.dumps({"status": 200, "headers": headers}).encode())
        on, off = _alternating(
            lambda: _blocking(runtime, testkit, respond), lambda: _no_header_policy(), times
        )
        rows.append(
            _row(
                "response status + header policy, 11 headers", on, off, "policy off", note="testkit /respond"
            )
        )

        write = _request("/write", "POST", b"bench line\n", path="exports/bench.txt")
        _blocking(runtime, intruder, write)
        on, off = _alternating(
            lambda: _blocking(runtime, intruder, write),
            lambda: patch.object(FsCapability, "after_call", lambda self, context: None),
            times,
        )
        rows.append(
            _row(
                "fs write folder check (links, quota) after a call that writes",
                on,
                off,
                "check off",
                note="intruder /write: one small file",
            )
        )
    finally:
        loop.close()
        runtime.close()
    return rows


def _blocking(runtime: ModuleRuntime, image: Any, request: ModuleRequest) -> None:
    _ok(runtime.call_http_blocking(image, request, time.monotonic() + image.timeout_ms / 1000))


@contextmanager
def _no_header_policy() -> Iterator[None]:
    with (
        patch.object(runtime_module, "checked_status", lambda status: status),
        patch.object(
            runtime_module,
            "checked_response_headers",
            lambda headers, request_headers: CheckedHeaders(tuple(headers), (), None),
        ),
    ):
        yield


def _median_pair(
    first: Callable[[], None],
    second: Callable[[], None],
    times: int,
    both: Callable[[], AbstractContextManager[Any]],
) -> tuple[float, float]:
    """Median ms of two different calls, in alternating batches, under the same switch."""
    samples: tuple[list[float], list[float]] = ([], [])
    with both():
        for batch in range(2 * max(1, times // BATCH)):
            call = second if batch % 2 else first
            for _ in range(BATCH):
                started = time.perf_counter()
                call()
                samples[batch % 2].append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _row(measure: str, on: float, off: float, baseline_label: str, note: str = "") -> Row:
    return Row(
        "security",
        f"{measure}: one module call",
        on,
        "ms",
        off,
        baseline_label,
        note="; ".join(filter(None, [f"{(on - off) * 1000:+.0f} us per call", note])),
    )
