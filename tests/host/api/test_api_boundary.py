"""The API boundary (issue 13, item 5): amounts that fit, text without NUL, strict types, JSON errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from tests.conftest import api_keys
from trafi_host.api import create_app
from trafi_host.commerce import models
from trafi_host.commerce.service import Commerce
from trafi_host.project import Project

SHOP = "/api/commerce"


@pytest.fixture
def api(project: Project) -> Iterator[TestClient]:
    key = api_keys(project.database_url(), "acme")["acme"]
    with TestClient(create_app(project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def customer(api: TestClient) -> dict[str, Any]:
    return created(api.post(f"{SHOP}/customers", json={"email": "ada@example.com", "name": "Ada"}))


def refused(response: Any, field: str, words: str = "") -> str:
    """A 422 whose message names the field (and says `words`)."""
    assert response.status_code == 422, response.text
    body = response.json()
    message = str(body["error"])
    assert field in [issue["path"].rsplit(".", 1)[-1] for issue in body["issues"]], body
    assert words in message, message
    return message


def test_an_order_over_32_bits_is_stored_and_read_back_exactly(api: TestClient) -> None:
    # 22 x 100000000 = 2200000000 > 2**31 - 1: on PostgreSQL's INTEGER columns this was a 500.
    product = created(
        api.post(f"{SHOP}/products", json={"sku": "GOLD", "name": "Gold bar", "price_cents": 100_000_000})
    )
    lines = [{"product_id": product["id"], "quantity": 22}]
    order = created(api.post(f"{SHOP}/orders", json={"customer_id": customer(api)["id"], "lines": lines}))
    assert order["total_cents"] == 2_200_000_000
    payment = created(api.post(f"{SHOP}/payments", json={"order_id": order["id"]}))
    assert payment["amount_cents"] == 2_200_000_000
    again = api.get(f"{SHOP}/orders/{order['id']}").json()
    assert (again["total_cents"], again["lines"][0]["unit_price_cents"]) == (2_200_000_000, 100_000_000)
    assert api.get(f"{SHOP}/payments/{payment['id']}").json()["amount_cents"] == 2_200_000_000


def test_the_largest_order_the_api_admits_fits(api: TestClient) -> None:
    product = created(
        api.post(
            f"{SHOP}/products",
            json={"sku": "MAX", "name": "Max", "price_cents": models.MAX_PRICE_CENTS},
        )
    )
    line = {"product_id": product["id"], "quantity": models.MAX_QUANTITY}
    order = created(
        api.post(
            f"{SHOP}/orders",
            json={"customer_id": customer(api)["id"], "lines": [line] * models.MAX_ORDER_LINES},
        )
    )
    assert order["total_cents"] == models.MAX_TOTAL_CENTS == 5 * 10**14
    assert api.get(f"{SHOP}/orders/{order['id']}").json()["total_cents"] == models.MAX_TOTAL_CENTS


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/customers", {"email": "ada@example.com", "name": "Ada\x00Lovelace"}, "name"),
        ("/products", {"sku": "A", "name": "Mug\x00", "price_cents": 1}, "name"),
        ("/products", {"sku": "A", "name": "Mug\nTwo lines", "price_cents": 1}, "name"),
        ("/products", {"sku": "A", "name": "Bell\x07", "price_cents": 1}, "name"),
    ],
)
def test_control_characters_in_a_name_are_refused_naming_the_field(
    api: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    refused(api.post(SHOP + path, json=body), field, "control character")


def test_an_order_note_refuses_nul_and_keeps_tabs_and_line_breaks(api: TestClient) -> None:
    product = created(api.post(f"{SHOP}/products", json={"sku": "A", "name": "A", "price_cents": 1}))
    lines = [{"product_id": product["id"], "quantity": 1}]
    order = created(api.post(f"{SHOP}/orders", json={"customer_id": customer(api)["id"], "lines": lines}))
    notes = f"{SHOP}/orders/{order['id']}/notes"
    message = refused(api.post(notes, json={"text": "left at\x00 the door"}), "text", "U+0000")
    assert "position 7" in message
    refused(api.post(f"{SHOP}/orders/{order['id']}/cancel", json={"reason": "no\x00"}), "reason")
    kept = created(api.post(notes, json={"text": "line one\r\n\tline two"}))
    assert kept["notes"][0]["text"] == "line one\r\n\tline two"


def test_a_lone_surrogate_is_refused_not_a_500(api: TestClient) -> None:
    # JSON's "\ud800" decodes to a character no database and no UTF-8 response can hold.
    raw = b'{"sku": "A", "name": "x\\ud800", "price_cents": 1}'
    response = api.post(f"{SHOP}/products", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["issues"][0]["path"] == "body.name"


@pytest.mark.parametrize("value", [False, True, "12", 12.5, None, [12]])
def test_a_price_must_be_a_json_integer(api: TestClient, value: object) -> None:
    response = api.post(f"{SHOP}/products", json={"sku": "A", "name": "A", "price_cents": value})
    refused(response, "price_cents")


def test_integral_json_numbers_are_integers(api: TestClient) -> None:
    product = created(api.post(f"{SHOP}/products", json={"sku": "A", "name": "A", "price_cents": 1250}))
    assert product["price_cents"] == 1250
    patched = api.patch(f"{SHOP}/products/{product['id']}", json={"price_cents": 1300.0})
    assert patched.status_code == 200, patched.text
    assert patched.json()["price_cents"] == 1300
    refused(api.patch(f"{SHOP}/products/{product['id']}", json={"price_cents": False}), "price_cents")
    lines = [{"product_id": product["id"], "quantity": True}]
    refused(api.post(f"{SHOP}/orders", json={"customer_id": "cus_x", "lines": lines}), "quantity")


@pytest.mark.parametrize("path", ["/products/prd%00x", "/orders/%00", "/payments/" + "p" * 41])
def test_an_id_the_core_cannot_have_made_is_422(api: TestClient, path: str) -> None:
    response = api.get(SHOP + path)
    assert response.status_code == 422, response.text
    assert "pattern" in response.json()["error"]


def test_an_id_in_a_body_with_nul_is_422(api: TestClient) -> None:
    refused(api.post(f"{SHOP}/payments", json={"order_id": "ord_\x00"}), "order_id")


def test_starlette_errors_have_the_api_error_shape(api: TestClient) -> None:
    assert api.get("/api/nowhere").json() == {"error": "Not Found"}
    response = api.delete(f"{SHOP}/products")
    assert (response.status_code, response.json()) == (405, {"error": "Method Not Allowed"})


def test_an_unexpected_exception_is_a_json_500_with_a_request_id_in_the_log(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> list[models.Product]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Commerce, "products", broken)
    with caplog.at_level(logging.ERROR, logger="trafi.api"):
        response = api.get(f"{SHOP}/products")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {"error": "internal server error", "requestId": response.headers["x-request-id"]}
    record = next(r for r in caplog.records if body["requestId"] in r.getMessage())
    assert "GET /api/commerce/products" in record.getMessage()
    assert record.exc_info is not None and "a bug" in str(record.exc_info[1])


def _locked() -> OperationalError:
    import sqlite3

    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


def test_a_database_locked_through_every_retry_is_a_json_503_with_retry_after(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trafi_host.db import Database

    attempts = []

    def always_locked(self: Database) -> Any:
        attempts.append(1)
        raise _locked()

    monkeypatch.setattr(Database, "write_session", always_locked)
    response = api.post(f"{SHOP}/products", json={"sku": "A", "name": "A", "price_cents": 1})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "the database is busy; try again shortly"
    assert len(attempts) == 3


def test_a_locked_database_once_is_retried_and_succeeds(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trafi_host.db import Database

    real = Database.write_session
    failures = [_locked()]

    def locked_once(self: Database) -> Any:
        if failures:
            raise failures.pop()
        return real(self)

    monkeypatch.setattr(Database, "write_session", locked_once)
    created(api.post(f"{SHOP}/products", json={"sku": "A", "name": "A", "price_cents": 1}))
    assert api.get(f"{SHOP}/products").json()[0]["sku"] == "A"
