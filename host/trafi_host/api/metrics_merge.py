"""Several processes' Prometheus text as one scrape: the totals of a host run as several workers.

Series that carry a `process` label (every per-module series, every module
metric) are distinct per worker and pass through unchanged. The host-wide
series have no such label, so the same series comes from every worker: a
counter, a histogram part and a summed gauge (`trafi_instances_live`) add up;
a gauge that says what a module is (`trafi_module_up`, its load time) takes the
largest value, since each worker reports the same module. `_created`
timestamps take the earliest.

`merge_families` is the merge itself, on prometheus-client families (parsed
from a worker's text, or straight from this process's collectors): `/metrics`
renders its result, the dashboard's module metrics (`admin_module_metrics.py`)
read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

# Gauges whose workers each report the same fact: the merge keeps the largest value.
SAME_FACT_GAUGES = frozenset({"trafi_module_up", "trafi_module_load_milliseconds"})


def merge_metrics(texts: Iterable[str]) -> bytes:
    """One Prometheus text from several: each family once, colliding samples combined."""
    merged = merge_families(text_string_to_metric_families(text) for text in texts)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(merged))  # type: ignore[arg-type]
    return generate_latest(registry)


def merge_families(sources: Iterable[Iterable[Metric]]) -> list[Metric]:
    """The families of several processes as one set: each family once, colliding samples combined."""
    families: dict[str, Metric] = {}
    samples: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], Sample]] = {}
    for source in sources:
        for family in source:
            merged = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            by_key = samples.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                seen = by_key.get(key)
                value = (
                    sample.value if seen is None else _combine(merged, sample.name, seen.value, sample.value)
                )
                by_key[key] = sample._replace(value=value)
    for name, family in families.items():
        family.samples = list(samples[name].values())
    return list(families.values())


def _combine(family: Metric, sample_name: str, first: float, second: float) -> float:
    if sample_name.endswith("_created"):
        return min(first, second)
    if family.type == "gauge" and family.name in SAME_FACT_GAUGES:
        return max(first, second)
    return first + second


class _Fixed:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)
