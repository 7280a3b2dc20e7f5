"""Python values to and from wasmtime's component `Record` values."""

from __future__ import annotations

from typing import Any

from wasmtime import component as wc


def record(**fields: Any) -> wc.Record:
    """A WIT record; snake_case keyword names become the kebab-case field names."""
    value = wc.Record()
    for name, field in fields.items():
        setattr(value, name.replace("_", "-"), field)
    return value


def field(value: Any, name: str) -> Any:
    return getattr(value, name.replace("_", "-"))
