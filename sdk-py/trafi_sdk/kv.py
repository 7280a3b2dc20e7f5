"""Key-value state, scoped by the host to the calling tenant and this module."""

from __future__ import annotations

import json
from typing import Any

from . import _bindings
from .errors import NotFound, from_wit


def _kv() -> Any:
    return _bindings.require(_bindings.wit_kv, "kv")


def get(key: str) -> bytes | None:
    """The stored value, or None when the key is not set."""
    try:
        value: bytes = _kv().get(key)
    except _bindings.WitErr as err:
        error = from_wit(err.value)
        if isinstance(error, NotFound):
            return None
        raise error from None
    return value


def set(key: str, value: bytes) -> None:
    try:
        _kv().set(key, value)
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None


def delete(key: str) -> bool:
    try:
        existed: bool = _kv().delete(key)
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None
    return existed


def increment(key: str, delta: int = 1) -> int:
    try:
        value: int = _kv().increment(key, delta)
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None
    return value


def list_keys(prefix: str = "", limit: int = 1000) -> list[str]:
    try:
        keys: list[str] = _kv().list_keys(prefix, limit)
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None
    return keys


def get_json(key: str, default: Any = None) -> Any:
    raw = get(key)
    return default if raw is None else json.loads(raw.decode("utf-8"))


def set_json(key: str, value: Any) -> None:
    set(key, json.dumps(value, separators=(",", ":")).encode("utf-8"))
