"""What the runtime counts per module: call latency, failures by kind, traps, deadline hits.

Kept by this process (the `process` label says which, as module metrics do)
and read by `/metrics` at scrape time through `families()`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ModuleCallMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency: dict[str, list[float]] = {}  # module -> bucket counts..., sum, count
        self.failures: dict[tuple[str, str], int] = {}
        self.traps: dict[str, int] = {}
        self.deadline_hits: dict[str, int] = {}

    def observe_call(self, module: str, seconds: float) -> None:
        with self._lock:
            row = self._latency.get(module)
            if row is None:
                row = self._latency[module] = [0.0] * (len(LATENCY_BUCKETS) + 2)
            index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
            if index < len(LATENCY_BUCKETS):
                row[index] += 1
            row[-2] += seconds
            row[-1] += 1

    def failure(self, module: str, kind: str) -> None:
        with self._lock:
            self.failures[(module, kind)] = self.failures.get((module, kind), 0) + 1

    def trap(self, module: str) -> None:
        with self._lock:
            self.traps[module] = self.traps.get(module, 0) + 1

    def deadline_hit(self, module: str) -> None:
        with self._lock:
            self.deadline_hits[module] = self.deadline_hits.get(module, 0) + 1

    def families(self, process: str, instances_live: Mapping[str, int]) -> Iterator[Metric]:
        with self._lock:
            latency = {module: list(row) for module, row in self._latency.items()}
            failures, traps, deadlines = dict(self.failures), dict(self.traps), dict(self.deadline_hits)
        histogram = HistogramMetricFamily(
            "trafi_module_call_duration_seconds",
            "HTTP calls to a module, from the host's side: queueing, instance checkout and the call",
            labels=["module", "process"],
        )
        for module, row in sorted(latency.items()):
            buckets, running = [], 0.0
            for bound, hits in zip(LATENCY_BUCKETS, row, strict=False):
                running += hits
                buckets.append((repr(bound), running))
            buckets.append(("+Inf", row[-1]))
            histogram.add_metric([module, process], buckets, row[-2])
        yield histogram
        errors = CounterMetricFamily(
            "trafi_module_call_errors",
            "Calls the host answered for the module, by kind",
            labels=["module", "kind", "process"],
        )
        for (module, kind), count in sorted(failures.items()):
            errors.add_metric([module, kind, process], count)
        yield errors
        yield _per_module(
            CounterMetricFamily, "trafi_module_traps", "Guest traps (HTTP, events, services)", traps, process
        )
        yield _per_module(
            CounterMetricFamily,
            "trafi_module_deadline_hits",
            "Calls answered 504 at the deadline",
            deadlines,
            process,
        )
        yield _per_module(
            GaugeMetricFamily,
            "trafi_module_instances_live",
            "Live instances of the module",
            instances_live,
            process,
        )


def _per_module(
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    text: str,
    values: Mapping[str, int],
    process: str,
) -> Metric:
    family = kind(name, text, labels=["module", "process"])
    for module, value in sorted(values.items()):
        family.add_metric([module, process], value)
    return family
