"""Who a host call is for: the (tenant, module) whose instance is running on this thread.

A Store serves one call at a time on one worker thread, and host functions run
synchronously on that thread, so a thread-local is exact and costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..manifest.model import Permissions
from .kv.backend import KvBackend


@dataclass
class CallContext:
    module: str
    module_version: str
    tenant_id: str
    grants: Permissions
    kv: KvBackend
    config: Mapping[str, Any] = field(default_factory=dict)
    host_calls: int = 0
    log_lines: int = 0  # in the current call
    # Told about every refused host call (an incident); set by the runtime.
    on_denied: Callable[[str], None] | None = None
    # `time.monotonic()` instant the current call must end by; host calls respect it.
    deadline: float | None = None
    # Modules this one declared in `dependencies`: the only ones whose services it may call.
    dependencies: frozenset[str] = frozenset()
    # How many service calls deep this call is (0: called by the host).
    depth: int = 0
    broker: Any = None  # a ServiceBroker; Any to keep this module free of imports
    core: Any = None  # the commerce core (commerce.service.Commerce) core services read
    event_sink: Any = None  # records module events (capabilities.events.host.EventSink)

    def denied(self, detail: str) -> None:
        if self.on_denied is not None:
            self.on_denied(detail)


_local = threading.local()


def current_call() -> CallContext:
    context: CallContext | None = getattr(_local, "context", None)
    if context is None:
        raise RuntimeError("host function called outside a module call")
    return context


@contextmanager
def bind_call(context: CallContext) -> Iterator[CallContext]:
    previous = getattr(_local, "context", None)
    _local.context = context
    try:
        yield context
    finally:
        _local.context = previous
