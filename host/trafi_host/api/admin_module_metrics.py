"""`GET /api/admin/modules/<name>/metrics`: what a module's declared metrics hold now (the Metrics tab).

Read from the same source as `/metrics`: this process's `MetricsStore` and, under
`trafi serve --workers N`, each sibling worker's scrape, combined by
`metrics_merge.merge_families`. There every module series keeps its worker's
`process` label; this answer adds the workers up per tenant and label set (what
`sum without (process)` gives in PromQL) and keeps each worker's share beside
the total. A gauge is summed too unless it declares `acrossWorkers`: one each
worker sets to the same shared fact (loyalty's `orders_seen`, read from kv)
declares `max`, so two workers do not show it twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field

from ..auth.caller import Caller
from ..capabilities.metrics.declarations import AcrossWorkers, MetricDeclaration, MetricType
from ..capabilities.metrics.store import HOST_LABELS, exported_name
from ..module_host import ModuleHost
from .admin_modules import admin_module, may_read_modules, module_manifest
from .auth import module_host
from .metrics import sibling_scrapes
from .metrics_merge import merge_families

router = APIRouter(prefix="/api/admin/modules", tags=["dashboard"])


class HistogramBucket(BaseModel):
    le: str = Field(description="The bucket's upper bound as Prometheus writes it; `+Inf` last.")
    count: float = Field(description="Observations in this bucket alone (above the previous bound).")


class SeriesValue(BaseModel):
    tenant: str = Field(description="The tenant whose calls recorded it.")
    labels: dict[str, str] = Field(description="The declared labels' values.")
    value: float | None = Field(
        description="A counter's or gauge's value over the workers: summed, or a gauge's `acrossWorkers`."
    )
    count: float | None = Field(description="A histogram's observations, summed over the workers.")
    sum: float | None = Field(description="The sum of a histogram's observations.")
    buckets: list[HistogramBucket] = Field(description="A histogram's distribution; empty otherwise.")
    byProcess: dict[str, float] = Field(
        description="Each worker's part by its `process` label: the value, or a histogram's count."
    )


class MetricValues(BaseModel):
    name: str
    type: MetricType
    help: str
    unit: str
    labels: list[str]
    exportedName: str = Field(description="Its name on `/metrics` (without a counter's `_total`).")
    acrossWorkers: AcrossWorkers = Field(description="How the workers' values make `value`: sum, max or min.")
    series: list[SeriesValue] = Field(description="One per tenant and label set recorded; none yet: empty.")


class ModuleMetrics(BaseModel):
    module: str
    workers: int = Field(
        description="Host processes whose values are combined: this one and each sibling worker that "
        "answered."
    )
    metrics: list[MetricValues]


@dataclass
class _Total:
    tenant: str
    labels: dict[str, str]
    value: float = 0.0
    count: float = 0.0
    sum: float = 0.0
    cumulative: dict[str, float] = field(default_factory=dict)
    by_process: dict[str, float] = field(default_factory=dict)


def metric_values(
    module: str,
    declarations: Sequence[MetricDeclaration],
    families: Iterable[Metric],
    workers: int,
    not_exported: frozenset[str] = frozenset(),
) -> ModuleMetrics:
    """Each declaration with its series from `families` (merged: one per worker), added over workers.

    `not_exported`: declared names whose exported name belongs to another module (the
    store refused them), so whatever `families` has under it is not this module's.
    """
    by_name = {family.name: family for family in families}
    metrics = []
    for declaration in declarations:
        exported = exported_name(module, declaration)
        # prometheus-client names a counter family without `_total` (its samples have it).
        family_name = exported.removesuffix("_total") if declaration.type == "counter" else exported
        family = None if declaration.name in not_exported else by_name.get(family_name)
        matches = family is not None and family.type == declaration.type
        totals = (
            _totals(family, declaration.combined_across_workers) if family is not None and matches else []
        )
        metrics.append(
            MetricValues(
                name=declaration.name,
                type=declaration.type,
                help=declaration.help,
                unit=declaration.unit,
                labels=list(declaration.labels),
                exportedName=family_name,
                acrossWorkers=declaration.combined_across_workers,
                series=[_series(declaration.type, total) for total in totals],
            )
        )
    return ModuleMetrics(module=module, workers=workers, metrics=metrics)


def _totals(family: Metric, across_workers: AcrossWorkers) -> list[_Total]:
    value_sample = family.name + ("_total" if family.type == "counter" else "")
    totals: dict[tuple[str, tuple[tuple[str, str], ...]], _Total] = {}
    for sample in family.samples:
        labels = {k: v for k, v in sample.labels.items() if k not in (*HOST_LABELS, "le")}
        tenant = sample.labels.get("tenant", "")
        process = sample.labels.get("process", "")
        key = (tenant, tuple(sorted(labels.items())))
        total = totals.get(key)
        if total is None:
            total = totals[key] = _Total(tenant, labels)
        if sample.name == value_sample and family.type != "histogram":
            total.by_process[process] = total.by_process.get(process, 0.0) + sample.value
        elif sample.name == family.name + "_count":
            total.count += sample.value
            total.by_process[process] = total.by_process.get(process, 0.0) + sample.value
        elif sample.name == family.name + "_sum":
            total.sum += sample.value
        elif sample.name == family.name + "_bucket":
            bound = sample.labels.get("le", "+Inf")
            total.cumulative[bound] = total.cumulative.get(bound, 0.0) + sample.value
    kept = [totals[key] for key in sorted(totals) if totals[key].by_process]
    if family.type != "histogram":
        combine = _COMBINE[across_workers]
        for total in kept:
            total.value = combine(total.by_process.values())
    return kept


_COMBINE: dict[AcrossWorkers, Callable[[Iterable[float]], float]] = {"sum": sum, "max": max, "min": min}


def _series(kind: MetricType, total: _Total) -> SeriesValue:
    histogram = kind == "histogram"
    return SeriesValue(
        tenant=total.tenant,
        labels=total.labels,
        value=None if histogram else total.value,
        count=total.count if histogram else None,
        sum=total.sum if histogram else None,
        buckets=_buckets(total.cumulative) if histogram else [],
        byProcess=dict(sorted(total.by_process.items())),
    )


def _buckets(cumulative: dict[str, float]) -> list[HistogramBucket]:
    """Prometheus' cumulative `le` counts as the count of each bucket alone."""
    buckets, below = [], 0.0
    for bound in sorted(cumulative, key=_bound_value):
        buckets.append(HistogramBucket(le=bound, count=max(cumulative[bound] - below, 0.0)))
        below = max(below, cumulative[bound])
    return buckets


def _bound_value(bound: str) -> float:
    try:
        return float(bound)
    except ValueError:
        return math.inf


def _read(host: ModuleHost, name: str, sibling_texts: list[str]) -> ModuleMetrics:
    admin_module(host, name)  # a 404 for a module this host does not know
    manifest = module_manifest(host, name)
    declarations = list(manifest.metrics) if manifest is not None else []
    not_exported = frozenset(
        declaration.name
        for declaration in declarations
        if (owner := host.metrics.series(exported_name(name, declaration))) is not None
        and owner.module != name
    )
    families = merge_families(
        [host.metrics.collect(), *(text_string_to_metric_families(text) for text in sibling_texts)]
    )
    return metric_values(name, declarations, families, 1 + len(sibling_texts), not_exported)


@router.get("/{name}/metrics", response_model=ModuleMetrics, responses={401: {}, 403: {}, 404: {}})
async def module_metrics(name: str, request: Request, _: Caller = Depends(may_read_modules)) -> ModuleMetrics:
    """The current value of each metric the module declares, per tenant and label set, all workers added."""
    host = module_host(request)
    siblings = await sibling_scrapes(request.app)
    return await run_in_threadpool(_read, host, name, siblings)
