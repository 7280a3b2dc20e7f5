"""Where the kv capability keeps values: the protocol and an in-memory backend.

The database backend is in `capabilities/kv/sql_store.py`; the in-memory one
serves the install-time trial start, which must leave no data behind.
"""

from __future__ import annotations

import threading
from typing import Protocol


class KvBackend(Protocol):
    def get(self, tenant: str, module: str, key: str) -> bytes | None: ...
    def set(self, tenant: str, module: str, key: str, value: bytes) -> None: ...
    def delete(self, tenant: str, module: str, key: str) -> bool: ...
    def increment(self, tenant: str, module: str, key: str, delta: int) -> int: ...
    def list_keys(self, tenant: str, module: str, prefix: str, limit: int) -> list[str]: ...


class NotACounter(ValueError):
    """`increment` on a value that is not a decimal integer."""


# A counter is a WIT s64: a value outside it would come back to the guest wrapped or trap.
COUNTER_MIN, COUNTER_MAX = -(1 << 63), (1 << 63) - 1


class CounterOverflow(ValueError):
    """`increment` would take a counter outside the signed 64-bit range; nothing is stored."""


def next_counter(value: bytes | None, delta: int, key: str) -> int:
    """The counter after adding `delta`, or CounterOverflow (the stored value is unchanged)."""
    result = parse_counter(value, key) + delta
    if not COUNTER_MIN <= result <= COUNTER_MAX:
        raise CounterOverflow(f"counter {key!r} would leave the signed 64-bit range")
    return result


def parse_counter(value: bytes | None, key: str) -> int:
    if value is None:
        return 0
    try:
        return int(value.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise NotACounter(f"value of {key!r} is not an integer counter") from None


class MemoryKv:
    def __init__(self) -> None:
        self._data: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str, module: str, key: str) -> bytes | None:
        return self._data.get((tenant, module, key))

    def set(self, tenant: str, module: str, key: str, value: bytes) -> None:
        self._data[(tenant, module, key)] = value

    def delete(self, tenant: str, module: str, key: str) -> bool:
        return self._data.pop((tenant, module, key), None) is not None

    def increment(self, tenant: str, module: str, key: str, delta: int) -> int:
        with self._lock:
            value = next_counter(self._data.get((tenant, module, key)), delta, key)
            self._data[(tenant, module, key)] = str(value).encode()
            return value

    def list_keys(self, tenant: str, module: str, prefix: str, limit: int) -> list[str]:
        keys = sorted(k for (t, m, k) in self._data if t == tenant and m == module and k.startswith(prefix))
        return keys[:limit]
