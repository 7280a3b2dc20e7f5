"""JSON Schema (draft 2020-12) from a handler's type annotations.

pydantic-core does not run inside a component, so the SDK derives the schemas
the `routes` export declares itself, from the few shapes a JSON body has:
dataclasses and TypedDicts (nested), `list[X]`, `dict[str, X]`, `X | None`,
unions, `Literal[...]`, `int`, `float`, `str`, `bool` and `Any`. Each dataclass
or TypedDict other than the root is one entry of `$defs`, referenced by name.
"""

from __future__ import annotations

import dataclasses
import types
from typing import (
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_PRIMITIVES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
}


class UnsupportedType(TypeError):
    """An annotation the SDK cannot describe as JSON; the message names it and where it was met."""


def is_record_type(annotation: Any) -> bool:
    """A dataclass or TypedDict class: a JSON object with named fields."""
    return isinstance(annotation, type) and (dataclasses.is_dataclass(annotation) or is_typeddict(annotation))


def is_body_type(annotation: Any) -> bool:
    """An annotation the SDK parses a body into or serialises a result from: a record type, or a
    list / dict / optional of one."""
    if is_record_type(annotation):
        return True
    origin = get_origin(annotation)
    if origin in (list, dict, Union, types.UnionType):
        return any(is_body_type(arg) for arg in get_args(annotation))
    return False


def field_types(record_type: type) -> dict[str, Any]:
    """A record type's field names to their (resolved) annotations, in declaration order."""
    hints = get_type_hints(record_type)
    if dataclasses.is_dataclass(record_type):
        return {f.name: hints[f.name] for f in dataclasses.fields(record_type)}
    return dict(hints)


def required_fields(record_type: type) -> list[str]:
    if dataclasses.is_dataclass(record_type):
        return [
            f.name
            for f in dataclasses.fields(record_type)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
    # Read from the annotations, not `__required_keys__`: under `from __future__ import
    # annotations` a TypedDict cannot see `NotRequired[...]` in its (string) annotations.
    total = getattr(record_type, "__total__", True)
    required = []
    for name, annotation in get_type_hints(record_type, include_extras=True).items():
        marker = get_origin(annotation)
        if marker is Required or (total and marker is not NotRequired):
            required.append(name)
    return required


class _Deriver:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.defs: dict[str, dict[str, Any]] = {}

    def schema(self, annotation: Any, where: str) -> dict[str, Any]:
        if annotation is Any:
            return {}
        if annotation in _PRIMITIVES:
            return dict(_PRIMITIVES[annotation])
        if is_record_type(annotation):
            if annotation is self.root:
                return {"$ref": "#"}
            name = annotation.__name__
            if name not in self.defs:
                self.defs[name] = {}  # placed first: a recursive reference finds it
                self.defs[name] = self.record(annotation)
            return {"$ref": f"#/$defs/{name}"}
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is list:
            item = args[0] if args else Any
            return {"type": "array", "items": self.schema(item, f"{where}[]")}
        if origin is dict:
            key, value = args if args else (str, Any)
            if key is not str:
                raise UnsupportedType(f"{where}: JSON object keys are strings, not {key!r}")
            return {"type": "object", "additionalProperties": self.schema(value, f"{where}{{}}")}
        if origin is Literal:
            return {"enum": list(args)}
        if origin in (Union, types.UnionType):
            return {"anyOf": [self.schema(arg, where) for arg in args]}
        raise UnsupportedType(
            f"{where}: {annotation!r} has no JSON Schema here (use a dataclass, a TypedDict, "
            "list[...], dict[str, ...], Optional, Literal, int, float, str or bool)"
        )

    def record(self, record_type: type) -> dict[str, Any]:
        name = record_type.__name__
        properties = {
            field: self.schema(annotation, f"{name}.{field}")
            for field, annotation in field_types(record_type).items()
        }
        schema: dict[str, Any] = {"type": "object", "title": name, "properties": properties}
        required = required_fields(record_type)
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        doc = (record_type.__doc__ or "").strip()
        # A dataclass without a docstring gets its signature as __doc__: not a description.
        if doc and not doc.startswith(f"{name}("):
            schema["description"] = doc
        return schema


def json_schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of values of `annotation`.

    Example:

        @dataclass
        class Award:
            customer: str
            points: int

        json_schema(Award)["required"] == ["customer", "points"]
    """
    deriver = _Deriver(annotation if is_record_type(annotation) else None)
    if is_record_type(annotation):
        body = deriver.record(annotation)
    else:
        body = deriver.schema(annotation, "the annotation")
    schema: dict[str, Any] = {"$schema": DIALECT, **body}
    if deriver.defs:
        schema["$defs"] = deriver.defs
    return schema


__all__ = [
    "UnsupportedType",
    "field_types",
    "is_body_type",
    "is_record_type",
    "json_schema",
    "required_fields",
]
