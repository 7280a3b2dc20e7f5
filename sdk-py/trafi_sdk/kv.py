"""Key-value state, scoped by the host to the calling tenant and this module.

Needs `permissions.kv` in the manifest (else `AccessDenied`). Keys are at most
512 bytes (`InvalidArgument`), values at most 1 MiB (`LimitExceeded`):

    from trafi_sdk import kv

    count = kv.increment("hits")
    kv.set_json("settings", {"theme": "dark"})
"""

from __future__ import annotations

import json
from typing import Any

from . import _bindings
from .errors import from_wit, is_not_found

__all__ = ["delete", "get", "get_json", "increment", "list_keys", "set", "set_json"]


def _kv() -> Any:
    return _bindings.require(_bindings.wit_kv, "kv")


def get(key: str) -> bytes | None:
    """The stored value, or None when the key is not set.

    Example:

        raw = kv.get("last-sync")
        synced = raw.decode() if raw is not None else "never"
    """
    try:
        value = _kv().get(key)
    except _bindings.WitErr as err:
        error = _bindings.error_value(err)
        # A missing key is an answer, not a failure: told without building the SDK's exception
        # for it (a handler that reads a counter not yet set pays this often).
        if is_not_found(error):
            return None
        raise from_wit(error) from None
    return _bindings.bytes_from_wit(value)


def set(key: str, value: bytes) -> None:
    """Stores `value` (bytes) under `key`, replacing what was there.

    Example:

        kv.set("last-sync", b"2026-01-01T00:00:00Z")
    """
    try:
        _kv().set(key, _bindings.bytes_to_wit(value))
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None


def delete(key: str) -> bool:
    """Removes `key`; True when it existed.

    Example:

        existed = kv.delete("session:abc")
    """
    try:
        existed: bool = _kv().delete(key)
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
    return existed


def increment(key: str, delta: int = 1) -> int:
    """Atomically adds `delta` to an integer counter (missing counts as 0); the new value.

    A value that is not a decimal integer is `InvalidArgument`; leaving the signed
    64-bit range is `LimitExceeded`. `increment(key, 0)` reads a counter.

        visits = kv.increment(f"visits:{customer}")
        current = kv.increment("stock", 0)
    """
    try:
        value: int = _kv().increment(key, delta)
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
    return value


def list_keys(prefix: str = "", limit: int = 1000) -> list[str]:
    """Keys starting with `prefix`, sorted, at most `limit` (the host caps it at 10,000).

    Example:

        for key in kv.list_keys("session:"):
            kv.delete(key)
    """
    try:
        keys: list[str] = _kv().list_keys(prefix, limit)
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
    return keys


def get_json(key: str, default: Any = None) -> Any:
    """The value decoded as JSON, or `default` when the key is not set.

    Example:

        settings = kv.get_json("settings", {})
    """
    raw = get(key)
    return default if raw is None else json.loads(raw.decode("utf-8"))


def set_json(key: str, value: Any) -> None:
    """Stores `value` as compact JSON.

    Example:

        kv.set_json("settings", {"theme": "dark", "limit": 20})
    """
    set(key, json.dumps(value, separators=(",", ":")).encode("utf-8"))
