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


VALUES = [
    {"hits": 1, "tenant": "acme"},
    [1, 2.5, -0.0, 1e300, float("nan"), float("inf"), True, None],
    "é and \u2028 and \x00",
    {"nested": {"list": [{"a": "b"}], "empty": {}}, "unicode": "日本"},
    {3: "int key", 2.5: "float key", None: "null key", True: "bool key"},
    Order("ord_1", OrderStatus.PENDING, []),
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_body_is_what_json_dumps_writes(value: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from trafi_sdk import http

    expected = json.dumps(value, separators=(",", ":"), default=http._wit_value).encode()
    assert Response.json(value).body == expected
    monkeypatch.setattr(http, "_c_make_encoder", None)  # where CPython has no _json: the Python encoder
    assert Response.json(value).body == expected


def test_a_circular_value_is_refused_and_the_next_response_is_unaffected() -> None:
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference"):
        Response.json(looped)
    shared = [1]
    assert Response.json({"a": shared, "b": shared}).body == b'{"a":[1],"b":[1]}'  # not circular
