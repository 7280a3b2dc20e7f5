"""`trafi:host/kv`: key-value state, scoped by the host to the calling tenant and module.

The module never names a tenant: the scope comes from the call context, so one
tenant's instance cannot read another's keys whatever key it asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from wasmtime import component as wc

from ..base import host_error, hostcall
from ..context import CallContext, current_call
from .backend import NotACounter

MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 1 << 20
MAX_LIST = 10_000


def _granted(key: str) -> tuple[CallContext | None, wc.Variant | None]:
    context = current_call()
    if context.grants.kv is None:
        message = f"module {context.module} has no 'kv' permission in its manifest"
        context.denied(f"kv: {message}")
        return None, host_error("access-denied", message)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return None, host_error("invalid-argument", f"key longer than {MAX_KEY_BYTES} bytes")
    return context, None


class KvCapability:
    name: ClassVar[str] = "kv"
    interface: ClassVar[str] = "trafi:host/kv"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "get": hostcall("kv.get", returns_result=True)(self.get),
            "set": hostcall("kv.set", returns_result=True)(self.set),
            "delete": hostcall("kv.delete", returns_result=True)(self.delete),
            "increment": hostcall("kv.increment", returns_result=True)(self.increment),
            "list-keys": hostcall("kv.list-keys", returns_result=True)(self.list_keys),
        }

    def get(self, key: str) -> Any:
        context, denied = _granted(key)
        if context is None:
            return denied
        value = context.kv.get(context.tenant_id, context.module, key)
        if value is None:
            return host_error("not-found", f"no value for key {key!r}")
        return value

    def set(self, key: str, value: bytes) -> Any:
        context, denied = _granted(key)
        if context is None:
            return denied
        if len(value) > MAX_VALUE_BYTES:
            return host_error("limit-exceeded", f"value larger than {MAX_VALUE_BYTES} bytes")
        context.kv.set(context.tenant_id, context.module, key, bytes(value))
        return None

    def delete(self, key: str) -> Any:
        context, denied = _granted(key)
        if context is None:
            return denied
        return context.kv.delete(context.tenant_id, context.module, key)

    def increment(self, key: str, delta: int) -> Any:
        context, denied = _granted(key)
        if context is None:
            return denied
        try:
            return context.kv.increment(context.tenant_id, context.module, key, delta)
        except NotACounter as error:
            return host_error("invalid-argument", str(error))

    def list_keys(self, prefix: str, limit: int) -> Any:
        context, denied = _granted(prefix)
        if context is None:
            return denied
        return context.kv.list_keys(context.tenant_id, context.module, prefix, min(limit, MAX_LIST))
