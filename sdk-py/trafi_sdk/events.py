"""Business events: what a subscribed handler receives, and emitting the module's own.

Subscribe in the manifest (`"events": [{"event": "order.created", "mode": "async"}]`)
and in code with `@module.on("order.created")`. The handler gets an `Event`
whose `payload` is the typed record generated from the WIT (`OrderCreated`
with `order_id`, `total_cents`, `lines`, ...), or a dict for another module's
own event. Delivery is at-least-once: use `event.id` to act once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import _bindings
from .errors import from_wit


@dataclass(frozen=True)
class Event:
    """What an event handler gets: `id` (stable: act once per id), `type`, `tenant_id`,
    `occurred_at` (RFC 3339), `version`, `source` (`core` or the emitting module) and
    `payload` (the event's record, e.g. `OrderCreated`, or a dict for a module's own event).

        @module.on("order.created")
        def count(event: Event) -> None:
            log.info(f"order {event.payload.order_id} of {event.payload.total_cents} cents")
    """

    id: str
    type: str
    tenant_id: str
    occurred_at: str
    version: int
    source: str
    payload: Any


__all__ = ["emit"]


def from_wit_event(event: Any) -> Event:
    payload = event.payload.value
    if type(event.payload).__name__ == "Payload_Custom":
        payload = json.loads(payload)
    return Event(
        id=event.id,
        type=event.event_type,
        tenant_id=event.tenant_id,
        occurred_at=event.occurred_at,
        version=event.version,
        source=event.source,
        payload=payload,
    )


def emit(name: str, payload: dict[str, Any]) -> None:
    """Emit `<this module>.<name>` for the current tenant; modules may subscribe to it.

    `name` is lowercase letters, digits and `-`; `payload` a JSON object of at most 64 KiB
    (else `InvalidArgument` / `LimitExceeded`). It is delivered after the call commits.

        events.emit("review-posted", {"product": "p1", "rating": 5})  # -> reviews.review-posted
    """
    events = _bindings.require(_bindings.wit_events, "events")
    try:
        events.emit(name, json.dumps(payload))
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
