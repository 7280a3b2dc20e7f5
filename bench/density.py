"""Scenario 3: resident memory per live instance, and what the LRU bound does past it."""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import HostLimits, ModuleRequest, ModuleRuntime, Principal

from .fixtures import HELLO, built
from .report import Row


def memory_mb() -> tuple[float, float]:
    """(RSS, PSS) of this process in MB, from /proc/self/smaps_rollup.

    RSS counts every page an instance maps, the copy-on-write heap image it shares with every
    other instance of the module included; PSS divides each shared page between its sharers,
    so PSS per instance is what one more instance costs the machine.
    """
    found: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            found[name] = int(rest.split()[0]) / 1024
    return found["Rss"], found["Pss"]


def rss_mb() -> float:
    return memory_mb()[0]


def _call(runtime: ModuleRuntime, image: object, tenant: str) -> float:
    request = ModuleRequest("GET", "/v1/hits", tenant, Principal("k"))
    started = time.perf_counter()
    response = runtime.call_http_blocking(image, request, time.monotonic() + 10)  # type: ignore[arg-type]
    assert response.status == 200, response.body
    return (time.perf_counter() - started) * 1000


def run(work: Path, quick: bool) -> list[Row]:
    folder, manifest = built(HELLO)
    rows: list[Row] = []
    levels = [10, 50] if quick else [10, 100, 1000]
    runtime = ModuleRuntime(
        work / "density-cache", host_capabilities(MemoryKv()), limits=HostLimits(max_live_instances=5000)
    )
    try:
        image = runtime.load_image(manifest, folder)
        _call(runtime, image, "warm-up")
        gc.collect()
        rss_before, pss_before = memory_mb()
        created = 0
        for level in levels:
            while created < level:
                _call(runtime, image, f"tenant-{created}")
                created += 1
            gc.collect()
            rss, pss = memory_mb()
            rows.append(
                Row(
                    "density",
                    f"PSS per live instance, {level} tenants",
                    (pss - pss_before) / level,
                    "MB",
                    target="<= 1.5 MB",
                    note=f"process PSS {pss:,.0f} MB, baseline {pss_before:,.0f} MB",
                )
            )
            rows.append(
                Row(
                    "density",
                    f"RSS per live instance, {level} tenants",
                    (rss - rss_before) / level,
                    "MB",
                    note=f"process RSS {rss:,.0f} MB, baseline {rss_before:,.0f} MB; "
                    "counts the shared heap image once per instance",
                )
            )
    finally:
        runtime.close()

    bound = 20 if quick else 100
    tenants = 60 if quick else 1000
    runtime = ModuleRuntime(
        work / "density-cache", host_capabilities(MemoryKv()), limits=HostLimits(max_live_instances=bound)
    )
    try:
        image = runtime.load_image(manifest, folder)
        for index in range(bound):
            _call(runtime, image, f"fit-{index}")
        fits = [_call(runtime, image, f"fit-{index % bound}") for index in range(bound * 3)]
        gc.collect()
        rss_fit = rss_mb()
        over = [_call(runtime, image, f"over-{index % tenants}") for index in range(tenants * 2)]
        gc.collect()
        rows.append(
            Row(
                "density",
                f"median call, {tenants} tenants over an LRU of {bound}",
                statistics.median(over),
                "ms",
                statistics.median(fits),
                f"{bound} tenants within the bound",
                note=(
                    f"evictions {runtime.pool.stats.evicted}; live {runtime.pool.live}; "
                    f"RSS {rss_mb():,.0f} MB vs {rss_fit:,.0f} MB within the bound"
                ),
            )
        )
    finally:
        runtime.close()
    return rows
