"""Where module metrics live in one host process, and how they leave it.

`MetricsStore` owns every series the modules of this process record: one
`MetricSeries` per declared metric, keyed by its exported name
(`trafi_module_<module>_<name>`), each with a `tenant` and a `process` label the
host adds. It is read by `collect()` (prometheus-client families, for
`/metrics`) and, when an OTLP endpoint is configured, mirrored to the
OpenTelemetry SDK as each value is recorded.

Recording is a dict lookup and an addition under the series' own lock. Each
tenant has at most `maxSeries` label-value sets per metric; a new set past it is
recorded in one overflow series (every label `__overflow__`) and counted in
`trafi_module_metric_overflows_total`.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from .declarations import MetricDeclaration, label_problem, series_prefix

OVERFLOW = "__overflow__"
# The host's own `trafi_module_*` families (without `_total`): a module series of the
# same name would make the scrape ambiguous, so such a metric is not exported.
HOST_FAMILIES = frozenset(
    {
        "trafi_module_up",
        "trafi_module_load_milliseconds",
        "trafi_module_calls",
        "trafi_module_call_failures",
        "trafi_module_call_duration_seconds",
        "trafi_module_call_errors",
        "trafi_module_traps",
        "trafi_module_deadline_hits",
        "trafi_module_quarantines",
        "trafi_module_instances_live",
        "trafi_module_event_deliveries",
        "trafi_module_metric_overflows",
        "trafi_module_instance_memory_limit_bytes",
        "trafi_module_log_lines_dropped",
        "trafi_module_rate_limited",
    }
)
HOST_LABELS = ("tenant", "process")
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9_]")


def this_process() -> str:
    """The `process` label of this host process: `<hostname>:<pid>`, as module load reports name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class MetricMirror(Protocol):
    """Somewhere else every recorded value goes too (the OTLP export)."""

    def record(
        self, series: MetricSeries, attributes: Mapping[str, str], value: float, result: float
    ) -> None: ...


class RecordingRefused(ValueError):
    """The module asked for something its declaration does not allow; the guest gets `invalid-argument`."""


@dataclass
class _Histogram:
    buckets: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class MetricSeries:
    """One declared metric of one module: its values by (tenant, *label values)."""

    module: str
    declaration: MetricDeclaration
    exported_name: str
    store: MetricsStore | None = None
    values: dict[tuple[str, ...], float] = field(default_factory=dict)
    histograms: dict[tuple[str, ...], _Histogram] = field(default_factory=dict)
    series_per_tenant: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.label_names = tuple(self.declaration.labels)
        self.bounds = self.declaration.bucket_bounds
        self.kind = self.declaration.type

    def key(self, tenant: str, labels: Sequence[tuple[str, str]]) -> tuple[str, ...]:
        """(tenant, *values in declared order), or RecordingRefused for a wrong label set."""
        if len(labels) != len(self.label_names):
            raise RecordingRefused(self._label_message(labels))
        given = dict(labels)
        try:
            return (tenant, *(given[name] for name in self.label_names))
        except KeyError:
            raise RecordingRefused(self._label_message(labels)) from None

    def _label_message(self, labels: Sequence[tuple[str, str]]) -> str:
        wanted = ", ".join(self.label_names) or "no labels"
        given = ", ".join(name for name, _ in labels) or "no labels"
        return f"metric {self.declaration.name!r} takes {wanted}; given {given}"

    def _admitted(self, key: tuple[str, ...], known: bool) -> tuple[str, ...]:
        """`key`, or the tenant's overflow series once it has `maxSeries` (called under the lock)."""
        if known or not self.label_names:
            return key
        tenant = key[0]
        count = self.series_per_tenant.get(tenant, 0)
        if count < self.declaration.max_series:
            self.series_per_tenant[tenant] = count + 1
            return key
        if self.store is not None:
            self.store.count_overflow(self.module, self.declaration.name, tenant)
        return (tenant, *([OVERFLOW] * len(self.label_names)))

    def add(self, key: tuple[str, ...], value: float) -> None:
        if self.kind == "histogram":
            raise RecordingRefused(f"metric {self.declaration.name!r} is a histogram: use observe")
        if self.kind == "counter" and value < 0:
            raise RecordingRefused(f"counter {self.declaration.name!r} only goes up; given {value}")
        with self.lock:
            key = self._admitted(key, key in self.values)
            result = self.values[key] = self.values.get(key, 0.0) + value
        self._mirror(key, value, result)

    def set(self, key: tuple[str, ...], value: float) -> None:
        if self.kind != "gauge":
            raise RecordingRefused(f"metric {self.declaration.name!r} is a {self.kind}: only gauges are set")
        with self.lock:
            key = self._admitted(key, key in self.values)
            self.values[key] = value
        self._mirror(key, value, value)

    def observe(self, key: tuple[str, ...], value: float) -> None:
        if self.kind != "histogram":
            raise RecordingRefused(
                f"metric {self.declaration.name!r} is a {self.kind}: only histograms observe"
            )
        with self.lock:
            key = self._admitted(key, key in self.histograms)
            histogram = self.histograms.get(key)
            if histogram is None:
                histogram = self.histograms[key] = _Histogram([0] * len(self.bounds))
            index = bisect.bisect_left(self.bounds, value)
            if index < len(self.bounds):
                histogram.buckets[index] += 1
            histogram.total += value
            histogram.count += 1
        self._mirror(key, value, value)

    def _mirror(self, key: tuple[str, ...], value: float, result: float) -> None:
        mirror = self.store.mirror if self.store is not None else None
        if mirror is not None:
            mirror.record(self, self.attributes(key), value, result)

    def attributes(self, key: tuple[str, ...]) -> dict[str, str]:
        process = self.store.process if self.store is not None else ""
        return {"tenant": key[0], "process": process, **dict(zip(self.label_names, key[1:], strict=True))}

    def family(self, process: str) -> Metric:
        name, help_text = self.exported_name, self.declaration.help
        labels = [*HOST_LABELS, *self.label_names]
        with self.lock:
            values = dict(self.values)
            histograms = {k: (list(h.buckets), h.total, h.count) for k, h in self.histograms.items()}
        family: Metric
        if self.kind == "counter":
            family = CounterMetricFamily(name, help_text, labels=labels)
        elif self.kind == "gauge":
            family = GaugeMetricFamily(name, help_text, labels=labels)
        else:
            family = HistogramMetricFamily(name, help_text, labels=labels)
            for key, (buckets, total, count) in sorted(histograms.items()):
                cumulative, running = [], 0
                for bound, hits in zip(self.bounds, buckets, strict=True):
                    running += hits
                    cumulative.append((_bound(bound), running))
                cumulative.append(("+Inf", count))
                family.add_metric([key[0], process, *key[1:]], cumulative, total)
            return family
        for key, value in sorted(values.items()):
            family.add_metric([key[0], process, *key[1:]], value)
        return family


def _bound(value: float) -> str:
    return repr(float(value))


def exported_name(module: str, declaration: MetricDeclaration) -> str:
    name = _INVALID_NAME_CHARACTERS.sub("_", declaration.name)
    return series_prefix(module) + name


def exportable(declaration: MetricDeclaration) -> bool:
    """False for a declaration whose labels would clash with the host's (validation refuses it)."""
    return all(label_problem(label) is None for label in declaration.labels)


class MetricsStore:
    """Every module metric this process recorded, and the overflow counts."""

    def __init__(self, process: str | None = None, mirror: MetricMirror | None = None) -> None:
        self.process = process or this_process()
        self.mirror = mirror
        self._series: dict[str, MetricSeries] = {}
        self._overflows: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def declare(
        self, module: str, declarations: Sequence[MetricDeclaration]
    ) -> dict[str, MetricSeries | str]:
        """The series of `module`'s declarations by declared name; kept while the declaration stays.

        A changed declaration (a new module version) starts its series again. A
        declaration that cannot be exported maps to why not (recording it is refused):
        a reserved label (validation refuses it unless overridden), or an exported
        name the host or another module already has.
        """
        table: dict[str, MetricSeries | str] = {}
        with self._lock:
            for declaration in declarations:
                if not exportable(declaration):
                    table[declaration.name] = "not exported: it declares a label the host sets"
                    continue
                name = exported_name(module, declaration)
                current = self._series.get(name)
                if name.removesuffix("_total") in HOST_FAMILIES:
                    table[declaration.name] = f"not exported: {name} is one of the host's own series"
                    continue
                if current is not None and current.module != module:
                    table[declaration.name] = f"not exported: module {current.module} exports {name}"
                    continue
                if current is None or current.declaration != declaration:
                    current = self._series[name] = MetricSeries(module, declaration, name, self)
                table[declaration.name] = current
        return table

    def forget(self, module: str) -> None:
        """Drop a module's series (it was removed)."""
        with self._lock:
            for name in [n for n, s in self._series.items() if s.module == module]:
                del self._series[name]

    def count_overflow(self, module: str, metric: str, tenant: str) -> None:
        with self._lock:
            key = (module, metric, tenant)
            self._overflows[key] = self._overflows.get(key, 0) + 1

    def series(self, name: str) -> MetricSeries | None:
        return self._series.get(name)

    def collect(self) -> Iterator[Metric]:
        """prometheus-client families: the registry of `/metrics` calls this at scrape time."""
        with self._lock:
            series = sorted(self._series.values(), key=lambda s: s.exported_name)
            overflows = dict(self._overflows)
        for one in series:
            yield one.family(self.process)
        family = CounterMetricFamily(
            "trafi_module_metric_overflows",
            "Recordings sent to a metric's overflow series: the tenant had maxSeries label sets already",
            labels=["module", "metric", "tenant", "process"],
        )
        for (module, metric, tenant), count in sorted(overflows.items()):
            family.add_metric([module, metric, tenant, self.process], count)
        yield family


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


__all__ = [
    "OVERFLOW",
    "MetricMirror",
    "MetricSeries",
    "MetricsStore",
    "RecordingRefused",
    "exported_name",
    "finite",
    "this_process",
]
