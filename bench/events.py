"""Issue-6 rows: what subscribers add to an order request, and async events per second end to end.

Orders are placed through the commerce core's Python API (the REST layer adds
the same constant to every case). Subscribers are copies of
`bench/modules/event_counter` (one kv increment per event).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import time
import uuid
from pathlib import Path

from trafi_host.commerce import models
from trafi_host.delivery.background import start_workers
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

from .fixtures import built, make_project
from .report import Row

COUNTER = Path(__file__).resolve().parent / "modules" / "event_counter"
REDIS_URL = os.environ.get("TRAFI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _subscribers(work: Path, count: int, mode: str) -> list[Path]:
    folders = []
    for index in range(count):
        folder = work / f"counter-{mode}-{index}"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(COUNTER, folder, ignore=shutil.ignore_patterns("__pycache__"))
        manifest = json.loads((folder / "trafi-module.json").read_text())
        manifest["name"] = f"counter-{mode}-{index}"
        manifest["events"] = [{"event": "order.created", "mode": mode}]
        (folder / "trafi-module.json").write_text(json.dumps(manifest))
        folders.append(folder)
    return folders


def _with_settings(project: Project, **changes: object) -> Project:
    """The project with some environment settings changed, as if they had been exported."""
    return dataclasses.replace(project, settings=project.settings.model_copy(update=changes))


def _shop(host: ModuleHost) -> tuple[str, str]:
    product = host.commerce.create_product(
        "bench", models.ProductIn(sku="MUG-1", name="Mug", price_cents=1250)
    )
    customer = host.commerce.create_customer("bench", models.CustomerIn(email="ada@example.com", name="Ada"))
    return product.id, customer.id


def _order(host: ModuleHost, product: str, customer: str) -> None:
    host.commerce.create_order(
        "bench",
        models.OrderIn(customer_id=customer, lines=[models.OrderLineIn(product_id=product, quantity=1)]),
    )


def _order_latency_ms(work: Path, subscribers: int, mode: str, orders: int) -> float:
    bench = make_project(work / f"orders-{mode}-{subscribers}", _subscribers(work, subscribers, mode))
    host = ModuleHost(_with_settings(bench.project, job_workers=0))
    try:
        host.reconcile()
        product, customer = _shop(host)
        for _ in range(5):  # every instance started and warm
            _order(host, product, customer)
        times = []
        for _ in range(orders):
            started = time.perf_counter()
            _order(host, product, customer)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        host.close()


def _async_events_per_second(work: Path, redis: bool, orders: int) -> float:
    name = "redis" if redis else "sqlite"
    bench = make_project(work / f"throughput-{name}", _subscribers(work, 1, "async"))
    project = bench.project
    if redis:
        project = _with_settings(
            project, redis_url=REDIS_URL, job_queue=f"trafi-bench-{uuid.uuid4().hex[:8]}"
        )
    host = ModuleHost(project)
    try:
        host.reconcile()
        product, customer = _shop(host)
        _, consumer = start_workers(host.dispatcher, 2, embedded=True)
        try:
            started = time.perf_counter()
            for _ in range(orders):
                _order(host, product, customer)
            deadline = time.monotonic() + 120
            while host.dispatcher.stats.async_done < orders and time.monotonic() < deadline:
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            done = host.dispatcher.stats.async_done
        finally:
            consumer.stop()
        return done / elapsed
    finally:
        host.close()


def _orders_per_second(work: Path, orders: int) -> float:
    bench = make_project(work / "throughput-none", [])
    host = ModuleHost(bench.project)
    try:
        product, customer = _shop(host)
        started = time.perf_counter()
        for _ in range(orders):
            _order(host, product, customer)
        return orders / (time.perf_counter() - started)
    finally:
        host.close()


def run(work: Path, quick: bool) -> list[Row]:
    built(COUNTER)
    orders = 20 if quick else 100
    none = _order_latency_ms(work, 0, "sync", orders)
    rows = [Row("events", "order request, no subscriber", none, "ms", note="commerce API, SQLite")]
    # A smoke run takes each path once: five subscribers run the same code as one.
    for count in (1,) if quick else (1, 5):
        for mode in ("sync", "async"):
            value = _order_latency_ms(work, count, mode, orders)
            rows.append(
                Row(
                    "events",
                    f"order request, {count} {mode} subscriber{'s' if count > 1 else ''}",
                    value,
                    "ms",
                    none,
                    "no subscriber",
                    note="sync: handlers run before it returns" if mode == "sync" else "async: queued only",
                )
            )
    total = 20 if quick else 300
    writes = _orders_per_second(work, total)
    for redis in (False, True):
        rows.append(
            Row(
                "events",
                f"async events/s, order created -> handler done ({'Redis' if redis else 'embedded SQLite'})",
                _async_events_per_second(work, redis, total),
                "/s",
                writes,
                "orders/s written, no subscriber",
                note="2 worker threads, 1 subscriber",
            )
        )
    return rows
