"""The shape every capability has: a WIT interface name and the host functions it links."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from wasmtime import component as wc

from ..version import WIT_VERSION
from .context import current_call

trace_log = logging.getLogger("trafi.hostcalls")
TRACE_HOSTCALLS = os.environ.get("TRAFI_TRACE_HOSTCALLS") == "1"


class Capability(Protocol):
    name: ClassVar[str]
    interface: ClassVar[str]  # e.g. "trafi:host/kv"

    def functions(self) -> dict[str, Callable[..., Any]]:
        """WIT function name to host implementation (`store` first, then WIT params)."""
        ...


def interface_id(capability: Capability, version: str = WIT_VERSION) -> str:
    return f"{capability.interface}@{version}"


def host_error(case: str, message: str) -> wc.Variant:
    """A WIT `host-error` value; returned, never raised, so the guest is not trapped."""
    return wc.Variant(case, message)


def hostcall(name: str, *, returns_result: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a host function: count it, trace it, and turn a host bug into `unavailable`.

    An exception escaping into wasmtime would trap the guest and poison the
    instance; a host-side failure is the host's problem, so it becomes an error
    value when the WIT signature has one, and a logged no-op otherwise.
    """

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def call(store: Any, *args: Any) -> Any:
            context = current_call()
            context.host_calls += 1
            if TRACE_HOSTCALLS:
                trace_log.info(
                    "hostcall %s module=%s tenant=%s args=%r",
                    name,
                    context.module,
                    context.tenant_id,
                    [a if not isinstance(a, bytes | bytearray) else f"<{len(a)} bytes>" for a in args],
                )
            try:
                return function(*args)
            except Exception as error:
                logging.getLogger("trafi.hostcalls").exception(
                    "host function %s failed for module %s", name, context.module
                )
                if returns_result:
                    return host_error("unavailable", f"{name}: {type(error).__name__}")
                return None

        return call

    return wrap
