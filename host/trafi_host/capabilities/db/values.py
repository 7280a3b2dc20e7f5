"""The WIT `db.value` variant to and from the Python values SQLAlchemy binds and returns."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from wasmtime import component as wc

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_VALUE_BYTES = 1 << 20


class UnstorableValue(ValueError):
    """A value the host cannot store (too large, not a value case)."""


def lift(value: Any) -> Any:
    """A guest `value` as the Python value to bind."""
    tag = getattr(value, "tag", None)
    payload: Any = getattr(value, "payload", None)
    if tag == "null":
        return None
    if tag == "timestamp":
        return (EPOCH + dt.timedelta(microseconds=int(payload))).replace(tzinfo=None)
    if tag in ("text", "bytes") and len(payload) > MAX_VALUE_BYTES:
        raise UnstorableValue(f"a {tag} value larger than {MAX_VALUE_BYTES} bytes")
    if tag == "bytes":
        return bytes(payload)
    if tag in ("boolean", "integer", "float", "text"):
        return payload
    raise UnstorableValue(f"not a db value: {tag!r}")


def lower(value: Any) -> wc.Variant:
    """A value read from the database as the WIT variant."""
    # The common types by exact type first: this runs for every value of every row.
    case = _CASES.get(type(value))
    if case is not None:
        return wc.Variant(case, value)
    if value is None:
        return wc.Variant("null")
    if isinstance(value, bool):
        return wc.Variant("boolean", value)
    if isinstance(value, int):
        return wc.Variant("integer", value)
    if isinstance(value, float | decimal.Decimal):
        return wc.Variant("float", float(value))
    if isinstance(value, str):
        return wc.Variant("text", value)
    if isinstance(value, bytes | bytearray | memoryview):
        return wc.Variant("bytes", bytes(value))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return wc.Variant("timestamp", (aware - EPOCH) // dt.timedelta(microseconds=1))
    if isinstance(value, dt.date):
        return lower(dt.datetime(value.year, value.month, value.day))
    return wc.Variant("text", str(value))


_CASES: dict[type, str] = {str: "text", int: "integer", float: "float", bool: "boolean", bytes: "bytes"}
