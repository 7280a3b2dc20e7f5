"""`trafi:host/service-client`: one module calling another's services, `<module>.<service>`.

Only modules listed in the caller's manifest `dependencies` can be called, for
the caller's own tenant, within what is left of the caller's deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import (
    Capability,
    HostFunction,
    InstanceFacts,
    ServiceCaller,
    ServiceFailure,
    host_error,
    hostcall,
)
from ..call import current_call

MAX_DEPTH = 4
MAX_PAYLOAD = 1 << 20


@dataclass(frozen=True)
class ServicesState:
    dependencies: frozenset[str]  # the only modules whose services this one may call
    caller: ServiceCaller | None


class ServiceClientCapability(Capability[ServicesState]):
    name: ClassVar[str] = "service-client"
    interface: ClassVar[str | None] = "trafi:host/service-client"
    summary: ClassVar[str] = (
        "Call the services of modules listed in `dependencies`, for the same tenant, within the "
        "caller's deadline."
    )

    def prepare(self, facts: InstanceFacts) -> ServicesState:
        return ServicesState(facts.dependencies, facts.services)

    def functions(self) -> dict[str, HostFunction]:
        return {"call": hostcall("service-client.call", returns_result=True)(self.call)}

    def call(self, target: str, method: str, payload: str) -> Any:
        context = current_call()
        state = self.state(context)
        module, _, service = target.partition(".")
        if not module or not service:
            return host_error("invalid-argument", f"target {target!r} must be '<module>.<service>'")
        if module not in state.dependencies:
            context.denied(f"service-client: {target} is not a declared dependency")
            return host_error(
                "access-denied", f"{target}: module {module!r} is not in {context.module}'s dependencies"
            )
        if len(payload) > MAX_PAYLOAD:
            return host_error("limit-exceeded", f"payload larger than {MAX_PAYLOAD} bytes")
        if context.depth >= MAX_DEPTH:
            return host_error("limit-exceeded", f"service calls nested more than {MAX_DEPTH} deep")
        if state.caller is None:
            return host_error("unavailable", "no service caller in this host")
        deadline = context.deadline if context.deadline is not None else time.monotonic() + 5
        try:
            return state.caller.call_service(context, module, service, method, payload, deadline)
        except ServiceFailure as failure:
            return host_error(failure.case, str(failure))
