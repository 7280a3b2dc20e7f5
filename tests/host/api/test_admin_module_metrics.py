"""`GET /api/admin/modules/<name>/metrics` on real HTTP: loyalty's counter, gauge and histogram as
its calls recorded them, per tenant and label set; nothing before it recorded anything; the
permission; and the sum over workers, from scrapes as sibling workers send them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from tests.conftest import REPO, install_modules
from tests.host.api.test_admin_modules import Served as SignedInServed
from tests.live_server import live_server
from trafi_host.api import create_app
from trafi_host.api.admin_module_metrics import metric_values
from trafi_host.api.metrics_merge import merge_families
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.auth.roles import create_role
from trafi_host.build import build_if_stale
from trafi_host.capabilities.metrics.declarations import MetricDeclaration
from trafi_host.manifest.load import load_manifest
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(900)
POINTS = REPO / "modules" / "points"
LOYALTY = REPO / "modules" / "loyalty"


@dataclass
class Served(SignedInServed):
    """The served host of test_admin_modules.py, with an API key per tenant."""

    keys: dict[str, str]

    def tenant_client(self, tenant: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=120, headers={"Authorization": f"Bearer {self.keys[tenant]}"}
        )


@pytest.fixture
def served(tmp_path: Path, hello_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    for folder in (POINTS, LOYALTY):
        build_if_stale(folder)
    monkeypatch.delenv("TRAFI_DATABASE_URL", raising=False)
    project = Project.init(tmp_path / "project")
    install_modules(project, hello_dir, POINTS, LOYALTY)
    host = ModuleHost(project)
    try:
        host.reconcile()
        keys = {}
        for tenant in ("acme", "globex"):
            create_tenant(host.database, tenant)
            keys[tenant], _ = create_api_key(host.database, tenant)
        create_role(host.database, "viewer", ("modules:read",))
        with live_server(create_app(project, host)) as url:
            yield Served(url, host, keys)
    finally:
        host.close()


def _commerce(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/commerce/{path}", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {metric["name"]: metric for metric in answer["metrics"]}


def test_values_per_tenant_and_label_set_after_loyalty_recorded_them(served: Served) -> None:
    with served.session("viewer") as viewer:
        before = viewer.get("/api/admin/modules/loyalty/metrics")
        assert before.status_code == 200, before.text
        # Declared, nothing recorded yet: each metric is there, with no series.
        declared = _by_name(before.json())
        assert {name: m["type"] for name, m in declared.items()} == {
            "points_awarded_total": "counter",
            "orders_seen": "gauge",
            "points_service_duration_seconds": "histogram",
        }
        assert all(m["series"] == [] for m in declared.values())
        assert before.json()["workers"] == 1

        for tenant, totals in (("acme", (42, 8)), ("globex", (5,))):
            with served.tenant_client(tenant) as client:
                for number, total in enumerate(totals):
                    answer = client.post(
                        "/api/modules/loyalty/v1/orders",
                        json={"id": f"o{number}", "customer": "c1", "total": total},
                    )
                    assert answer.status_code == 201, answer.text
        with served.tenant_client("acme") as client:
            # order.created is delivered synchronously: the gauge is set before the order's answer.
            mug = _commerce(client, "products", {"sku": "MUG", "name": "Mug", "price_cents": 1250})
            ada = _commerce(client, "customers", {"email": "ada@example.com", "name": "Ada"})
            _commerce(
                client,
                "orders",
                {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 1}]},
            )

        metrics = _by_name(viewer.get("/api/admin/modules/loyalty/metrics").json())

    process = served.host.metrics.process
    awarded = metrics["points_awarded_total"]
    assert awarded["exportedName"] == "trafi_module_loyalty_points_awarded"
    assert [(s["tenant"], s["labels"], s["value"], s["byProcess"]) for s in awarded["series"]] == [
        ("acme", {"reason": "order"}, 50.0, {process: 50.0}),
        ("globex", {"reason": "order"}, 5.0, {process: 5.0}),
    ]
    assert [(s["tenant"], s["labels"], s["value"]) for s in metrics["orders_seen"]["series"]] == [
        ("acme", {}, 1.0)
    ]
    [acme, globex] = metrics["points_service_duration_seconds"]["series"]
    assert (acme["tenant"], acme["labels"], acme["count"], acme["value"]) == (
        "acme",
        {"method": "add"},
        2.0,
        None,
    )
    assert globex["count"] == 1.0 and globex["sum"] > 0
    # Each declared bucket, then +Inf; the counts are per bucket, so they add up to the count.
    assert [b["le"] for b in acme["buckets"]] == [
        "0.001",
        "0.005",
        "0.01",
        "0.05",
        "0.1",
        "0.5",
        "1.0",
        "+Inf",
    ]
    assert sum(b["count"] for b in acme["buckets"]) == 2.0
    assert 0 < acme["sum"] < 120  # two calls of the points service, each under its deadline


def test_a_module_without_metrics_and_an_unknown_module(served: Served) -> None:
    with served.session("viewer") as viewer:
        hello = viewer.get("/api/admin/modules/hello/metrics")
        ghost = viewer.get("/api/admin/modules/ghost/metrics")
    assert hello.status_code == 200 and hello.json()["metrics"] == []
    assert ghost.status_code == 404 and "ghost" in ghost.json()["error"]


def test_reading_values_needs_modules_read(served: Served) -> None:
    with served.session("") as nobody:
        refused = nobody.get("/api/admin/modules/loyalty/metrics")
    assert refused.status_code == 403 and refused.json()["permission"] == "modules:read"
    with httpx.Client(base_url=served.url) as anonymous:
        assert anonymous.get("/api/admin/modules/loyalty/metrics").status_code == 401


def _worker_scrape(process: str, awarded: int, seen: int, durations: list[float]) -> str:
    """What a sibling worker's socket sends for loyalty: its own series under its `process`."""
    labels = f'tenant="acme",process="{process}"'
    bounds = ["0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1.0", "+Inf"]
    buckets = "\n".join(
        f'trafi_module_loyalty_points_service_duration_seconds_bucket{{{labels},method="add",le="{le}"}} '
        f"{sum(1 for d in durations if d <= float(le))}.0"
        for le in bounds
    )
    return f"""# HELP trafi_module_loyalty_points_awarded_total Loyalty points awarded.
# TYPE trafi_module_loyalty_points_awarded_total counter
trafi_module_loyalty_points_awarded_total{{{labels},reason="order"}} {awarded}.0
# HELP trafi_module_loyalty_orders_seen Orders counted so far.
# TYPE trafi_module_loyalty_orders_seen gauge
trafi_module_loyalty_orders_seen{{{labels}}} {seen}.0
# HELP trafi_module_loyalty_points_service_duration_seconds Time the points service took.
# TYPE trafi_module_loyalty_points_service_duration_seconds histogram
{buckets}
trafi_module_loyalty_points_service_duration_seconds_count{{{labels},method="add"}} {len(durations)}.0
trafi_module_loyalty_points_service_duration_seconds_sum{{{labels},method="add"}} {sum(durations)}
"""


def test_workers_are_added_up_with_each_worker_s_part_kept() -> None:
    declarations: list[MetricDeclaration] = list(load_manifest(LOYALTY).metrics)
    texts = [
        _worker_scrape("web:1", 30, 4, [0.002, 0.2]),
        _worker_scrape("web:2", 12, 4, [0.003, 0.003, 0.7]),
    ]
    families = merge_families(text_string_to_metric_families(text) for text in texts)
    answer = metric_values("loyalty", declarations, families, workers=2)
    metrics = {metric.name: metric for metric in answer.metrics}
    [awarded] = metrics["points_awarded_total"].series
    assert (awarded.value, awarded.byProcess) == (42.0, {"web:1": 30.0, "web:2": 12.0})
    # A gauge both workers set from the same shared count declares `acrossWorkers: max`.
    [seen] = metrics["orders_seen"].series
    assert metrics["orders_seen"].acrossWorkers == "max"
    assert (seen.value, seen.byProcess) == (4.0, {"web:1": 4.0, "web:2": 4.0})
    [duration] = metrics["points_service_duration_seconds"].series
    assert duration.count == 5.0 and duration.sum == pytest.approx(0.908)
    assert {b.le: b.count for b in duration.buckets if b.count} == {"0.005": 3.0, "0.5": 1.0, "1.0": 1.0}


def test_a_series_another_module_owns_is_not_shown_as_this_one_s() -> None:
    [counter] = [d for d in load_manifest(LOYALTY).metrics if d.type == "counter"]
    families = merge_families([text_string_to_metric_families(_worker_scrape("web:1", 3, 1, [0.1]))])
    answer = metric_values("loyalty", [counter], families, workers=1, not_exported=frozenset({counter.name}))
    assert answer.metrics[0].series == []


@pytest.mark.parametrize(("across", "value"), [(None, 7.0), ("sum", 7.0), ("max", 4.0), ("min", 3.0)])
def test_a_gauge_s_workers_combine_as_it_declares(across: str | None, value: float) -> None:
    gauge = MetricDeclaration.model_validate(
        {"name": "orders_seen", "type": "gauge", "help": "Orders.", "acrossWorkers": across}
    )
    texts = [_worker_scrape("web:1", 1, 4, [0.1]), _worker_scrape("web:2", 1, 3, [0.1])]
    families = merge_families(text_string_to_metric_families(text) for text in texts)
    [metric] = metric_values("loyalty", [gauge], families, workers=2).metrics
    assert metric.acrossWorkers == (across or "sum")
    [series] = metric.series
    assert (series.value, series.byProcess) == (value, {"web:1": 4.0, "web:2": 3.0})


@pytest.mark.parametrize("kind", ["counter", "histogram"])
def test_across_workers_is_for_gauges_only(kind: str) -> None:
    with pytest.raises(ValueError, match="acrossWorkers is for gauges"):
        MetricDeclaration.model_validate(
            {"name": "orders_total", "type": kind, "help": "Orders.", "acrossWorkers": "max"}
        )


def test_a_gauge_s_workers_combine_only_in_the_ways_named() -> None:
    """A wrong `acrossWorkers` is refused naming the field and the values it takes."""
    with pytest.raises(ValidationError) as refused:
        MetricDeclaration.model_validate(
            {"name": "orders_seen", "type": "gauge", "help": "Orders.", "acrossWorkers": "avg"}
        )
    message = str(refused.value)
    assert "acrossWorkers" in message and "'sum', 'max' or 'min'" in message
