"""`GET /metrics`: Prometheus text, read from the host's live state at scrape time.

Unauthenticated like `/health` (scraped from inside the deployment); it carries
counts, module names and tenant ids (the `tenant` label of module metrics),
never tenant data. Module metrics come from the host's `MetricsStore`
(docs/metrics.md). Under `trafi serve --workers N` the worker that answers adds
its siblings' metrics to its own (`sibling_metrics.py`, `metrics_merge.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..capabilities.log.host import LogCapability
from ..module_host import ModuleHost
from ..rate_limits.limiter import ModuleRateLimiter
from .auth import module_host
from .metrics_merge import merge_metrics
from .sibling_metrics import sibling_texts
from .worker_role import WorkerRole

router = APIRouter()


class HostCollector:
    def __init__(self, host: ModuleHost, limiter: ModuleRateLimiter | None = None) -> None:
        self.host = host
        self.limiter = limiter

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "trafi_module_up", "1 for each module with its status", labels=["module", "version", "status"]
        )
        load = GaugeMetricFamily(
            "trafi_module_load_milliseconds",
            "Artifact load, instantiate and init at the last start",
            labels=["module"],
        )
        for state in list(self.host.states.values()):
            up.add_metric([state.name, state.version, state.status], 1)
            if state.load_ms is not None:
                load.add_metric([state.name], state.load_ms)
        yield up
        yield load
        stats = self.host.runtime.stats
        yield CounterMetricFamily("trafi_module_calls", "HTTP calls handed to modules", value=stats.calls)
        failures = CounterMetricFamily(
            "trafi_module_call_failures", "Calls the host answered for", labels=["kind"]
        )
        for kind, count in sorted(stats.by_failure.items()):
            failures.add_metric([kind], count)
        yield failures
        yield GaugeMetricFamily(
            "trafi_instances_live", "Live module instances", value=self.host.runtime.pool.live
        )
        events = self.host.dispatcher.stats
        deliveries = CounterMetricFamily(
            "trafi_event_deliveries", "Event deliveries by this process", labels=["mode", "outcome"]
        )
        for mode, outcome, count in (
            ("sync", "done", events.sync_done),
            ("sync", "failed", events.sync_failed),
            ("async", "queued", events.async_queued),
            ("async", "done", events.async_done),
            ("async", "retried", events.async_retried),
            ("async", "dead", events.dead_lettered),
        ):
            deliveries.add_metric([mode, outcome], count)
        yield deliveries
        if self.limiter is not None:
            yield CounterMetricFamily(
                "trafi_rate_limit_errors",
                "Requests let through unlimited because the rate-limit storage (Redis) failed",
                value=self.limiter.errors,
            )
        yield from self.per_module()

    def per_module(self) -> Iterator[Metric]:
        """The host's series per module, with the `process` label module metrics have."""
        process = self.host.metrics.process
        runtime = self.host.runtime
        yield from runtime.module_stats.families(process, runtime.pool.live_by_module())
        quarantines = CounterMetricFamily(
            "trafi_module_quarantines",
            "Times this process quarantined the module",
            labels=["module", "process"],
        )
        for module, count in sorted(self.host.quarantines.items()):
            quarantines.add_metric([module, process], count)
        yield quarantines
        by_module = CounterMetricFamily(
            "trafi_module_event_deliveries",
            "Event deliveries by this process, per module",
            labels=["module", "mode", "outcome", "process"],
        )
        for (module, mode, outcome), count in sorted(self.host.dispatcher.stats.by_module.items()):
            by_module.add_metric([module, mode, outcome, process], count)
        yield by_module
        limit = GaugeMetricFamily(
            "trafi_module_instance_memory_limit_bytes",
            "The linear-memory cap of each instance of the module (limits.memoryMb, capped by the "
            "host); times trafi_module_instances_live, the most its instances can hold",
            labels=["module", "process"],
        )
        for name, image in sorted(self.host.images.items()):
            limit.add_metric([name, process], image.memory_bytes)
        yield limit
        dropped = CounterMetricFamily(
            "trafi_module_log_lines_dropped",
            "Log lines dropped past the per-(module, tenant) byte rate",
            labels=["module", "tenant", "process"],
        )
        for capability in runtime.capabilities:
            if isinstance(capability, LogCapability):
                for (module, tenant), count in sorted(capability.budget.dropped_lines().items()):
                    dropped.add_metric([module, tenant, process], count)
        yield dropped
        rate_limited = CounterMetricFamily(
            "trafi_module_rate_limited",
            "Requests this process refused with 429: the tenant was over its rate on the module",
            labels=["module", "tenant", "process"],
        )
        for (module, tenant), count in sorted(self.host.rate_policy.rejections().items()):
            rate_limited.add_metric([module, tenant, process], count)
        yield rate_limited


def own_metrics(app: FastAPI) -> bytes:
    """This process's metrics, as Prometheus text."""
    host: ModuleHost = app.state.host
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HostCollector(host, app.state.rate_limiter))  # type: ignore[arg-type]
    registry.register(host.metrics)  # type: ignore[arg-type]
    return generate_latest(registry)


async def sibling_scrapes(app: FastAPI) -> list[str]:
    """The metrics text of each other worker of `trafi serve --workers N` that answers (none alone)."""
    role: WorkerRole | None = app.state.worker_role
    if role is None:
        return []
    return await sibling_texts(role.sibling_sockets(os.getpid()))


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    module_host(request)  # 503 until the host has started
    own = own_metrics(request.app)
    if request.app.state.worker_role is None:
        return Response(own, media_type=CONTENT_TYPE_LATEST)
    siblings = await sibling_scrapes(request.app)
    return Response(merge_metrics([own.decode(), *siblings]), media_type=CONTENT_TYPE_LATEST)
