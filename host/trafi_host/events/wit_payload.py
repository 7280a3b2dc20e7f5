"""An outbox event as the WIT `event` record a module's `event-handler` receives."""

from __future__ import annotations

import json
from typing import Any

from wasmtime import component as wc

from ..wit_values import record
from .catalogue import EVENTS
from .outbox import Event

# `order.status-changed` -> the `payload` variant case `order-status-changed`.
CASES = {name: name.replace(".", "-") for name, event in EVENTS.items() if event.wit_case}


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return record(**{key: _value(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def event_record(event: Event) -> wc.Record:
    case = CASES.get(event.type)
    if case is None:
        payload = wc.Variant("custom", json.dumps(event.payload, separators=(",", ":")))
    else:
        payload = wc.Variant(case, _value(event.payload))
    return record(
        id=event.id,
        event_type=event.type,
        tenant_id=event.tenant,
        occurred_at=event.occurred_at.isoformat(),
        version=event.version,
        source=event.source,
        payload=payload,
    )
