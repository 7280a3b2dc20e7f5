"""Issue-5 rows: from `enable` to the first served request, and from `disable` to routes gone."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from trafi_host.change_watch import POLL_SECONDS
from trafi_host.install import set_enabled
from trafi_host.module_host import ModuleHost
from trafi_host.runtime import ModuleRequest, Principal

from .fixtures import HELLO, built, make_project
from .report import Row


def run(work: Path, quick: bool) -> list[Row]:
    built(HELLO)
    bench = make_project(work / "lifecycle", [HELLO])
    request = ModuleRequest("GET", "/v1/hits", "bench", Principal("k"))
    enable_ms: list[float] = []
    disable_ms: list[float] = []
    with ModuleHost(bench.project) as host:
        host.load_all()
        for _ in range(3 if quick else 10):
            started = time.perf_counter()
            set_enabled(bench.project, "hello", False, states=host.module_states)
            host.reconcile()
            assert "hello" not in host.images
            disable_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            set_enabled(bench.project, "hello", True, states=host.module_states)
            host.reconcile()
            response = asyncio.run(host.runtime.call_http(host.images["hello"], request))
            assert response.status == 200
            enable_ms.append((time.perf_counter() - started) * 1000)
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            asyncio.run(host.runtime.call_http(host.images["hello"], request))
            warm.append((time.perf_counter() - started) * 1000)
    note = (
        f"plus up to {POLL_SECONDS * 1000:.0f} ms until a running host notices (Redis announcement: at once)"
    )
    return [
        Row(
            "lifecycle",
            "enable -> first request served",
            statistics.median(enable_ms),
            "ms",
            statistics.median(warm),
            "a warm request",
            note=note,
        ),
        Row("lifecycle", "disable -> routes gone", statistics.median(disable_ms), "ms", note=note),
    ]
