"""`trafi:host/service-client`: one module calling another's services, `<module>.<service>`.

Only modules listed in the caller's manifest `dependencies` can be called, for
the caller's own tenant, within what is left of the caller's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from ..base import host_error, hostcall
from ..context import CallContext, current_call

MAX_DEPTH = 4
MAX_PAYLOAD = 1 << 20


class ServiceFailure(Exception):
    """Raised by a broker: `case` is the host-error case to return."""

    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


class ServiceBroker(Protocol):
    def call_service(
        self, caller: CallContext, module: str, service: str, method: str, payload: str, deadline: float
    ) -> str: ...


class ServiceClientCapability:
    name: ClassVar[str] = "service-client"
    interface: ClassVar[str] = "trafi:host/service-client"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"call": hostcall("service-client.call", returns_result=True)(self.call)}

    def call(self, target: str, method: str, payload: str) -> Any:
        context = current_call()
        module, _, service = target.partition(".")
        if not module or not service:
            return host_error("invalid-argument", f"target {target!r} must be '<module>.<service>'")
        if module not in context.dependencies:
            context.denied(f"service-client: {target} is not a declared dependency")
            return host_error(
                "access-denied", f"{target}: module {module!r} is not in {context.module}'s dependencies"
            )
        if len(payload) > MAX_PAYLOAD:
            return host_error("limit-exceeded", f"payload larger than {MAX_PAYLOAD} bytes")
        if context.depth >= MAX_DEPTH:
            return host_error("limit-exceeded", f"service calls nested more than {MAX_DEPTH} deep")
        if context.broker is None:
            return host_error("unavailable", "no service broker in this host")
        deadline = context.deadline if context.deadline is not None else time.monotonic() + 5
        try:
            return context.broker.call_service(context, module, service, method, payload, deadline)
        except ServiceFailure as failure:
            return host_error(failure.case, str(failure))
