"""Response.json takes what the host hands a module: WIT records (dataclasses) and enums."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

import pytest

from trafi_sdk import Response


class OrderStatus(enum.Enum):  # how componentize-py renders a WIT enum
    PENDING = 0
    PAID = 1


@dataclass
class OrderLine:
    sku: str
    quantity: int


@dataclass
class Order:
    id: str
    status: OrderStatus
    lines: list[OrderLine]


def test_records_and_enums_serialise_as_the_api_does() -> None:
    response = Response.json(Order("ord_1", OrderStatus.PAID, [OrderLine("MUG-1", 2)]))
    assert json.loads(response.body) == {
        "id": "ord_1",
        "status": "paid",
        "lines": [{"sku": "MUG-1", "quantity": 2}],
    }


def test_anything_else_still_fails_loudly() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        Response.json({"x": object()})


def test_a_json_response_equals_one_built_through_its_constructor() -> None:
    made = Response.json({"hits": 1}, status=201)
    assert made == Response(201, (("content-type", "application/json"),), b'{"hits":1}')
    assert list(vars(made)) == ["status", "headers", "body"]
    with pytest.raises(AttributeError):
        made.status = 200  # type: ignore[misc]  # still frozen
