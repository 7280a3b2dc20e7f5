"""`events.emit` refuses what is not a proper module event, and records the rest in the module's name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.events.host import MAX_PAYLOAD, EventsCapability


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, dict[str, Any]]] = []

    def emit_module_event(self, tenant: str, module: str, name: str, payload: dict[str, Any]) -> None:
        self.events.append((tenant, module, name, payload))


def emit(name: str, payload: str, sink: Sink | None) -> Any:
    capability = EventsCapability(sink)
    return call_host_function(capability, capability.emit, name, payload)


def test_an_event_is_recorded_for_the_calling_module_and_tenant() -> None:
    sink = Sink()
    assert emit("noticed", '{"sku": "MUG-1"}', sink) is None
    assert sink.events == [("acme", "listener", "noticed", {"sku": "MUG-1"})]


@pytest.mark.parametrize(
    ("name", "payload", "case", "needle"),
    [
        ("Noticed", "{}", "invalid-argument", "lowercase"),
        ("order.created", "{}", "invalid-argument", "lowercase"),  # no dots: no other namespace
        ("noticed", "[1, 2]", "invalid-argument", "JSON object"),
        ("noticed", "{not json", "invalid-argument", "not JSON"),
        ("noticed", '{"x": "' + "a" * MAX_PAYLOAD + '"}', "limit-exceeded", "larger than"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_recorded(
    name: str, payload: str, case: str, needle: str
) -> None:
    sink = Sink()
    result = emit(name, payload, sink)
    assert (result.tag, needle in result.payload) == (case, True), result.payload
    assert sink.events == []


def test_without_an_outbox_the_call_says_so() -> None:
    result = emit("noticed", "{}", None)
    assert result.tag == "unavailable"
