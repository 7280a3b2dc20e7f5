"""`trafi:host/events.emit`: a module's own events, `<module>.<name>`, for the calling tenant.

The event goes through the same outbox as the core's, so subscribers get it
with the same guarantees. The module cannot choose its namespace or tenant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..base import Capability, HostFunction, InstanceFacts, host_error, hostcall
from ..call import current_call

MAX_PAYLOAD = 64 << 10
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class EventSink(Protocol):
    def emit_module_event(self, tenant: str, module: str, name: str, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class EventsState:
    sink: EventSink | None


class EventsCapability(Capability[EventsState]):
    name: ClassVar[str] = "events"
    interface: ClassVar[str | None] = "trafi:host/events"
    summary: ClassVar[str] = (
        "Emit the module's own events (`<module>.<name>`) for the calling tenant, through the outbox; "
        "always granted. Subscriptions are the manifest's `events`."
    )

    def __init__(self, sink: EventSink | None = None) -> None:
        self.sink = sink

    def prepare(self, facts: InstanceFacts) -> EventsState:
        return EventsState(self.sink)

    def functions(self) -> dict[str, HostFunction]:
        return {"emit": hostcall("events.emit", returns_result=True)(self.emit)}

    def emit(self, name: str, payload: str) -> Any:
        context = current_call()
        if not _NAME.match(name):
            return host_error("invalid-argument", f"event name {name!r}: lowercase letters, digits and '-'")
        if len(payload) > MAX_PAYLOAD:
            return host_error("limit-exceeded", f"payload larger than {MAX_PAYLOAD} bytes")
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as error:
            return host_error("invalid-argument", f"payload is not JSON: {error.msg}")
        if not isinstance(data, dict):
            return host_error("invalid-argument", "payload must be a JSON object")
        sink = self.state(context).sink
        if sink is None:
            return host_error("unavailable", "this host does not record events")
        sink.emit_module_event(context.tenant_id, context.module, name, data)
        return None
