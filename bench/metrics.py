"""Scenario: the cost of recording a module metric, as a ratio of the same call without it."""

from __future__ import annotations

import time
from pathlib import Path

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.metrics.store import MetricsStore
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal

from .boundary import median_us
from .fixtures import REPO, built
from .report import Row

RECORDER = REPO / "bench" / "modules" / "metrics_recorder"


def run(work: Path, quick: bool) -> list[Row]:
    repeat = 200 if quick else 3000
    folder, manifest = built(RECORDER)
    store = MetricsStore("bench")
    capabilities = host_capabilities(MemoryKv(), metrics=store)
    runtime = ModuleRuntime(work / "metrics-cache", capabilities)
    try:
        image = runtime.load_image(manifest, folder)

        def measure(path: str) -> float:
            # A fresh instance per measure, called directly (as the boundary scenario does).
            instance = runtime.instantiate(image, "t", capabilities)
            record = image.world.request(ModuleRequest("GET", path, "t", Principal("k")))
            try:
                return median_us(lambda: instance.handle(record, 5000), repeat)
            finally:
                instance.close()

        noop = measure("/noop")
        counter = measure("/counter")
        histogram = measure("/histogram")
        series = store.series("trafi_module_metrics_recorder_requests_total")
        assert series is not None and series.values, "the recorder recorded nothing"
        key = ("t", "counter")
        times = repeat * 50
        started = time.perf_counter()
        for _ in range(times):
            series.add(key, 1.0)
        host_side = (time.perf_counter() - started) / times * 1e6
    finally:
        runtime.close()
    return [
        Row(
            "metrics",
            "handle + 1 counter increment",
            counter,
            "us",
            noop,
            "same call, no metric",
            "<= 1.10x",
            f"recording costs {counter - noop:.0f} us",
        ),
        Row(
            "metrics",
            "handle + 1 histogram observe",
            histogram,
            "us",
            noop,
            "same call, no metric",
            "<= 1.10x",
            f"recording costs {histogram - noop:.0f} us",
        ),
        Row("metrics", "host side of one counter increment (no guest)", host_side, "us"),
    ]
