"""The type descriptors `_boundary.compile` takes, read from wasmtime-py's own type objects.

Tagging (whether a `result`/`option`/`variant` lifts as `Variant(tag, payload)` or as its bare
payload) and the Python classes each case accepts come from wasmtime-py's `_tagged()` and
`add_classes()`, so the C path picks the same case and builds the same value as wasmtime-py.
A type the C converter does not handle (flags, resources, futures, streams, maps) raises
`Unsupported`: that function keeps the wasmtime-py path.
"""

from __future__ import annotations

from typing import Any

from wasmtime.component import _types

Descriptor = tuple[Any, ...]

_SCALARS: dict[type, str] = {
    _types.Bool: "bool",
    _types.S8: "s8",
    _types.U8: "u8",
    _types.S16: "s16",
    _types.U16: "u16",
    _types.S32: "s32",
    _types.U32: "u32",
    _types.S64: "s64",
    _types.U64: "u64",
    _types.F32: "f32",
    _types.F64: "f64",
    _types.Char: "char",
    _types.String: "string",
}


class Unsupported(Exception):
    """A type the C converter does not handle."""


def _case_classes(ty: Any) -> tuple[type, ...] | None:
    if ty is None:
        return None
    classes: set[type] = set()
    ty.add_classes(classes)
    return tuple(sorted(classes, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}"))


def _cases(
    cases: list[tuple[str, Any]],
) -> tuple[tuple[str, Descriptor | None, tuple[type, ...] | None], ...]:
    return tuple((name, None if ty is None else describe(ty), _case_classes(ty)) for name, ty in cases)


def describe(ty: Any) -> Descriptor:
    """The descriptor of one wasmtime-py value type."""
    scalar = _SCALARS.get(type(ty))
    if scalar is not None:
        return (scalar,)
    if isinstance(ty, _types.ListType):
        return ("bytes",) if ty._is_bytes() else ("list", describe(ty.element))
    if isinstance(ty, _types.RecordType):
        return ("record", tuple((name, describe(field)) for name, field in ty.fields))
    if isinstance(ty, _types.TupleType):
        return ("tuple", tuple(describe(element) for element in ty.elements))
    if isinstance(ty, _types.EnumType):
        return ("enum", tuple(ty.names))
    if isinstance(ty, _types.OptionType):
        return ("option", ty._tagged(), _cases(ty._cases()))
    if isinstance(ty, _types.ResultType):
        return ("result", ty._tagged(), _cases(ty._cases()))
    if isinstance(ty, _types.VariantType):
        return ("variant", ty._tagged(), _cases(ty._cases()))
    raise Unsupported(f"no C conversion for {type(ty).__name__}")


def describe_function(func_type: Any) -> tuple[tuple[Descriptor, ...], Descriptor | None]:
    """(parameter descriptors, result descriptor or None) of a wasmtime-py `FuncType`."""
    params = tuple(describe(ty) for _, ty in func_type.params)
    result = func_type.result
    return params, None if result is None else describe(result)
