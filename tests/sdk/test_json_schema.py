"""The SDK's JSON Schema derivation from annotations, and parsing a JSON value into them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Optional, TypedDict

import pytest

from trafi_sdk.json_schema import DIALECT, UnsupportedType, json_schema
from trafi_sdk.typed_body import BodyError, parse


@dataclass
class Line:
    sku: str
    quantity: int


@dataclass
class Order:
    """An order to place."""

    customer: str
    lines: list[Line]
    note: Optional[str] = None  # noqa: UP045 - the Optional spelling is what authors write too
    channel: Literal["web", "shop"] = "web"
    tags: dict[str, float] = field(default_factory=dict)


class Address(TypedDict):
    street: str
    city: str
    floor: NotRequired[int]


@dataclass
class Node:
    name: str
    children: list[Node]


def test_a_dataclass_is_an_object_with_required_fields_and_nested_defs() -> None:
    schema = json_schema(Order)
    assert schema == {
        "$schema": DIALECT,
        "type": "object",
        "title": "Order",
        "description": "An order to place.",
        "properties": {
            "customer": {"type": "string"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "channel": {"enum": ["web", "shop"]},
            "tags": {"type": "object", "additionalProperties": {"type": "number"}},
        },
        "required": ["customer", "lines"],
        "additionalProperties": False,
        "$defs": {
            "Line": {
                "type": "object",
                "title": "Line",
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"}},
                "required": ["sku", "quantity"],
                "additionalProperties": False,
            }
        },
    }


def test_a_typed_dict_keeps_its_required_keys() -> None:
    schema = json_schema(Address)
    assert schema["required"] == ["street", "city"]
    assert schema["properties"]["floor"] == {"type": "integer"}


def test_a_recursive_type_refers_to_the_root() -> None:
    assert json_schema(Node)["properties"]["children"] == {"type": "array", "items": {"$ref": "#"}}


def test_lists_and_primitives_at_the_root() -> None:
    assert json_schema(list[Line])["items"] == {"$ref": "#/$defs/Line"}
    assert json_schema(bool) == {"$schema": DIALECT, "type": "boolean"}
    assert json_schema(Any) == {"$schema": DIALECT}


def test_a_type_without_a_json_shape_is_refused_by_name() -> None:
    @dataclass
    class Bad:
        when: set[int]

    with pytest.raises(UnsupportedType, match=r"Bad\.when"):
        json_schema(Bad)
    with pytest.raises(UnsupportedType, match="keys are strings"):
        json_schema(dict[int, str])


def test_parse_builds_dataclasses_and_checks_typed_dicts() -> None:
    order = parse({"customer": "c1", "lines": [{"sku": "MUG", "quantity": 2}], "tags": {"vip": 1}}, Order)
    assert order == Order("c1", [Line("MUG", 2)], tags={"vip": 1.0})
    assert isinstance(order.tags["vip"], float)
    assert parse({"street": "Main", "city": "Lyon"}, Address) == {"street": "Main", "city": "Lyon"}


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("text", "", "expected an object (Order), got a string"),
        ({"lines": []}, "customer", "required field missing"),
        ({"customer": "c1", "lines": [], "extra": 1}, "extra", "unknown field"),
        ({"customer": 1, "lines": []}, "customer", "expected a string, got a number"),
        ({"customer": "c", "lines": [{"sku": "M", "quantity": True}]}, "lines[0].quantity", "integer"),
        ({"customer": "c", "lines": [{"sku": "M", "quantity": 1.5}]}, "lines[0].quantity", "integer"),
        ({"customer": "c", "lines": {}}, "lines", "expected an array, got an object"),
        ({"customer": "c", "lines": [], "channel": "fax"}, "channel", "expected one of 'web', 'shop'"),
        ({"customer": "c", "lines": [], "note": 3}, "note", "expected a string"),
        ({"customer": "c", "lines": [], "tags": {"vip": "x"}}, "tags.vip", "expected a number"),
    ],
    ids=[
        "not-object",
        "missing",
        "unknown",
        "wrong-type",
        "bool-is-not-int",
        "float-is-not-int",
        "not-array",
        "not-literal",
        "optional-wrong-type",
        "dict-value",
    ],
)
def test_parse_names_the_field_that_does_not_match(value: Any, field: str, message: str) -> None:
    with pytest.raises(BodyError) as refused:
        parse(value, Order)
    assert refused.value.field == field
    assert message in refused.value.message
