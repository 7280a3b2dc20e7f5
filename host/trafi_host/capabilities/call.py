"""Who a host call is for: the (tenant, module) whose instance is running on this thread.

A Store serves one call at a time on one worker thread, and host functions run
synchronously on that thread, so a thread-local is exact and costs nothing.
The context carries each capability's prepared state (typed by the capability
that reads it: `Capability.state`), never a collaborator typed `Any`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class CallContext:
    module: str
    tenant_id: str
    # Capability name -> the state its `prepare` built for this instance.
    states: Mapping[str, object] = field(default_factory=dict)
    # Told about every refused host call (an incident).
    on_denied: Callable[[str], None] | None = None
    # Counts calls into the guest; per-call limits (log lines) reset when it moves.
    call_number: int = 0
    # `time.monotonic()` instant the current call must end by; host calls respect it.
    deadline: float | None = None
    # How many service calls deep this call is (0: called by the host).
    depth: int = 0
    # Set by a capability's `after_call`: the instance is retired after this call.
    recycle: bool = False

    def begin_call(self, deadline: float) -> None:
        self.call_number += 1
        self.deadline = deadline

    def state_of(self, capability: str) -> object:
        try:
            return self.states[capability]
        except KeyError:
            raise LookupError(
                f"capability {capability!r} is not prepared for module {self.module}: "
                "it is not in the runtime's capability list"
            ) from None

    def denied(self, detail: str) -> None:
        if self.on_denied is not None:
            self.on_denied(detail)


_local = threading.local()


def current_call() -> CallContext:
    context: CallContext | None = getattr(_local, "context", None)
    if context is None:
        raise RuntimeError("host function called outside a module call")
    return context


class bind_call:
    """Binds `context` to this thread for the host functions a guest call makes (nested calls
    restore the outer one). A class, not a generator: it wraps every guest call."""

    __slots__ = ("_context", "_previous")

    def __init__(self, context: CallContext) -> None:
        self._context = context
        self._previous: CallContext | None = None

    def __enter__(self) -> CallContext:
        self._previous = getattr(_local, "context", None)
        _local.context = self._context
        return self._context

    def __exit__(self, *exc_info: object) -> None:
        _local.context = self._previous
