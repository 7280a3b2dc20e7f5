"""`trafi:host/kv`: key-value state, scoped by the host to the calling tenant and module.

The module never names a tenant: the scope comes from the call context, so one
tenant's instance cannot read another's keys whatever key it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

from wasmtime import component as wc

from ...manifest.base import PermissionsBase
from ...wit_values import NotBytes, bytes_as_text, bytes_from_text, text_from_bytes
from ..base import Capability, HostFunction, InstanceFacts, PermissionSection, host_error, hostcall
from ..call import CallContext, current_call
from .backend import CounterOverflow, KvBackend, NotACounter
from .grant import KvGrant

MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 1 << 20
MAX_LIST = 10_000


@dataclass(frozen=True)
class KvState:
    granted: bool
    backend: KvBackend | None


class KvCapability(Capability[KvState]):
    name: ClassVar[str] = "kv"
    interface: ClassVar[str | None] = "trafi:host/kv"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "kv",
        KvGrant | None,
        "Key-value state scoped to the calling tenant and this module. "
        "Without it every `kv` call returns `access-denied`.",
    )
    gates_import: ClassVar[bool] = True
    summary: ClassVar[str] = "Key-value state, scoped by the host to the calling tenant and the module."

    def __init__(self, backend: KvBackend | None = None) -> None:
        self.backend = backend

    def grant(self, permissions: PermissionsBase) -> KvGrant | None:
        return cast("KvGrant | None", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        return {"kv": grant.reason} if grant is not None else {}

    def prepare(self, facts: InstanceFacts) -> KvState:
        return KvState(self.granted(facts.permissions), self.backend)

    def functions(self) -> dict[str, HostFunction]:
        return {
            "get": hostcall("kv.get", returns_result=True)(self.get),
            "set": hostcall("kv.set", returns_result=True)(self.set),
            "delete": hostcall("kv.delete", returns_result=True)(self.delete),
            "increment": hostcall("kv.increment", returns_result=True)(self.increment),
            "list-keys": hostcall("kv.list-keys", returns_result=True)(self.list_keys),
        }

    def functions_for(self, version: str) -> dict[str, HostFunction]:
        if not bytes_as_text(version):
            return self.functions()
        return {
            **self.functions(),
            "get": hostcall("kv.get", returns_result=True)(self.get_text),
            "set": hostcall("kv.set", returns_result=True)(self.set_text),
        }

    def _checked(self, key: str) -> tuple[CallContext, KvBackend] | wc.Variant:
        context = current_call()
        state = self.state(context)
        if not state.granted:
            message = f"module {context.module} has no 'kv' permission in its manifest"
            context.denied(f"kv: {message}")
            return host_error("access-denied", message)
        if state.backend is None:
            return host_error("unavailable", "this host has no key-value store")
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            return host_error("invalid-argument", f"key longer than {MAX_KEY_BYTES} bytes")
        return context, state.backend

    def get(self, key: str) -> Any:
        checked = self._checked(key)
        if isinstance(checked, wc.Variant):
            return checked
        context, kv = checked
        value = kv.get(context.tenant_id, context.module, key)
        if value is None:
            return host_error("not-found", f"no value for key {key!r}")
        return value

    def set(self, key: str, value: bytes) -> Any:
        checked = self._checked(key)
        if isinstance(checked, wc.Variant):
            return checked
        context, kv = checked
        if len(value) > MAX_VALUE_BYTES:
            return host_error("limit-exceeded", f"value larger than {MAX_VALUE_BYTES} bytes")
        kv.set(context.tenant_id, context.module, key, bytes(value))
        return None

    def get_text(self, key: str) -> Any:
        """`get` for world 0.3.0+: the value as a WIT `bytes` string."""
        value = self.get(key)
        return text_from_bytes(value) if isinstance(value, bytes) else value

    def set_text(self, key: str, value: str) -> Any:
        """`set` for world 0.3.0+: the value arrives as a WIT `bytes` string."""
        checked = self._checked(key)  # access first: a denied module learns nothing more
        if isinstance(checked, wc.Variant):
            return checked
        try:
            raw = bytes_from_text(value, f"the value for key {key!r}")
        except NotBytes as error:
            return host_error("invalid-argument", str(error))
        return self.set(key, raw)

    def delete(self, key: str) -> Any:
        checked = self._checked(key)
        if isinstance(checked, wc.Variant):
            return checked
        context, kv = checked
        return kv.delete(context.tenant_id, context.module, key)

    def increment(self, key: str, delta: int) -> Any:
        checked = self._checked(key)
        if isinstance(checked, wc.Variant):
            return checked
        context, kv = checked
        try:
            return kv.increment(context.tenant_id, context.module, key, delta)
        except NotACounter as error:
            return host_error("invalid-argument", str(error))
        except CounterOverflow as error:
            return host_error("limit-exceeded", str(error))

    def list_keys(self, prefix: str, limit: int) -> Any:
        checked = self._checked(prefix)
        if isinstance(checked, wc.Variant):
            return checked
        context, kv = checked
        return kv.list_keys(context.tenant_id, context.module, prefix, min(limit, MAX_LIST))
