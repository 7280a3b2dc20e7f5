"""A JSON value checked against a handler's annotation and built into it, or refused by field.

The inverse of serialising a result: the body of a typed handler's request arrives
as parsed JSON, and each field is checked as `json_schema` describes it; the first
problem is a `BodyError` naming the field (`lines[2].sku`), which the SDK answers
with a 400.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin

from .json_schema import field_types, is_record_type, required_fields


class BodyError(ValueError):
    """The body does not match the handler's type: `field` is where (`""`: the whole body)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field or 'body'}: {message}")
        self.field = field
        self.message = message


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _record(value: Any, record_type: type, where: str) -> Any:
    if not isinstance(value, dict):
        raise BodyError(where, f"expected an object ({record_type.__name__}), got {_kind(value)}")
    fields = field_types(record_type)
    unknown = [key for key in value if key not in fields]
    if unknown:
        raise BodyError(_join(where, str(unknown[0])), "unknown field")
    for name in required_fields(record_type):
        if name not in value:
            raise BodyError(_join(where, name), "required field missing")
    built = {name: parse(value[name], fields[name], _join(where, name)) for name in value}
    if dataclasses.is_dataclass(record_type):
        return record_type(**built)
    return built


def parse(value: Any, annotation: Any, where: str = "") -> Any:
    """`value` (parsed JSON) as `annotation`: dataclasses built, TypedDicts checked; BodyError
    naming the first field that does not match.

    Example:

        parse({"customer": "c1", "points": 5}, Award) == Award("c1", 5)
    """
    if annotation is Any:
        return value
    if is_record_type(annotation):
        return _record(value, annotation, where)
    if annotation is type(None):
        if value is not None:
            raise BodyError(where, f"expected null, got {_kind(value)}")
        return None
    if annotation is bool:
        if not isinstance(value, bool):
            raise BodyError(where, f"expected a boolean, got {_kind(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BodyError(where, f"expected an integer, got {_kind(value)}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BodyError(where, f"expected a number, got {_kind(value)}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise BodyError(where, f"expected a string, got {_kind(value)}")
        return value
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list:
        if not isinstance(value, list):
            raise BodyError(where, f"expected an array, got {_kind(value)}")
        item = args[0] if args else Any
        return [parse(entry, item, f"{where}[{index}]") for index, entry in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise BodyError(where, f"expected an object, got {_kind(value)}")
        item = args[1] if args else Any
        return {key: parse(entry, item, _join(where, key)) for key, entry in value.items()}
    if origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            allowed = ", ".join(repr(a) for a in args)
            raise BodyError(where, f"expected one of {allowed}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors: list[BodyError] = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return parse(value, arg, where)
            except BodyError as error:
                errors.append(error)
        # One alternative besides null: its own message is the useful one.
        if len(errors) == 1:
            raise errors[0]
        raise BodyError(where, f"matches none of the allowed shapes, got {_kind(value)}")
    raise BodyError(where, f"cannot check a value against {annotation!r}")


__all__ = ["BodyError", "parse"]
