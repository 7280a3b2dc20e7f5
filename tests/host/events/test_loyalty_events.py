"""The worked example of docs/events.md: loyalty rewards paid orders through events."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, api_keys, install_modules
from tests.host.events.test_event_delivery import post
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.build import build_if_stale
from trafi_host.project import Project


def test_a_paid_order_earns_points_once(sqlite_project: Project) -> None:
    for name in ("points", "loyalty"):
        build_if_stale(REPO / "modules" / name)
    install_modules(sqlite_project, REPO / "modules" / "points", REPO / "modules" / "loyalty")
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    with TestClient(create_app(sqlite_project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        mug = post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
        ada = post(client, "customers", {"email": "ada@example.com", "name": "Ada"})
        order = post(
            client, "orders", {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 4}]}
        )
        # order.created is sync: counted before the order response came back.
        assert client.get("/api/modules/loyalty/v1/stats").json() == {"ordersSeen": 1}
        payment = post(client, "payments", {"order_id": order["id"]})
        assert client.post(f"/api/commerce/payments/{payment['id']}/complete").status_code == 200

        def points() -> int:
            return int(client.get(f"/api/modules/points/v1/customers/{ada['id']}").json()["points"])

        def notes() -> list[str]:
            return [n["text"] for n in client.get(f"/api/commerce/orders/{order['id']}").json()["notes"]]

        # 50 EUR paid: 50 points and a note, by the async handler (which writes the note after
        # awarding the points: wait for both, not for the first).
        wait_for(lambda: notes() == ["50 loyalty points awarded"], message="the order to get its note")
        assert points() == 50
        # What the module and the host counted (docs/metrics.md), parsed from /metrics.
        text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "process"))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("trafi_module_loyalty_orders_seen", (("tenant", "acme"),))] == 1
    awarded = ("trafi_module_loyalty_points_awarded_total", (("reason", "payment"), ("tenant", "acme")))
    assert samples[awarded] == 50
    deliveries = "trafi_module_event_deliveries_total"
    assert samples[(deliveries, (("mode", "sync"), ("module", "loyalty"), ("outcome", "done")))] == 1
    assert samples[(deliveries, (("mode", "async"), ("module", "loyalty"), ("outcome", "queued")))] == 1
