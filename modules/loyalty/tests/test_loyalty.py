"""loyalty: events, the points service (linked), the commerce core and metrics, in-process."""

from pathlib import Path

import pytest

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


def test_a_redelivery_that_finds_no_marker_awards_once() -> None:
    # The delivery added the points and died before its kv marker: the redelivery finds none.
    loyalty, points = loyalty_with_points()
    paid = records.PaymentCompleted(payment_id="p1", order_id="o1", amount_cents=2500, currency="EUR")
    event = loyalty.deliver("payment.completed", paid)
    assert loyalty.kv.delete(f"rewarded:{event.id}")
    loyalty.deliver("payment.completed", paid, event_id=event.id)
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 25
    assert [n.text for n in loyalty.commerce.data().orders["o1"].notes] == ["25 loyalty points awarded"]
    assert loyalty.metrics.value("points_awarded_total", reason="payment") == 25
    assert loyalty.kv.get(f"rewarded:{event.id}") == b"1"


class WorkerDied(BaseException):
    """The handler's process dying (or its call abandoned at the deadline) at that instant."""


def test_a_delivery_that_died_right_after_the_service_call_is_redelivered_and_awards_once() -> None:
    loyalty, points = loyalty_with_points()
    serve = loyalty.services.modules["points"]

    def answer_then_die(service: str, method: str, payload: str, tenant: str) -> str:
        serve(service, method, payload, tenant)  # the points are added and committed...
        raise WorkerDied  # ...and the caller never sees the answer: no note, no metric, no marker

    loyalty.services.modules["points"] = answer_then_die
    paid = records.PaymentCompleted(payment_id="p1", order_id="o1", amount_cents=2500, currency="EUR")
    with pytest.raises(WorkerDied):
        loyalty.deliver("payment.completed", paid, event_id="evt-1")
    loyalty.services.modules["points"] = serve  # the next worker's call goes through
    loyalty.deliver("payment.completed", paid, event_id="evt-1")
    loyalty.deliver("payment.completed", paid, event_id="evt-1")
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 25
    assert [n.text for n in loyalty.commerce.data().orders["o1"].notes] == ["25 loyalty points awarded"]
    # The points were added by the delivery that died: the replay does not count them again.
    assert loyalty.metrics.value("points_awarded_total", reason="payment") == 0
    rows = points.db.connection().execute("SELECT points, idempotency_key FROM mod_points__entry")
    assert list(rows) == [(25, "payment:evt-1")]


def test_a_redelivery_that_died_after_the_note_adds_no_second_note() -> None:
    loyalty, _ = loyalty_with_points()
    paid = records.PaymentCompleted(payment_id="p1", order_id="o1", amount_cents=2500, currency="EUR")
    event = loyalty.deliver("payment.completed", paid)
    loyalty.kv.delete(f"rewarded:{event.id}")  # died after the note, before the marker
    loyalty.deliver("payment.completed", paid, event_id=event.id)
    assert [n.text for n in loyalty.commerce.data().orders["o1"].notes] == ["25 loyalty points awarded"]


def test_two_payment_events_award_twice() -> None:
    loyalty, points = loyalty_with_points()
    loyalty.commerce.add_order(records.Order(id="o2", customer_id="c1", total_cents=1000))
    loyalty.deliver("payment.completed", records.PaymentCompleted("p1", "o1", 2500, "EUR"))
    loyalty.deliver("payment.completed", records.PaymentCompleted("p2", "o2", 1000, "EUR"))
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 35


def test_an_order_request_retried_awards_once_keyed_by_its_header_or_else_its_order() -> None:
    loyalty, _ = loyalty_with_points()
    order = {"id": "o9", "customer": "c2", "total": 7}
    first = loyalty.post("/v1/orders", json=order)
    again = loyalty.post("/v1/orders", json=order)  # no header: the order id is the key
    assert (
        (first.status, first.json()) == (again.status, again.json()) == (201, {"order": "o9", "balance": 7})
    )
    keyed = {"Idempotency-Key": "req-1"}
    assert loyalty.post("/v1/orders", json={**order, "id": "o10"}, headers=keyed).json()["balance"] == 14
    assert loyalty.post("/v1/orders", json={**order, "id": "o10"}, headers=keyed).json()["balance"] == 14
    assert loyalty.get("/v1/customers/c2/points").json() == {"customer": "c2", "points": 14}
    assert loyalty.metrics.value("points_awarded_total", reason="order") == 14


def test_an_order_id_reused_with_another_total_is_a_422_naming_the_key() -> None:
    loyalty, _ = loyalty_with_points()
    assert loyalty.post("/v1/orders", json={"id": "o9", "customer": "c2", "total": 7}).status == 201
    changed = loyalty.post("/v1/orders", json={"id": "o9", "customer": "c2", "total": 8})
    assert changed.status == 422
    assert "idempotency key 'order:o9'" in changed.json()["error"]
    assert loyalty.get("/v1/customers/c2/points").json()["points"] == 7
