"""loyalty: events, the points service (linked), the commerce core and metrics, in-process."""

from pathlib import Path

from trafi_sdk.testing import ModuleHarness, records

MODULES = Path(__file__).resolve().parents[2]


def loyalty_with_points() -> tuple[ModuleHarness, ModuleHarness]:
    loyalty, points = ModuleHarness(MODULES / "loyalty"), ModuleHarness(MODULES / "points")
    loyalty.link(points)  # loyalty's services.call("points.balance", ...) reaches this harness
    loyalty.commerce.add_order(records.Order(id="o1", customer_id="c1", total_cents=2500))
    return loyalty, points


def test_a_paid_order_earns_one_point_per_euro_once() -> None:
    loyalty, points = loyalty_with_points()
    paid = records.PaymentCompleted(payment_id="p1", order_id="o1", amount_cents=2500, currency="EUR")
    event = loyalty.deliver("payment.completed", paid)
    loyalty.deliver("payment.completed", paid, event_id=event.id)  # a redelivery: rewarded once
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 25
    assert [n.text for n in loyalty.commerce.data().orders["o1"].notes] == ["25 loyalty points awarded"]
    assert loyalty.metrics.value("points_awarded_total", reason="payment") == 25
    assert len(loyalty.metrics.observed("points_service_duration_seconds", method="add")) == 1


def test_orders_seen_counts_created_orders() -> None:
    loyalty, _ = loyalty_with_points()
    created = records.OrderCreated("o1", "c1", records.OrderStatus.PENDING, 2500, "EUR")
    loyalty.deliver("order.created", created)
    loyalty.deliver("order.created", created)
    assert loyalty.get("/v1/stats").json() == {"ordersSeen": 2}
    assert loyalty.metrics.value("orders_seen") == 2


def test_the_points_route_reads_the_service() -> None:
    loyalty, _ = loyalty_with_points()
    assert loyalty.post("/v1/orders", json={"id": "o9", "customer": "c2", "total": 7}).status == 201
    assert loyalty.get("/v1/customers/c2/points").json() == {"customer": "c2", "points": 7}


def test_a_refused_service_call_is_a_422() -> None:
    loyalty, _ = loyalty_with_points()
    response = loyalty.post("/v1/orders", json={"id": "o9", "customer": "c2", "total": 0})
    assert response.status == 422
    assert "points must be positive" in response.json()["error"]
