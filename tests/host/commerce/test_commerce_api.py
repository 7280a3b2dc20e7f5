"""The commerce core over HTTP: lifecycle rules, tenant isolation, and one outbox event per change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_keys
from trafi_host.api import create_app
from trafi_host.db import Database
from trafi_host.events.catalogue import CustomerCreated
from trafi_host.events.outbox import recent_events, record_event
from trafi_host.project import Project


@pytest.fixture
def keys(project: Project) -> dict[str, str]:
    return api_keys(project.database_url(), "acme", "globex")


@pytest.fixture
def api(project: Project, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(project)) as client:
        client.headers["Authorization"] = f"Bearer {keys['acme']}"
        yield client


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def events(project: Project, tenant: str = "acme") -> list[str]:
    with Database(project.database_url()) as database:
        with database.session() as session:
            return [e.type for e in reversed(recent_events(session, tenant))]


def shop_with_order(api: TestClient) -> dict[str, Any]:
    mug = ok(
        api.post("/api/commerce/products", json={"sku": "MUG-1", "name": "Mug", "price_cents": 1250}), 201
    )
    tee = ok(
        api.post("/api/commerce/products", json={"sku": "TEE-1", "name": "Tee", "price_cents": 2000}), 201
    )
    ada = ok(api.post("/api/commerce/customers", json={"email": "Ada@Example.com", "name": "Ada"}), 201)
    lines = [{"product_id": mug["id"], "quantity": 2}, {"product_id": tee["id"], "quantity": 1}]
    return ok(api.post("/api/commerce/orders", json={"customer_id": ada["id"], "lines": lines}), 201)


def test_an_order_is_placed_paid_and_fulfilled(api: TestClient, project: Project) -> None:
    order = shop_with_order(api)
    assert (order["status"], order["total_cents"], order["currency"]) == ("pending", 4500, "EUR")
    payment = ok(api.post("/api/commerce/payments", json={"order_id": order["id"]}), 201)
    assert payment["amount_cents"] == 4500
    ok(api.post(f"/api/commerce/payments/{payment['id']}/complete"))
    assert ok(api.get(f"/api/commerce/orders/{order['id']}"))["status"] == "paid"
    fulfilled = ok(api.post(f"/api/commerce/orders/{order['id']}/status", json={"status": "fulfilled"}))
    assert fulfilled["status"] == "fulfilled"
    assert events(project) == [
        "product.created",
        "product.created",
        "customer.created",
        "order.created",
        "payment.created",
        "payment.completed",
        "order.status-changed",
        "order.status-changed",
    ]


def test_a_failed_payment_leaves_the_order_pending_and_it_can_be_cancelled(
    api: TestClient, project: Project
) -> None:
    order = shop_with_order(api)
    payment = ok(api.post("/api/commerce/payments", json={"order_id": order["id"]}), 201)
    failed = ok(api.post(f"/api/commerce/payments/{payment['id']}/fail", json={"reason": "card declined"}))
    assert failed["status"] == "failed"
    cancelled = ok(api.post(f"/api/commerce/orders/{order['id']}/cancel", json={"reason": "customer asked"}))
    assert cancelled["status"] == "cancelled"
    assert events(project)[-3:] == ["payment.failed", "order.status-changed", "order.cancelled"]


def test_moves_the_lifecycle_forbids_are_409_and_emit_nothing(api: TestClient, project: Project) -> None:
    order = shop_with_order(api)
    before = events(project)
    response = api.post(f"/api/commerce/orders/{order['id']}/status", json={"status": "fulfilled"})
    assert response.status_code == 409
    assert response.json() == {
        "error": f"order {order['id']} is pending; it cannot become fulfilled (allowed: cancelled, paid)"
    }
    ok(api.post(f"/api/commerce/orders/{order['id']}/cancel", json={"reason": "x"}))
    assert api.post("/api/commerce/payments", json={"order_id": order["id"]}).status_code == 409
    assert events(project) == [*before, "order.status-changed", "order.cancelled"]


def test_updates_report_what_changed_and_a_no_op_emits_nothing(api: TestClient, project: Project) -> None:
    mug = ok(
        api.post("/api/commerce/products", json={"sku": "MUG-1", "name": "Mug", "price_cents": 1250}), 201
    )
    updated = ok(api.patch(f"/api/commerce/products/{mug['id']}", json={"price_cents": 1400}))
    assert updated["price_cents"] == 1400
    ok(api.patch(f"/api/commerce/products/{mug['id']}", json={"price_cents": 1400}))
    assert events(project) == ["product.created", "product.updated"]
    with Database(project.database_url()) as database, database.session() as session:
        assert recent_events(session, "acme")[0].payload["changed"] == ["price_cents"]


def test_another_tenant_sees_nothing(api: TestClient, keys: dict[str, str], project: Project) -> None:
    order = shop_with_order(api)
    other = {"Authorization": f"Bearer {keys['globex']}"}
    assert api.get(f"/api/commerce/orders/{order['id']}", headers=other).status_code == 404
    assert api.get("/api/commerce/orders", headers=other).json() == []
    assert (
        api.post("/api/commerce/payments", json={"order_id": order["id"]}, headers=other).status_code == 404
    )
    assert events(project, "globex") == []


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/api/commerce/products", {"sku": "bad sku!", "name": "x", "price_cents": 1}, 422, "sku"),
        ("/api/commerce/products", {"sku": "A", "name": "x", "price_cents": -1}, 422, "price_cents"),
        ("/api/commerce/customers", {"email": "not-an-email", "name": "x"}, 422, "email"),
        (
            "/api/commerce/orders",
            {"customer_id": "cus_nope", "lines": [{"product_id": "p", "quantity": 1}]},
            404,
            "cus_nope",
        ),
        ("/api/commerce/orders", {"customer_id": "c", "lines": []}, 422, "lines"),
        ("/api/commerce/payments", {"order_id": "ord_nope"}, 404, "ord_nope"),
    ],
)
def test_bad_input_is_a_clear_json_error(
    api: TestClient, project: Project, path: str, body: dict[str, Any], status: int, needle: str
) -> None:
    response = api.post(path, json=body)
    assert response.status_code == status, response.text
    assert needle in response.text
    assert "error" in response.json()
    assert events(project) == []


def test_duplicates_are_conflicts(api: TestClient) -> None:
    ok(api.post("/api/commerce/customers", json={"email": "ada@example.com", "name": "Ada"}), 201)
    again = api.post("/api/commerce/customers", json={"email": "ADA@example.com", "name": "Ada"})
    assert again.status_code == 409 and "ada@example.com" in again.json()["error"]


def test_a_rolled_back_change_leaves_no_event(project: Project, keys: dict[str, str]) -> None:
    with Database(project.database_url()) as database:
        database.migrate()
        with pytest.raises(RuntimeError), database.session() as session:
            record_event(
                session,
                "acme",
                "customer.created",
                CustomerCreated(customer_id="c", email="e@x.io", name="n"),
            )
            raise RuntimeError("the change fails after its event was recorded")
        with database.session() as session:
            assert recent_events(session, "acme") == []


def test_a_list_limit_out_of_range_is_refused(api: TestClient) -> None:
    response = api.get("/api/commerce/orders", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["issues"][0]["path"] == "query.limit"
